// SPDX-License-Identifier: GPL-2.0
//
// Labels and UUIDs of the other filesystems (src/image/probe-ids.ts), no
// kernel: structures crafted as the formats document them read back, and
// hostile bytes behind each format's magic give a type and never an
// exception or a read outside the volume.  (test/cli/info.test.mjs checks
// real images made by each mkfs against blkid.)
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { bufferSource } from '../../dist/src/image/byte-source.js';
import { probe } from '../../dist/src/image/probe.js';

const MAGICS = {
	ntfs: [3, Buffer.from('NTFS    ', 'latin1')],
	exfat: [3, Buffer.from('EXFAT   ', 'latin1')],
	erofs: [1024, Buffer.from([0xe2, 0xe1, 0xf5, 0xe0])],
	jfs: [32768, Buffer.from('JFS1', 'latin1')],
	udf: [32769, Buffer.from('BEA01', 'latin1')],
	iso9660: [32769, Buffer.from('CD001', 'latin1')],
};

/** A source that fails the test on a read outside its @size bytes. */
function strictSource(t, bytes) {
	const inner = bufferSource(bytes);
	return {
		size: inner.size,
		read(offset, length) {
			if (offset < 0 || offset + length > inner.size)
				t.fail(`a read at ${offset} of ${length} bytes, outside the volume`);
			return inner.read(offset, length);
		},
	};
}

t.test('hostile bytes behind each magic: a type, never an exception', async (t) => {
	for (const [type, [at, magic]] of Object.entries(MAGICS)) {
		for (let i = 0; i < 100; i++) {
			const img = randomBytes(1 << 20);
			// A second ISO descriptor sector must not turn UDF's or ISO's
			// random sectors into something else: only the magic is set.
			magic.copy(img, at);
			if (type === 'iso9660')
				img[32768] = 1;
			const got = await probe(strictSource(t, img), 0, img.length);
			if (got?.type !== type) {
				t.fail(`${type}: probed as ${got?.type}`);
				break;
			}
		}
	}
	t.pass('every image probed as its magic says');
});

t.test('exFAT: the serial, and the label entry of the root directory', async (t) => {
	const img = Buffer.alloc(1 << 20);
	MAGICS.exfat[1].copy(img, 3);
	img.writeUInt32LE(64, 88);		// cluster heap at sector 64
	img.writeUInt32LE(4, 96);		// root directory: cluster 4
	img.writeUInt32LE(0x12ab34cd, 100);	// serial
	img[108] = 9;				// 512-byte sectors
	img[109] = 3;				// 8 sectors a cluster
	const root = 64 * 512 + (4 - 2) * 4096;
	img[root] = 0x81;			// an allocation bitmap entry first
	img[root + 32] = 0x83;
	img[root + 33] = 5;
	Buffer.from('Clé 1', 'utf16le').copy(img, root + 34);
	t.same(await probe(bufferSource(img), 0, img.length), { type: 'exfat', label: 'Clé 1', uuid: '12AB-34CD', mountable: true });
});

t.test('ISO 9660: the Joliet name wins over the primary descriptor\'s; the creation time is the UUID', async (t) => {
	const img = Buffer.alloc(64 * 2048);
	const pvd = 16 * 2048, svd = 17 * 2048, end = 18 * 2048;
	img[pvd] = 1;
	img.write('CD001', pvd + 1, 'latin1');
	img.write('ETIQUETTE'.padEnd(32), pvd + 40, 'latin1');
	img.write('2026120801020304', pvd + 813, 'latin1');
	img[svd] = 2;
	img.write('CD001', svd + 1, 'latin1');
	img.write('%/E', svd + 88, 'latin1');
	const name = Buffer.from('Étiquette', 'utf16le').swap16();
	name.copy(img, svd + 40);
	img[end] = 255;
	img.write('CD001', end + 1, 'latin1');
	t.same(await probe(bufferSource(img), 0, img.length),
		{ type: 'iso9660', label: 'Étiquette', uuid: '2026-12-08-01-02-03-04', mountable: true });
});

t.test('NTFS: a damaged $Volume record gives the serial alone', async (t) => {
	const img = Buffer.alloc(1 << 20);
	MAGICS.ntfs[1].copy(img, 3);
	img.writeUInt16LE(512, 11);
	img[13] = 8;
	img.writeBigUInt64LE(4n, 48);		// the MFT at cluster 4
	img.writeInt8(-10, 64);			// 1 KiB records
	img.writeBigUInt64LE(0x0123456789abcdefn, 72);
	const rec = 4 * 4096 + 3 * 1024;
	img.write('FILE', rec, 'latin1');
	img.writeUInt16LE(1000, 4 + rec);	// an update sequence past the record's end
	img.writeUInt16LE(3, 6 + rec);
	t.same(await probe(bufferSource(img), 0, img.length), { type: 'ntfs', uuid: '0123456789ABCDEF', mountable: true });
});
