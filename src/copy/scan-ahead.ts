/**
 * Directory scans started ahead of the walk that needs them.  The copy
 * engine walks depth first and, without this, waited for each directory's
 * scan (a trip through the thread pool into a kernel) while the sink sat
 * idle, then wrote while the kernel sat idle.  Scans are started in the
 * walk's own order, at most `window` of them done or running before the
 * walk takes them, which bounds the memory their small files' contents
 * hold.
 */
import { checkName } from './names.js';
import type { ScannedNode, SourceTree } from './tree.js';

/** Resolves to the scan's result or its error, and never rejects. */
type Settled = Promise<{ nodes: ScannedNode[] } | { error: unknown }>;

export class ScanAhead {
	readonly #source: SourceTree;
	readonly #contents: boolean;
	readonly #window: number;
	/** Directories the walk will reach, the next one last. */
	readonly #planned: Buffer[] = [];
	/** Scans started and not yet taken, by path. */
	readonly #started = new Map<string, Settled>();

	/** @window 0 scans each directory only as the walk reaches it. */
	constructor(source: SourceTree, contents: boolean, window: number) {
		this.#source = source;
		this.#contents = contents;
		this.#window = window;
	}

	/** The walk will go through @dirs next, in this order, before anything it planned earlier. */
	plan(dirs: Buffer[]): void {
		for (let i = dirs.length - 1; i >= 0; i--)
			this.#planned.push(dirs[i]);
		this.#fill();
	}

	/**
	 * @dir's entries in byte order of their names.  A name no directory
	 * should hold (a crafted image's "../x") is refused here, before any
	 * sink joins it into a path.
	 */
	async children(dir: Buffer): Promise<ScannedNode[]> {
		const key = dir.toString('latin1');
		const started = this.#started.get(key);
		this.#started.delete(key);
		this.#fill();
		const result = await (started ?? this.#scan(dir));
		if ('error' in result)
			throw result.error;
		return result.nodes;
	}

	#fill(): void {
		while (this.#started.size < this.#window && this.#planned.length > 0) {
			const dir = this.#planned.pop() as Buffer;
			const key = dir.toString('latin1');
			if (!this.#started.has(key))
				this.#started.set(key, this.#scan(dir));
		}
	}

	async #scan(dir: Buffer): Settled {
		try {
			const nodes = this.#source.scan
				? await this.#source.scan(dir, this.#contents)
				: (await this.#source.list(dir)).map((name) => ({ name }));
			for (const node of nodes)
				checkName(node.name);
			return { nodes: nodes.sort((a, b) => Buffer.compare(a.name, b.name)) };
		} catch (error) {
			return { error };
		}
	}
}
