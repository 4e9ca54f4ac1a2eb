/**
 * Sparse files in pax archives, as GNU tar writes them with --sparse
 * under --format=posix (its "1.0" sparse format): pax records
 * GNU.sparse.major=1, GNU.sparse.minor=0, GNU.sparse.name (the real
 * path) and GNU.sparse.realsize; the entry's data begins with a map (the
 * number of regions, then each region's offset and length, one decimal
 * per line, padded to a block) followed by the regions' bytes.
 */
import { BLOCK } from './header.js';

export interface SparseRegion {
	offset: bigint;
	length: bigint;
}

/**
 * The map block(s) for @map.  A file that ends in a hole gets a last
 * region of length 0 at its end, as GNU tar writes it, so that readers
 * know the real size from the map alone.
 */
export function encodeSparseMap(map: SparseRegion[], realSize: bigint): Buffer {
	const regions = [...map];
	const last = regions[regions.length - 1];
	if (!last || last.offset + last.length < realSize)
		regions.push({ offset: realSize, length: 0n });
	const text = [String(regions.length), ...regions.flatMap((r) => [String(r.offset), String(r.length)])].join('\n') + '\n';
	const padded = Math.ceil(text.length / BLOCK) * BLOCK;
	const out = Buffer.alloc(padded);
	out.write(text, 'ascii');
	return out;
}

/**
 * Reads a map from the start of an entry's data: @next gives one block at
 * a time.  Returns the regions (the zero-length end marker left out) and
 * how many bytes of data the map took.
 */
export async function decodeSparseMap(next: () => Promise<Buffer | null>): Promise<{ map: SparseRegion[]; bytes: number }> {
	let text = '';
	let bytes = 0;
	const numbers: bigint[] = [];
	let want = -1;
	while (want < 0 || numbers.length < 1 + 2 * want) {
		const block = await next();
		if (!block)
			throw new Error('a sparse file\'s map is cut short');
		bytes += block.length;
		text += block.toString('latin1');
		const lines = text.split('\n');
		text = lines.pop() ?? '';
		for (const line of lines) {
			if (want >= 0 && numbers.length >= 1 + 2 * want)
				break;
			if (!/^\d+$/.test(line))
				throw new Error('a damaged sparse file map');
			numbers.push(BigInt(line));
			if (numbers.length === 1)
				want = Number(numbers[0]);
		}
		if (bytes > 64 << 20)
			throw new Error('a sparse file map larger than 64 MiB');
	}
	const map: SparseRegion[] = [];
	for (let i = 0; i < want; i++) {
		const region = { offset: numbers[1 + 2 * i], length: numbers[2 + 2 * i] };
		if (region.length > 0n)
			map.push(region);
	}
	return { map, bytes };
}
