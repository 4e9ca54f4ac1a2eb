// SPDX-License-Identifier: GPL-2.0
//
// Partition tables (src/image), no kernel: tables made by sfdisk and
// sgdisk read back field by field as `sfdisk --json` reports them, tables
// we build read back by us and accepted by sfdisk and sgdisk, damaged and
// crafted tables.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bufferSource } from '../../dist/src/image/byte-source.js';
import { crc32, crc32Portable } from '../../dist/src/image/crc32.js';
import { readGuid, writeGuid } from '../../dist/src/image/guid.js';
import {
	PartitionTableError, buildGpt, buildMbr, readPartitionTable,
} from '../../dist/src/image/partition-table.js';
import { run, tempDir } from '../helpers/tree.mjs';

const MiB = 1 << 20;
const dir = tempDir(t);
let serial = 0;

/** A sparse file of @mib MiB, partitioned by sfdisk from @script. */
function sfdiskImage(mib, script) {
	const img = join(dir, `sfdisk-${serial++}.img`);
	run('truncate', ['-s', `${mib}M`, img]);
	run('sfdisk', ['-q', img], { input: script });
	return img;
}

function sfdiskJson(img) {
	return JSON.parse(run('sfdisk', ['--json', img])).partitiontable;
}

async function readImage(img) {
	return readPartitionTable(bufferSource(fs.readFileSync(img)));
}

/** sfdisk's words for GPT attribute bits. */
function sfdiskAttrs(bits) {
	const words = [];
	if (bits & 1n)
		words.push('RequiredPartition');
	if (bits & 2n)
		words.push('NoBlockIOProtocol');
	if (bits & 4n)
		words.push('LegacyBIOSBootable');
	const guid = [];
	for (let b = 48n; b < 64n; b++)
		if (bits & (1n << b))
			guid.push(String(b));
	if (guid.length)
		words.push(`GUID:${guid.join(',')}`);
	return words.length ? words.join(' ') : undefined;
}

/** Our table against sfdisk's report of it, field by field. */
function sameAsSfdisk(t, ours, img) {
	const theirs = sfdiskJson(img);
	t.equal(ours.type, theirs.label === 'dos' ? 'mbr' : theirs.label, 'label');
	t.equal(ours.id, theirs.id.toLowerCase(), 'disk id');
	t.equal(ours.sectorSize, theirs.sectorsize, 'sector size');
	if (ours.gpt) {
		t.equal(ours.gpt.firstUsableLba, theirs.firstlba, 'first usable sector');
		t.equal(ours.gpt.lastUsableLba, theirs.lastlba, 'last usable sector');
	}
	t.equal(ours.partitions.length, theirs.partitions.length, 'partition count');
	for (const [i, p] of theirs.partitions.entries()) {
		const o = ours.partitions[i];
		const what = `partition ${p.node}`;
		t.equal(`${img}${o.number}`, p.node, `${what}: number`);
		t.equal(o.start, p.start * 512, `${what}: start`);
		t.equal(o.size, p.size * 512, `${what}: size`);
		if (ours.type === 'gpt') {
			t.equal(o.type, p.type.toLowerCase(), `${what}: type`);
			t.equal(o.guid, p.uuid.toLowerCase(), `${what}: guid`);
			t.equal(o.name, p.name ?? '', `${what}: name`);
			t.equal(sfdiskAttrs(o.attributes), p.attrs, `${what}: attributes`);
		} else {
			t.equal(Number(o.type), parseInt(p.type, 16), `${what}: type`);
			t.equal(o.bootable, Boolean(p.bootable), `${what}: boot flag`);
		}
	}
}

/** Writes a built table into a fresh sparse file of @size bytes. */
function writeTable(built, size) {
	const img = join(dir, `built-${serial++}.img`);
	const fd = fs.openSync(img, 'w');
	try {
		fs.ftruncateSync(fd, size);
		for (const w of built.writes)
			fs.writeSync(fd, w.data, 0, w.data.length, w.offset);
	} finally {
		fs.closeSync(fd);
	}
	return img;
}

t.test('crc32: the standard check value, and node:zlib agrees with our table', async (t) => {
	t.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
	t.equal(crc32Portable(Buffer.from('123456789')), 0xcbf43926);
	for (const n of [0, 1, 92, 512, 16384, 100_003]) {
		const data = randomBytes(n);
		t.equal(crc32Portable(data), crc32(data), `${n} bytes`);
	}
});

t.test('GUIDs: the first three fields little-endian, as UEFI stores them', async (t) => {
	const esp = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
	const buf = Buffer.alloc(20);
	writeGuid(buf, 2, esp.toUpperCase());
	t.equal(buf.subarray(2, 18).toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
	t.equal(readGuid(buf, 2), esp);
	t.throws(() => writeGuid(buf, 0, 'not-a-guid'), TypeError);
});

t.test('a GPT made by sfdisk: every field as sfdisk --json reports it', async (t) => {
	const img = sfdiskImage(64, [
		'label: gpt',
		'label-id: 01234567-89AB-CDEF-0123-456789ABCDEF',
		'size=8MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system", uuid=11111111-2222-3333-4444-555555555555, attrs="RequiredPartition LegacyBIOSBootable GUID:60,63"',
		'size=20MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"',
		'size=3MiB, type=E6D6D379-F507-44C2-A23C-238F2A3DF928',
		'type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swäp ☃ 36 units long, not one more"',
	].join('\n'));
	const table = await readImage(img);
	sameAsSfdisk(t, table, img);
	t.same(table.problems, [], 'no problems');
	t.equal(table.gpt.header, 'primary');
	t.equal(table.gpt.hybridMbr, false);
	t.equal(table.gpt.protectiveMbr, true);
	t.equal(table.gpt.entries, 128);
	t.same(table.partitions.map((p) => p.typeName), ['EFI System', 'Linux root (x86-64)', 'Linux LVM', 'Linux swap']);
	t.same(table.partitions.map((p) => p.holds), ['filesystem', 'filesystem', 'lvm', 'swap']);
});

t.test('a GPT made by sgdisk with a gap in its entries: numbered by entry, as Linux does', async (t) => {
	const img = join(dir, 'sgdisk.img');
	run('truncate', ['-s', '40M', img]);
	run('sgdisk', ['-o', '-U', 'R', '-n', '2:0:+4M', '-t', '2:ef02', '-c', '2:grub',
		'-n', '5:0:+8M', '-t', '5:8300', '-A', '5:set:2', '-n', '7:0:0', '-t', '7:0700', img]);
	const table = await readImage(img);
	sameAsSfdisk(t, table, img);
	t.same(table.partitions.map((p) => p.number), [2, 5, 7]);
	t.same(table.partitions.map((p) => p.typeName), ['BIOS boot', 'Linux filesystem', 'Microsoft basic data']);
	t.equal(table.partitions[1].attributes, 4n, 'legacy BIOS bootable');
});

t.test('an MBR made by sfdisk with logical partitions: every field as sfdisk --json reports it', async (t) => {
	const img = sfdiskImage(64, [
		'label: dos',
		'label-id: 0xdeadbeef',
		'size=8MiB, type=83, bootable',
		'size=8MiB, type=82',
		'type=5',
		'size=8MiB, type=83',
		'size=4MiB, type=8e',
		'type=c',
	].join('\n'));
	const table = await readImage(img);
	sameAsSfdisk(t, table, img);
	t.same(table.problems, []);
	t.same(table.partitions.map((p) => [p.number, p.logical, p.holds]),
		[[1, false, 'filesystem'], [2, false, 'swap'], [3, false, 'extended'], [5, true, 'filesystem'], [6, true, 'lvm'], [7, true, 'filesystem']]);
});

t.test('a hybrid MBR (sgdisk -h) is noticed, and the GPT is what counts', async (t) => {
	const img = join(dir, 'hybrid.img');
	run('truncate', ['-s', '40M', img]);
	run('sgdisk', ['-o', '-n', '1:0:+8M', '-t', '1:0700', '-n', '2:0:0', '-t', '2:8300', '-h', '1', img]);
	const table = await readImage(img);
	t.equal(table.type, 'gpt');
	t.equal(table.gpt.hybridMbr, true);
	t.match(table.problems.join('\n'), /hybrid/);
	sameAsSfdisk(t, table, img);
});

t.test('a damaged primary GPT: the backup is used, and said to be', async (t) => {
	const img = sfdiskImage(32, 'label: gpt\nsize=8MiB, type=linux, name="one"\ntype=swap, name="two"\n');
	const before = await readImage(img);
	const bytes = fs.readFileSync(img);

	const header = Buffer.from(bytes);
	header[512 + 60] ^= 0xff;	// inside the disk GUID: the header CRC no longer matches
	let table = await readPartitionTable(bufferSource(header));
	t.equal(table.gpt.header, 'backup');
	t.match(table.problems[0], /primary GPT header is damaged \(its CRC is wrong\): the backup one at the disk's end is used/);
	t.same(table.partitions, before.partitions, 'the same partitions, from the backup');

	const entries = Buffer.from(bytes);
	entries[1024 + 56] ^= 0xff;	// the first entry's name
	table = await readPartitionTable(bufferSource(entries));
	t.equal(table.gpt.header, 'backup');
	t.match(table.problems[0], /the CRC of its entry array is wrong/);
	t.same(table.partitions, before.partitions);

	const both = Buffer.from(header);
	both.fill(0, both.length - 512);
	await t.rejects(readPartitionTable(bufferSource(both)), PartitionTableError);
	await t.rejects(readPartitionTable(bufferSource(both)),
		{ message: 'both GPT headers are damaged (primary: its CRC is wrong; backup at the disk\'s end: no GPT signature)' });

	const backup = Buffer.from(bytes);
	backup[backup.length - 512 + 60] ^= 0xff;
	table = await readPartitionTable(bufferSource(backup));
	t.equal(table.gpt.header, 'primary');
	t.match(table.problems[0], /backup GPT header \(sector \d+\) is damaged: its CRC is wrong/);
});

t.test('a GPT without its protective MBR: read, and said to be ignored by others', async (t) => {
	const bytes = fs.readFileSync(sfdiskImage(16, 'label: gpt\ntype=linux, name=x\n'));
	bytes.fill(0, 0, 512);
	const table = await readPartitionTable(bufferSource(bytes));
	t.equal(table.type, 'gpt');
	t.equal(table.gpt.protectiveMbr, false);
	t.same(table.partitions.map((p) => p.name), ['x']);
	t.match(table.problems[0], /no protective MBR: Linux and other tools ignore this GPT/);

	bytes[510] = 0x55;
	bytes[511] = 0xaa;	// an MBR with no partition at all
	const signed = await readPartitionTable(bufferSource(bytes));
	t.equal(signed.gpt.protectiveMbr, false);
	t.same(signed.partitions.map((p) => p.name), ['x']);
});

t.test('an image grown after partitioning: the backup header is where the primary says', async (t) => {
	const img = sfdiskImage(16, 'label: gpt\ntype=linux\n');
	run('truncate', ['-s', '20M', img]);
	const table = await readImage(img);
	t.equal(table.partitions.length, 1);
	t.match(table.problems.join('\n'), /not at the disk's last sector .*resized/);
});

t.test('a truncated image: the partition past its end is said', async (t) => {
	const img = sfdiskImage(16, 'label: dos\nsize=4MiB, type=83\ntype=83\n');
	run('truncate', ['-s', '10M', img]);
	const table = await readImage(img);
	t.match(table.problems.join('\n'), /partition 2 runs past the end of the disk .*truncated/);
});

t.test('no partition table: zeros, a filesystem on the whole disk, a FAT boot sector', async (t) => {
	t.equal(await readPartitionTable(bufferSource(Buffer.alloc(MiB))), undefined, 'zeros');
	t.equal(await readPartitionTable(bufferSource(Buffer.alloc(100))), undefined, 'shorter than two sectors');
	const fat = join(dir, 'fat.img');
	run('truncate', ['-s', '8M', fat]);
	run('mkfs.vfat', [fat]);
	t.equal(await readImage(fat), undefined, 'a whole-disk vfat is no MBR');
	const ext4 = join(dir, 'ext4.img');
	run('truncate', ['-s', '8M', ext4]);
	run('mkfs.ext4', ['-q', ext4]);
	t.equal(await readImage(ext4), undefined, 'a whole-disk ext4');
});

t.test('crafted tables end: an EBR chain that loops, a huge entry array', async (t) => {
	const img = sfdiskImage(16, 'label: dos\ntype=5\nsize=2MiB, type=83\nsize=2MiB, type=83\n');
	const bytes = fs.readFileSync(img);
	const ext = bytes.readUInt32LE(446 + 8);
	// The first EBR's link points back at the first EBR.
	bytes.writeUInt32LE(0, ext * 512 + 446 + 16 + 8);
	const table = await readPartitionTable(bufferSource(bytes));
	t.same(table.partitions.map((p) => p.number), [1, 5]);
	t.match(table.problems.join('\n'), /loops back/);

	const gpt = fs.readFileSync(sfdiskImage(16, 'label: gpt\ntype=linux\n'));
	for (const at of [512, gpt.length - 512]) {
		gpt.writeUInt32LE(0x10000000, at + 80);	// entries
		gpt.writeUInt32LE(0, at + 16);
		gpt.writeUInt32LE(crc32(gpt.subarray(at, at + 92)), at + 16);
	}
	await t.rejects(readPartitionTable(bufferSource(gpt)), { message: /entry array would be \d+ bytes/ });
});

const guid = (n) => `${String(n).padStart(8, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;

t.test('a GPT we build: read back as built, and sfdisk and sgdisk find it sound', async (t) => {
	const size = 100 * MiB + 4096;	// not a whole MiB: the backup goes in the last whole sectors
	const spec = {
		diskSize: size,
		diskGuid: guid(1),
		partitions: [
			{ size: 10 * MiB, type: 'esp', guid: guid(2), name: 'ESP', attributes: 1n },
			{ size: 50 * MiB + 1, type: 'root-x86-64', guid: guid(3), name: 'root' },
			{ size: 8 * MiB, type: 'swap', guid: guid(4) },
			{ type: '933AC7E1-2EB4-4F13-B844-0E14E2AEF915', guid: guid(5), name: 'hôme', attributes: (1n << 63n) | (1n << 60n) },
		],
	};
	const built = buildGpt(spec);
	t.same(built.partitions.map((p) => p.start / MiB), [1, 11, 62, 70], 'each on a whole MiB');
	t.equal(built.partitions[1].size, 50 * MiB + 512, 'a size rounded up to whole sectors');
	const img = writeTable(built, size);
	const table = await readImage(img);
	t.same(table.problems, []);
	t.equal(table.id, guid(1));
	t.same(table.partitions.map((p) => [p.start, p.size]), built.partitions.map((p) => [p.start, p.size]));
	t.same(table.partitions.map((p) => [p.typeName, p.guid, p.name, p.attributes]), [
		['EFI System', guid(2), 'ESP', 1n],
		['Linux root (x86-64)', guid(3), 'root', 0n],
		['Linux swap', guid(4), '', 0n],
		['Linux home', guid(5), 'hôme', (1n << 63n) | (1n << 60n)],
	]);
	sameAsSfdisk(t, table, img);
	t.match(run('sgdisk', ['-v', img]), /No problems found/);
	t.equal(table.partitions[3].start + table.partitions[3].size, (table.gpt.lastUsableLba + 1) * 512, 'the last takes the rest');

	t.same(buildGpt(spec).writes, built.writes, 'the same spec gives the same bytes');
});

t.test('an MBR we build, with logical partitions: read back, and sfdisk agrees', async (t) => {
	const size = 64 * MiB;
	const built = buildMbr({
		diskSize: size,
		diskId: 0x1234abcd,
		partitions: [
			{ size: 8 * MiB, type: 'esp', bootable: true },
			{ size: 8 * MiB, type: 0x83 },
			{ size: 8 * MiB, type: 'swap' },
			{ size: 8 * MiB, type: '8e' },
			{ size: 8 * MiB, type: 'linux' },
			{ type: 'fat32' },
		],
	});
	t.same(built.partitions.map((p) => p.number), [1, 2, 3, 5, 6, 7]);
	const img = writeTable(built, size);
	const table = await readImage(img);
	t.same(table.problems, []);
	sameAsSfdisk(t, table, img);
	t.same(table.partitions.map((p) => [p.number, p.type, p.logical]), [
		[1, '0xef', false], [2, '0x83', false], [3, '0x82', false], [4, '0x05', false],
		[5, '0x8e', true], [6, '0x83', true], [7, '0x0c', true],
	]);
	t.same(table.partitions.filter((p) => p.number !== 4).map((p) => [p.start, p.size]),
		built.partitions.map((p) => [p.start, p.size]));
	const verify = run('sfdisk', ['--verify', img]);
	t.match(verify, /No errors detected/, verify);
});

t.test('building: impossible specs are refused with the reason', async (t) => {
	const one = (p) => ({ diskSize: 16 * MiB, diskGuid: guid(1), partitions: [p] });
	t.throws(() => buildGpt(one({ size: 32 * MiB, type: 'linux', guid: guid(2) })), { name: 'RangeError', message: /partition 1 does not fit/ });
	t.throws(() => buildGpt(one({ size: MiB, type: 'linux' })), { name: 'TypeError', message: /guid must be a GUID/ });
	t.throws(() => buildGpt(one({ size: MiB, type: 'no-such-type', guid: guid(2) })), /not a GPT type alias or GUID/);
	t.throws(() => buildGpt(one({ size: MiB, type: 'linux', guid: guid(2), name: 'x'.repeat(37) })), /longer than 36/);
	t.throws(() => buildGpt({ ...one({ type: 'linux', guid: guid(2) }), diskGuid: 'x' }), /diskGuid/);
	t.throws(() => buildGpt({ diskSize: 16 * MiB, diskGuid: guid(1), partitions: [{ type: 'linux', guid: guid(2) }, { size: MiB, type: 'linux', guid: guid(3) }] }),
		/only the last partition may leave out its size/);
	t.throws(() => buildMbr({ diskSize: 16 * MiB, diskId: 1, partitions: [{ type: 0x05 }] }), /not an MBR partition type/);
	t.throws(() => buildMbr({ diskSize: 16 * MiB, diskId: -1, partitions: [{ type: 'linux' }] }), /diskId/);
	t.throws(() => buildMbr({ diskSize: 16 * MiB, diskId: 1, partitions: [{ size: 0, type: 'linux' }] }), /size must be a positive/);
});
