// The benchmark tree, the same for bench/copy.mjs and bench/fuse.mjs.
import { createCipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { q, sh } from './lib.mjs';

/** A deterministic byte stream: AES-128-CTR of zeros under a key from `seed`. */
export function cipher(seed) {
	const key = createHash('sha256').update(seed).digest().subarray(0, 16);
	return createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
}

/** `size` deterministic bytes. */
export const bytes = (seed, size) => cipher(seed).update(Buffer.alloc(size));

/**
 * 60 directories of 100 files (0 to 64 KiB, by a fixed formula), 8 files
 * of 16 MiB, 100 symlinks and 50 hard links; mtimes fixed.
 */
export function makeTree(root) {
	const done = join(root, '.done');
	if (fs.existsSync(done))
		return JSON.parse(fs.readFileSync(done, 'utf8'));
	fs.rmSync(root, { recursive: true, force: true });
	let files = 0, total = 0;
	for (let d = 0; d < 60; d++) {
		const dir = join(root, `d${String(d % 10).padStart(2, '0')}`, `e${Math.floor(d / 10)}`);
		fs.mkdirSync(dir, { recursive: true });
		for (let f = 0; f < 100; f++) {
			const i = d * 100 + f;
			const size = (i * 7919) % 65537;
			fs.writeFileSync(join(dir, `f${String(f).padStart(3, '0')}.dat`), bytes(`small ${i}`, size));
			files++;
			total += size;
		}
	}
	fs.mkdirSync(join(root, 'big'));
	for (let b = 0; b < 8; b++) {
		const size = 16 << 20;
		fs.writeFileSync(join(root, 'big', `big${b}.bin`), bytes(`big ${b}`, size));
		files++;
		total += size;
	}
	fs.mkdirSync(join(root, 'links'));
	for (let l = 0; l < 100; l++)
		fs.symlinkSync(`../d${String(l % 10).padStart(2, '0')}/e0/f${String(l).padStart(3, '0')}.dat`, join(root, 'links', `s${l}`));
	for (let h = 0; h < 50; h++)
		fs.linkSync(join(root, 'd00/e0', `f${String(h).padStart(3, '0')}.dat`), join(root, 'links', `h${h}`));
	sh(`find ${q(root)} -exec touch -h -d @1700000000.123456789 {} +`);
	const info = { files, bytes: total, entries: Number(sh(`find ${q(root)} | wc -l`).trim()) - 1 };
	fs.writeFileSync(done, JSON.stringify(info));
	return info;
}
