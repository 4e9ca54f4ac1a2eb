/**
 * CRC-32 (the IEEE 802.3 polynomial, as in zlib and PNG), which GPT uses
 * for its header and its entry array.
 */
import * as zlib from 'node:zlib';

// node:zlib has crc32 from Node 20.15 on; package.json allows any Node 20,
// so older ones get this table-driven one (same polynomial, same result).
const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
	if (table)
		return table;
	table = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		table[n] = c >>> 0;
	}
	return table;
}

/** The CRC-32 of @data in our own table, whatever node:zlib has (for tests). */
export function crc32Portable(data: Uint8Array): number {
	const t = crcTable();
	let c = 0xffffffff;
	for (let i = 0; i < data.length; i++)
		c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

/** The CRC-32 of @data, as an unsigned 32-bit number. */
export function crc32(data: Uint8Array): number {
	return native ? native(data) >>> 0 : crc32Portable(data);
}
