/**
 * `lkl info` as text: a heading for the disk, then one aligned row per
 * partition (or one for the whole disk), lsblk -f's columns with df -h's
 * beside them, and the operating system or the reason a volume could not
 * be read on a line under its row.
 */
import { printable } from '../cli/printable.js';
import { humanSize } from './human-size.js';
import type { ImageInfo, VolumeInfo } from './info.js';

const HEADINGS = ['PART', 'START', 'SIZE', 'TYPE', 'NAME', 'FSTYPE', 'LABEL', 'UUID', 'USED', 'AVAIL', 'USE%'] as const;
/** Columns of numbers, aligned to the right. */
const RIGHT = new Set(['START', 'SIZE', 'USED', 'AVAIL', 'USE%']);

/** Used as df counts it: of what the filesystem lets users have, rounded up. */
function usePercent(v: VolumeInfo): string {
	const u = v.usage;
	if (!u || u.used + u.available === 0)
		return '';
	return `${Math.ceil((u.used * 100) / (u.used + u.available))}%`;
}

function row(v: VolumeInfo, diskSize: number): string[] {
	const p = v.partition;
	const fs = v.filesystem;
	const cells = [
		p ? String(p.number) : '-',
		p ? humanSize(p.start) : '',
		humanSize(p ? p.size : diskSize),
		p ? p.typeName ?? p.type : '',
		p?.name ?? '',
		fs?.type ?? '',
		fs?.label ?? '',
		fs?.uuid ?? '',
		v.usage ? humanSize(v.usage.used) : '',
		v.usage ? humanSize(v.usage.available) : '',
		usePercent(v),
	];
	return cells.map(printable);
}

function heading(info: ImageInfo): string {
	const t = info.table;
	const what = !t ? 'no partition table'
		: `${t.type === 'gpt' ? `GPT, disk GUID ${t.id}` : `MBR, disk id ${t.id}`}, ` +
			`${info.volumes.length} partition${info.volumes.length === 1 ? '' : 's'}`;
	return `${printable(info.image)}: ${humanSize(info.size)}, ${what}`;
}

/** The text `lkl info` prints, every line ending in a newline. */
export function infoText(info: ImageInfo): string {
	const lines = [heading(info)];
	for (const problem of info.table?.problems ?? [])
		lines.push(`warning: ${printable(problem)}`);
	if (!info.volumes.length) {
		lines.push('(no partitions)');
		return `${lines.join('\n')}\n`;
	}
	lines.push('');

	const rows = info.volumes.map((v) => row(v, info.size));
	// A column nobody has anything in is left out (NAME on an MBR disk, TYPE for a whole disk).
	const shown = HEADINGS.map((_, i) => rows.some((r) => r[i] !== ''));
	const widths = HEADINGS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const format = (cells: readonly string[]): string => cells
		.map((c, i) => (RIGHT.has(HEADINGS[i]!) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
		.filter((_, i) => shown[i])
		.join('  ')
		.trimEnd();

	lines.push(format(HEADINGS));
	info.volumes.forEach((v, i) => {
		lines.push(format(rows[i]!));
		const indent = ' '.repeat(widths[0]! + 2);
		if (v.os)
			lines.push(`${indent}os: ${printable(v.os.prettyName)}`);
		if (v.error)
			lines.push(`${indent}${printable(v.error)}`);
	});
	return `${lines.join('\n')}\n`;
}
