/**
 * The progress line: entries and bytes done of the total, with throughput.
 * Shown with ora on a terminal; silent otherwise or with -q.  ora and its
 * dependencies load only when shown: in a pipeline they would add a tenth
 * of a second to every run for nothing.
 */
import type { Ora } from 'ora';
import type { CopyEvents } from '../copy/tree.js';
import { printable } from './printable.js';

export interface ProgressOptions {
	quiet?: boolean;
	stream?: NodeJS.WriteStream;
}

function human(bytes: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let n = bytes, i = 0;
	while (n >= 1024 && i < units.length - 1) {
		n /= 1024;
		i++;
	}
	return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** How a command's copy reports to its progress line. */
export interface CountingOptions {
	/** List each entry (-v) through `log`. */
	verbose?: boolean;
	/** Where -v lines go (default: above the progress line). */
	log?: (line: string) => void;
	/** Stop the copy, at the next entry or chunk, once this is aborted. */
	signal?: AbortSignal;
}

export class Progress {
	readonly #spinner: Ora | undefined;
	readonly #started = Date.now();
	#timer: NodeJS.Timeout | undefined;
	entries = 0;
	bytes = 0;
	totalEntries: number | undefined;
	totalBytes: number | undefined;

	private constructor(spinner: Ora | undefined) {
		this.#spinner = spinner;
		if (!spinner)
			return;
		this.#timer = setInterval(() => this.#render(), 200);
		this.#timer.unref();
	}

	static async open(label: string, options: ProgressOptions = {}): Promise<Progress> {
		const stream = options.stream ?? process.stderr;
		// A terminal of zero columns (a pty nobody sized) makes ora loop.
		if (options.quiet || !stream.isTTY || !stream.columns)
			return new Progress(undefined);
		const { default: ora } = await import('ora');
		// discardStdin would put a terminal's stdin in raw mode, which cptofs --tar - reads.
		return new Progress(ora({ text: label, stream, discardStdin: false }).start());
	}

	/** Whether anything is shown (so a total is worth computing). */
	get visible(): boolean {
		return this.#spinner !== undefined;
	}

	#render(): void {
		if (!this.#spinner)
			return;
		const seconds = Math.max((Date.now() - this.#started) / 1000, 0.001);
		const of = (n: number, total: number | undefined, fmt: (x: number) => string) =>
			total === undefined ? fmt(n) : `${fmt(n)}/${fmt(total)}`;
		this.#spinner.text = `${of(this.entries, this.totalEntries, String)} entries, ` +
			`${of(this.bytes, this.totalBytes, human)}, ${human(this.bytes / seconds)}/s`;
	}

	/** Sets the totals from a measurement, if anything is shown. */
	async measure(count: () => Promise<{ entries: number; bytes: number }>): Promise<void> {
		if (!this.visible)
			return;
		const total = await count();
		this.totalEntries = total.entries;
		this.totalBytes = total.bytes;
	}

	/**
	 * The copy engine's entry and bytes events for a command: they count
	 * into `entries` and `bytes` (the command's result too), list entries
	 * with -v, and stop the copy once the signal is aborted.
	 */
	counting(options: CountingOptions = {}): Required<Pick<CopyEvents, 'entry' | 'bytes'>> {
		const { verbose, signal } = options;
		const log = options.log ?? ((line: string) => this.log(line));
		return {
			entry: (path) => {
				signal?.throwIfAborted();
				this.entries++;
				if (verbose)
					log(path.length ? path.toString() : '.');
			},
			bytes: (n) => {
				signal?.throwIfAborted();
				this.bytes += n;
			},
		};
	}

	/**
	 * Print a line (a -v entry, a warning) without garbling the spinner;
	 * what names in it could do to a terminal is written out (printable.ts).
	 */
	log(text: string, stream: NodeJS.WritableStream = process.stderr): void {
		const line = printable(text);
		if (this.#spinner) {
			this.#spinner.clear();
			stream.write(`${line}\n`);
			this.#spinner.render();
		} else {
			stream.write(`${line}\n`);
		}
	}

	stop(): void {
		if (this.#timer)
			clearInterval(this.#timer);
		this.#spinner?.stop();
	}
}
