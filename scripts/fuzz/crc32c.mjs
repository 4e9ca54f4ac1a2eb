// SPDX-License-Identifier: GPL-2.0
// CRC-32C (Castagnoli), the checksum btrfs and XFS keep in their metadata.
// crc32c(buf, crc) continues a running value: pass the previous result to
// checksum a region in pieces.  The raw value (no final inversion) is what
// each filesystem then stores in its own way; see checksums.mjs.

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
	let c = n;
	for (let k = 0; k < 8; k++)
		c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
	TABLE[n] = c;
}

/** The running CRC-32C of `buf` from `crc` (0xffffffff to start), uninverted. */
export function crc32c(buf, crc = 0xffffffff) {
	for (let i = 0; i < buf.length; i++)
		crc = TABLE[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
	return crc >>> 0;
}
