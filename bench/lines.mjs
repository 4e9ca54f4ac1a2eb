// A benchmark "line": one lkl command and its references, timed in turn
// (rounds in a rotating order, so that drift hits them alike), with the
// cache prepared before every run and lkl's peak RSS read; then each
// reference's ratio against a goal.  Shared by copy.mjs and mkimage.mjs.
import * as fs from 'node:fs';
import { median, prepare, readRss, sh, timed } from './lib.mjs';

/**
 * `reps` rounds per line; `rssFile` is where withRss leaves lkl's peak.
 * Returns { line, compare, rows }: `rows` collects compare()'s results.
 */
export function lineRunner({ reps, rssFile }) {
	/**
	 * Times one line.  An entry: { name, run, setup, cleanup, lkl } (shell
	 * commands; `lkl` entries' runs carry withRss).  `inputs` reads the
	 * line's input into the page cache (warm only).
	 */
	function line(label, cache, inputs, entries) {
		const times = entries.map(() => []);
		const rss = entries.map(() => []);
		for (let i = 0; i < reps; i++) {
			for (let k = 0; k < entries.length; k++) {
				const j = (i + k) % entries.length, e = entries[j];
				if (e.setup)
					sh(e.setup);
				prepare(cache, { inputs });
				fs.rmSync(rssFile, { force: true });
				const s = timed(() => sh(e.run));
				times[j].push(s);
				const m = e.lkl ? readRss(rssFile) : NaN;
				if (e.lkl)
					rss[j].push(m);
				if (e.cleanup)
					sh(e.cleanup);
				process.stderr.write(`  ${label}: ${e.name} ${s.toFixed(2)} s${e.lkl ? `, ${m.toFixed(0)} MiB` : ''}\n`);
			}
		}
		return entries.map((e, j) => ({ ...e, times: times[j], median: median(times[j]), rss: Math.max(...rss[j]) }));
	}

	const rows = [];

	/**
	 * Times a line and keeps a row per goal: { ref: the reference's name,
	 * max: the ratio lkl / reference to stay under, or undefined (no goal) }.
	 * `key` names the line: { tree, fs, task }.
	 */
	function compare(key, cache, inputs, entries, goals) {
		const label = `${key.tree} ${cache} ${key.fs} ${key.task}`;
		process.stderr.write(`${label}\n`);
		const res = line(label, cache, inputs, entries);
		const l = res.find((r) => r.lkl);
		for (const g of goals) {
			const r = res.find((x) => x.name === g.ref);
			const ratio = l.median / r.median;
			const met = g.max === undefined ? '' : ratio <= g.max ? 'yes' : 'no';
			rows.push({ ...key, cache, lkl: l, ref: r, ratio, goal: g.max === undefined ? '' : `≤ ${g.max}×`, met });
			process.stderr.write(`= ${label}: lkl ${l.median.toFixed(2)} s, ${r.name} ${r.median.toFixed(2)} s, ratio ${ratio.toFixed(2)}` +
				`${met ? ` (goal ≤ ${g.max}: ${met === 'yes' ? 'met' : 'NOT met'})` : ''}\n`);
		}
	}

	return { line, compare, rows };
}

const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
/** A cell of a Markdown table: the pipes in tasks' and tools' names escaped. */
export const cell = (x) => String(x).replaceAll('|', '\\|');
/** A run's times, as a table cell lists them. */
export const runs = (xs) => xs.map((s) => s.toFixed(2)).join(', ');

/** The head of the table that tableRow() fills. */
export const TABLE_HEAD = [
	'| tree | cache | fs | task | lkl median (s) | lkl peak RSS (MiB) | reference | reference median (s) | ratio | goal | met? | lkl runs (s) | reference runs (s) |',
	'| --- | --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- | --- | --- | --- |',
];

/** One of compare()'s rows as a line of a Markdown table. */
export const tableRow = (r) =>
	`| ${r.tree} | ${r.cache} | ${r.fs} | ${cell(r.task)} | ${f2(r.lkl.median)} | ${f0(r.lkl.rss)} | ${cell(r.ref.name)} | ` +
	`${f2(r.ref.median)} | ${f2(r.ratio)} | ${r.goal} | ${r.met} | ${runs(r.lkl.times)} | ${runs(r.ref.times)} |`;
