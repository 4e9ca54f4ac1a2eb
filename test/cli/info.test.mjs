// SPDX-License-Identifier: GPL-2.0
//
// lkl info on real images: a bare ext4, a GPT disk partitioned by sfdisk
// (ESP, ext4 root, xfs, btrfs, swap, an empty LVM partition), the other
// filesystems the kernel reads (labels and UUIDs), an MBR disk
// with logical partitions, a damaged primary GPT, a dirty journal, and
// images it cannot read.  What it says is checked against sfdisk --json
// (the table), blkid -p (type, label, UUID) and df on a host loop mount
// (size and use); the image's bytes never change.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { REPO, hostCanMount, lkl, lklOk, sha256File } from '../helpers/cli.mjs';
import { undoAtEnd } from '../helpers/machine.mjs';
import { run, tempDir } from '../helpers/tree.mjs';

t.setTimeout(300_000);

const MiB = 1 << 20;
const HOLD = fileURLToPath(new URL('../helpers/hold-image.mjs', import.meta.url));
const dir = tempDir(t, 'lkl-info-');
const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';

/** A directory tree holding an os-release at @path. */
function rootTree(name, path = 'etc/os-release', text = OS_RELEASE) {
	const root = join(dir, name);
	fs.mkdirSync(join(root, path, '..'), { recursive: true });
	fs.writeFileSync(join(root, path), text);
	return root;
}

/** A sparse file of @bytes holding a filesystem made by @mkfs (a function of the path). */
function scratch(name, bytes, mkfs) {
	const img = join(dir, name);
	run('truncate', ['-s', String(bytes), img]);
	mkfs(img);
	return img;
}

/** Copies @from into @disk at byte @offset, keeping holes. */
function place(from, disk, offset) {
	run('dd', [`if=${from}`, `of=${disk}`, 'bs=1M', 'conv=notrunc,sparse', `seek=${offset}`, 'oflag=seek_bytes', 'status=none']);
	fs.rmSync(from);
}

/** sfdisk's report: { label, id, partitions: [{ node, start, size, type, ... }] }. */
function sfdiskJson(img) {
	return JSON.parse(run('sfdisk', ['--json', img])).partitiontable;
}

/** blkid's udev encoding undone: \xNN for each byte a udev rule could not take (UTF-8's too). */
const udevDecoded = (s) => s.replace(/(?:\\x[0-9a-fA-F]{2})+/g, (bytes) =>
	Buffer.from(bytes.split('\\x').slice(1).map((h) => parseInt(h, 16))).toString('utf8'));

/** What blkid -p finds at @offset of @img (all of it when no offset): { type, label, uuid } or null. */
function blkid(img, offset, size) {
	// -o udev: the one output form whose values can be decoded exactly
	// (export's escapes spaces for a shell, and non-ASCII bytes as M-x).
	const args = ['-p', '-o', 'udev', ...(offset === undefined ? [] : ['-O', String(offset), '-S', String(size)]), img];
	const r = run('sh', ['-c', 'blkid "$@"; true', 'blkid', ...args]);
	const vars = Object.fromEntries(r.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
	const decoded = (name) => (vars[name] === undefined ? null : udevDecoded(vars[name]));
	return vars.ID_FS_TYPE ? { type: vars.ID_FS_TYPE, label: decoded('ID_FS_LABEL_ENC'), uuid: decoded('ID_FS_UUID_ENC') } : null;
}

/** df's size, used and available bytes for @img (from @offset) mounted read-only by the host. */
function hostDf(t, img, kind, offset = 0, size = undefined) {
	const mnt = join(dir, `df-${kind}-${offset}`);
	fs.mkdirSync(mnt, { recursive: true });
	run('mount', ['-t', kind, '-o', `loop,ro,offset=${offset}${size ? `,sizelimit=${size}` : ''}`, img, mnt]);
	try {
		const [sz, used, avail] = run('df', ['-B1', '--output=size,used,avail', mnt]).trim().split('\n')[1].trim().split(/\s+/).map(Number);
		return { size: sz, used, available: avail };
	} finally {
		run('umount', [mnt]);
		fs.rmdirSync(mnt);
	}
}

/**
 * A FAT filesystem's size, used and available bytes as fsck.fat counts its
 * clusters (the host may have no vfat to mount), from a copy of the part
 * of @img at @offset.
 */
function fatUsage(img, offset, size) {
	const copy = join(dir, 'fat-copy.img');
	run('dd', [`if=${img}`, `of=${copy}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${offset}`, `count=${size}`, 'conv=sparse', 'status=none']);
	try {
		const out = run('fsck.fat', ['-n', '-v', copy]);
		const cluster = Number(/(\d+) bytes per cluster/.exec(out)[1]);
		const [, used, total] = /(\d+)\/(\d+) clusters/.exec(out).map(Number);
		return { size: total * cluster, used: used * cluster, available: (total - used) * cluster };
	} finally {
		fs.rmSync(copy);
	}
}

/** `lkl info --json img`, checking the image is unchanged. */
function infoJson(t, img) {
	const before = sha256File(img);
	const r = lklOk(['info', '--json', img]);
	t.equal(sha256File(img), before, `${img}: not a byte changed`);
	t.equal(r.stderr, '', 'nothing on stderr');
	return JSON.parse(r.stdout);
}

/** The table and partitions against sfdisk --json, field by field. */
function sameTable(t, info, img) {
	const theirs = sfdiskJson(img);
	t.equal(info.table.type, theirs.label === 'dos' ? 'mbr' : 'gpt', 'table type');
	t.equal(info.table.id, theirs.id.toLowerCase(), 'disk id');
	t.equal(info.table.sectorSize, theirs.sectorsize, 'sector size');
	t.same(info.volumes.map((v) => `${img}${v.partition.number}`), theirs.partitions.map((p) => p.node), 'partition numbers');
	for (const [i, p] of theirs.partitions.entries()) {
		const o = info.volumes[i].partition;
		t.equal(o.start, p.start * 512, `${p.node}: start`);
		t.equal(o.size, p.size * 512, `${p.node}: size`);
		if (info.table.type === 'gpt') {
			t.equal(o.type, p.type.toLowerCase(), `${p.node}: type`);
			t.equal(o.guid, p.uuid.toLowerCase(), `${p.node}: guid`);
			t.equal(o.name, p.name ?? '', `${p.node}: name`);
		} else {
			t.equal(parseInt(o.type, 16), parseInt(p.type, 16), `${p.node}: type`);
			t.equal(o.bootable, Boolean(p.bootable), `${p.node}: boot flag`);
		}
	}
}

/** Each volume's type, label and UUID against blkid -p at its offset. */
function sameIds(t, info, img) {
	for (const v of info.volumes) {
		if (v.partition?.typeName === 'Extended')
			continue;
		const theirs = v.partition ? blkid(img, v.partition.start, v.partition.size) : blkid(img);
		t.same(v.filesystem, theirs, `${v.partition ? `partition ${v.partition.number}` : 'the disk'}: type, label and UUID as blkid -p finds them`);
	}
}

t.test('a bare ext4 with an os-release', async (t) => {
	const img = scratch('bare.img', 64 * MiB, (p) => run('mkfs.ext4', ['-q', '-L', 'rootfs', '-d', rootTree('bare-root'), p]));
	const info = infoJson(t, img);
	t.equal(info.image, img);
	t.equal(info.size, 64 * MiB);
	t.equal(info.table, null, 'no partition table');
	t.equal(info.volumes.length, 1);
	const [v] = info.volumes;
	t.equal(v.partition, null, 'the whole disk');
	t.same(v.os, { prettyName: 'Debian GNU/Linux 12 (bookworm)', id: 'debian', versionId: '12' });
	t.equal(v.error, null);
	sameIds(t, info, img);
	t.same(v.usage, hostDf(t, img, 'ext4'), 'size, used and available as df shows them');

	const text = lklOk(['info', img]).stdout;
	t.match(text, `${img}: 64 MiB, no partition table\n`);
	t.match(text, /^PART +SIZE +FSTYPE +LABEL +UUID +USED +AVAIL +USE%$/m);
	t.match(text, new RegExp(`^- +64 MiB +ext4 +rootfs +${v.filesystem.uuid} +[0-9.]+ [KM]iB +[0-9.]+ MiB +\\d+%$`, 'm'));
	t.match(text, /^ +os: Debian GNU\/Linux 12 \(bookworm\)$/m);
});

t.test('a GPT disk made by sfdisk: ESP, root, xfs, btrfs, swap and an empty LVM partition', async (t) => {
	const img = join(dir, 'gpt.img');
	run('truncate', ['-s', `${800}M`, img]);
	run('sfdisk', ['-q', img], {
		input: [
			'label: gpt',
			'size=64MiB, type=uefi, name="EFI system partition"',
			'size=100MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root',
			'size=300MiB, type=linux, name=srv',
			'size=120MiB, type=933AC7E1-2EB4-4F13-B844-0E14E2AEF915, name=home',
			'size=16MiB, type=swap',
			'type=lvm',
		].join('\n'),
	});
	const parts = sfdiskJson(img).partitions.map((p) => ({ start: p.start * 512, size: p.size * 512 }));
	// The ESP made in place, the others as files copied into their partitions.
	run('mkfs.vfat', ['-F', '16', '-n', 'ESP', '--offset', String(parts[0].start / 512), img, String(parts[0].size / 1024)]);
	place(scratch('p2', parts[1].size, (p) => run('mkfs.ext4', ['-q', '-L', 'root', '-d', rootTree('gpt-root'), p])), img, parts[1].start);
	place(scratch('p3', parts[2].size, (p) => run('mkfs.xfs', ['-q', '-L', 'srv', p])), img, parts[2].start);
	place(scratch('p4', parts[3].size, (p) => run('mkfs.btrfs', ['-q', '-L', 'home', p], { stdio: 'pipe' })), img, parts[3].start);
	place(scratch('p5', parts[4].size, (p) => run('mkswap', ['-L', 'swap', p], { stdio: 'pipe' })), img, parts[4].start);

	const info = infoJson(t, img);
	sameTable(t, info, img);
	t.same(info.table.problems, []);
	t.equal(info.table.header, 'primary');
	t.equal(info.table.hybridMbr, false);
	t.same(info.volumes.map((v) => v.partition.typeName),
		['EFI System', 'Linux root (x86-64)', 'Linux filesystem', 'Linux home', 'Linux swap', 'Linux LVM']);
	t.same(info.volumes.map((v) => v.filesystem?.type ?? null), ['vfat', 'ext4', 'xfs', 'btrfs', 'swap', null]);
	sameIds(t, info, img);
	t.same(info.volumes.map((v) => v.error), [null, null, null, null, null, null], 'nothing failed');
	t.same(info.volumes.map((v) => v.os?.id ?? null), [null, 'debian', null, null, null, null], 'the OS is on the root');
	t.same(info.volumes.map((v) => Boolean(v.usage)), [true, true, true, true, false, false], 'usage of the filesystems only');

	const df = (n, kind) => hostDf(t, img, kind, parts[n - 1].start, parts[n - 1].size);
	t.same(info.volumes[1].usage, df(2, 'ext4'), 'ext4: as df shows it');
	t.same(info.volumes[2].usage, df(3, 'xfs'), 'xfs: as df shows it');
	// The host's newer btrfs estimates the space available otherwise.
	const btrfs = df(4, 'btrfs');
	t.same([info.volumes[3].usage.size, info.volumes[3].usage.used], [btrfs.size, btrfs.used], 'btrfs: size and used as df shows them');
	t.same(info.volumes[0].usage, fatUsage(img, parts[0].start, parts[0].size), 'vfat: as fsck.fat counts its clusters');
	if (hostCanMount('vfat'))
		t.same(info.volumes[0].usage, df(1, 'vfat'), 'vfat: as df shows it');

	const text = lklOk(['info', img]).stdout;
	t.match(text, new RegExp(`^${img}: 800 MiB, GPT, disk GUID ${info.table.id}, 6 partitions$`, 'm'));
	t.match(text, /^PART +START +SIZE +TYPE +NAME +FSTYPE +LABEL +UUID +USED +AVAIL +USE%$/m);
	t.match(text, new RegExp(`^1 +1 MiB +64 MiB +EFI System +EFI system partition +vfat +ESP +${info.volumes[0].filesystem.uuid} `, 'm'));
	t.match(text, /^2 +65 MiB +100 MiB +Linux root \(x86-64\) +root +ext4 +root +[0-9a-f-]{36} +[0-9.]+ [KM]iB +[0-9.]+ MiB +\d+%\n +os: Debian GNU\/Linux 12 \(bookworm\)$/m);
	t.match(text, /^5 +585 MiB +16 MiB +Linux swap +swap +swap +[0-9a-f-]{36}$/m, 'swap: no usage');
	t.match(text, /^6 +601 MiB +198 MiB +Linux LVM$/m, 'an empty LVM partition: its type alone');
});

t.test('the other filesystems: label and UUID as blkid -p finds them, read from their own structures', async (t) => {
	const src = rootTree('others');
	// Each made with a label where its tool takes one; the kernel's name
	// for the type where blkid's differs (ntfs3).
	const made = {
		exfat: { type: 'exfat', img: scratch('exfat.img', 64 * MiB, (img) => run('mkfs.exfat', ['-L', 'EX LABEL', img])) },
		ntfs: { type: 'ntfs3', img: scratch('ntfs.img', 64 * MiB, (img) => run('mkntfs', ['--quiet', '--fast', '--force', '-L', 'Données', img])) },
		jfs: { type: 'jfs', img: scratch('jfs.img', 64 * MiB, (img) => run('mkfs.jfs', ['-q', '-L', 'JFSLABEL', img])) },
		udf: { type: 'udf', img: scratch('udf.img', 64 * MiB, (img) => run('mkudffs', ['--label=UDF Label', img])) },
		iso9660: { type: 'iso9660', img: join(dir, 'joliet.iso') },
		erofs: { type: 'erofs', img: join(dir, 'erofs.img') },
		f2fs: { type: 'f2fs', img: scratch('f2fs.img', 128 * MiB, (img) => run('mkfs.f2fs', ['-q', '-l', 'F2LABEL', img])) },
		squashfs: { type: 'squashfs', img: join(dir, 'sq.img') },
	};
	// Joliet's label is Unicode and longer than ISO 9660's own.
	run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'Étiquette longue', '-o', made.iso9660.img, src]);
	run('mkfs.erofs', ['--quiet', '-U', 'c0ffee00-1111-2222-3333-444455556666', made.erofs.img, src]);
	run('mksquashfs', [src, made.squashfs.img, '-noappend', '-quiet', '-no-progress']);
	for (const [name, m] of Object.entries(made)) {
		const theirs = blkid(m.img);
		const fs_ = infoJson(t, m.img).volumes[0].filesystem;
		t.same(fs_, { type: m.type, label: theirs.label, uuid: theirs.uuid }, `${name}: ${JSON.stringify(theirs)}`);
		fs.rmSync(m.img);
	}
});

t.test('an MBR disk with logical partitions; a damaged one is listed with the reason', async (t) => {
	const img = join(dir, 'mbr.img');
	run('truncate', ['-s', '128M', img]);
	run('sfdisk', ['-q', img], {
		input: 'label: dos\nlabel-id: 0x0badcafe\nsize=40MiB, type=c, bootable\ntype=5\nsize=40MiB, type=83\nsize=16MiB, type=83\ntype=82\n',
	});
	const parts = sfdiskJson(img).partitions;
	const at = (node) => parts.find((p) => p.node === `${img}${node}`);
	// FAT32 (its label and serial sit elsewhere than FAT16's), with a file in it.
	run('mkfs.vfat', ['-F', '32', '-s', '1', '-n', 'BOOT', '--offset', String(at(1).start), img, String(at(1).size / 2)]);
	run('mcopy', ['-i', `${img}@@${at(1).start * 512}`, join(rootTree('mbr-boot', 'grub.cfg', 'x'.repeat(100_000)), 'grub.cfg'), '::/'],
		{ env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
	// The os-release only where /etc/os-release links to.
	place(scratch('l5', at(5).size * 512, (p) => run('mkfs.ext3', ['-q', '-L', 'logical', '-d', rootTree('mbr-root', 'usr/lib/os-release', 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=40\n'), p])), img, at(5).start * 512);
	// Partition 6: an ext4 whose superblock checksum no longer matches.
	place(scratch('l6', at(6).size * 512, (p) => {
		run('mkfs.ext4', ['-q', '-L', 'broken', p]);
		const fd = fs.openSync(p, 'r+');
		fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, 1024 + 0x50);	// s_lastcheck
		fs.closeSync(fd);
	}), img, at(6).start * 512);

	const info = infoJson(t, img);
	sameTable(t, info, img);
	t.equal(info.table.id, '0x0badcafe');
	t.same(info.volumes.map((v) => [v.partition.number, v.partition.logical]), [[1, false], [2, false], [5, true], [6, true], [7, true]]);
	t.same(info.volumes.map((v) => v.filesystem?.type ?? null), ['vfat', null, 'ext3', 'ext4', null], 'ext3 named as blkid names it');
	sameIds(t, info, img);
	t.equal(info.volumes[1].partition.typeName, 'Extended');
	t.equal(info.volumes[1].error, null, 'the extended partition is no failure');
	t.same(info.volumes[2].os, { prettyName: 'Fedora Linux', id: 'fedora', versionId: '40' }, '/usr/lib/os-release when /etc has none');
	t.match(info.volumes[3].error, /^cannot mount ext4: /, 'the damaged partition: why, in one line');
	t.equal(info.volumes[3].filesystem.label, 'broken', 'its label from the superblock all the same');
	t.equal(info.volumes[4].error, null, 'an empty swap partition: nothing to say');
	t.same(info.volumes[0].usage, fatUsage(img, at(1).start * 512, at(1).size * 512), 'FAT32: usage as fsck.fat counts its clusters');
	t.ok(info.volumes[0].usage.used >= 100_000, 'the file counts');

	// The same disk as a block device (a loop device): the same answers.
	const loop = run('losetup', ['-f', '--show', '-r', img]).trim();
	undoAtEnd(t, `the loop device ${loop}`, () => run('losetup', ['-d', loop]));
	const onDevice = infoJson(t, loop);
	t.same({ ...onDevice, image: img }, info, `${loop}: as the file`);

	const r = lkl(['info', img]);
	t.equal(r.status, 0, 'one partition failing is not a failure of the command');
	t.match(r.stdout, /^6 +.* +Linux +ext4 +broken +[0-9a-f-]{36}\n +cannot mount ext4: [^\n]+$/m);
	t.match(r.stdout, /^5 .*\n +os: Fedora Linux$/m);
	t.notMatch(r.stdout, /NAME/, 'no NAME column on an MBR disk');
});

t.test('a truncated disk: what is past its end is said', async (t) => {
	const img = join(dir, 'truncated.img');
	run('truncate', ['-s', '64M', img]);
	run('sfdisk', ['-q', img], { input: 'label: dos\nsize=32MiB, type=83\ntype=83\n' });
	run('truncate', ['-s', '20M', img]);
	const info = infoJson(t, img);
	t.match(info.table.problems, [/^partition 1 runs past the end of the disk \(by \d+ bytes\): is the image truncated\?$/, /^partition 2 runs past/]);
	t.equal(info.volumes[1].error, 'it lies outside the disk');
	const r = lkl(['info', img]);
	t.equal(r.status, 0);
	t.match(r.stdout, /^warning: partition 1 runs past the end of the disk/m);
	t.match(r.stdout, /^2 .*\n +it lies outside the disk$/m);
});

t.test('a damaged primary GPT: the backup is used, and said to be', async (t) => {
	const img = join(dir, 'backup.img');
	run('truncate', ['-s', '64M', img]);
	run('sfdisk', ['-q', img], { input: 'label: gpt\nsize=40MiB, type=linux, name=data\n' });
	const before = sfdiskJson(img);
	place(scratch('b1', before.partitions[0].size * 512, (p) => run('mkfs.ext4', ['-q', '-L', 'kept', p])), img, before.partitions[0].start * 512);
	const fd = fs.openSync(img, 'r+');
	fs.writeSync(fd, Buffer.from('damaged!'), 0, 8, 512 + 56);	// the primary header's disk GUID
	fs.closeSync(fd);

	const info = infoJson(t, img);
	t.equal(info.table.header, 'backup');
	t.same(info.table.problems, ['the primary GPT header is damaged (its CRC is wrong): the backup one at the disk\'s end is used']);
	t.equal(info.table.id, before.id.toLowerCase(), 'the disk GUID from the backup');
	t.equal(info.volumes[0].partition.start, before.partitions[0].start * 512);
	t.equal(info.volumes[0].partition.guid, before.partitions[0].uuid.toLowerCase());
	t.equal(info.volumes[0].filesystem.label, 'kept', 'the kernel reads the backup too: the partition mounts');
	t.ok(info.volumes[0].usage);

	const text = lklOk(['info', img]).stdout;
	t.match(text, /^warning: the primary GPT header is damaged \(its CRC is wrong\): the backup one at the disk's end is used$/m);

	// No protective MBR either: Linux is told to read the GPT all the same.
	const bare = join(dir, 'no-pmbr.img');
	fs.copyFileSync(img, bare);
	const fd1 = fs.openSync(bare, 'r+');
	fs.writeSync(fd1, Buffer.alloc(512), 0, 512, 0);
	fs.closeSync(fd1);
	const noPmbr = infoJson(t, bare);
	t.match(noPmbr.table.problems.join('\n'), /no protective MBR/);
	t.equal(noPmbr.volumes[0].filesystem.label, 'kept');
	t.ok(noPmbr.volumes[0].usage, 'the partition mounts');

	// Both headers gone: one line, nothing on stdout.
	const both = join(dir, 'both.img');
	fs.copyFileSync(img, both);
	const fd2 = fs.openSync(both, 'r+');
	fs.writeSync(fd2, Buffer.alloc(512), 0, 512, 64 * MiB - 512);
	fs.closeSync(fd2);
	const r = lkl(['info', both]);
	t.equal(r.status, 1);
	t.equal(r.stdout, '');
	t.equal(r.stderr, `lkl: cannot read the partition table of ${both}: both GPT headers are damaged (primary: its CRC is wrong; backup at the disk's end: no GPT signature)\n`);
});

t.test('a dirty journal is replayed in memory only: the image is unchanged', async (t) => {
	const img = scratch('dirty.img', 64 * MiB, (p) => run('mkfs.ext4', ['-q', '-L', 'dirty', p]));
	// Written and committed to the journal, then killed before the checkpoint.
	const script = join(dir, 'dirty.mjs');
	fs.writeFileSync(script, `
		import { Kernel } from ${JSON.stringify(join(REPO, 'dist/src/index.js'))};
		const kernel = Kernel.boot({ memoryMiB: 32 });
		const mount = await kernel.mount(await kernel.addDisk(process.argv[2]));
		await mount.mkdir('/etc');
		await mount.writeFile('/etc/os-release', 'PRETTY_NAME="Journal Linux 1"\\nID=journal\\n');
		const file = await mount.open('/etc/os-release', 'r');
		await file.sync();
		process.kill(process.pid, 'SIGKILL');
	`);
	const killed = run('sh', ['-c', 'env -u NODE_OPTIONS "$0" "$1" "$2"; echo $?', process.execPath, script, img]).trim();
	t.equal(killed, '137', 'the writer was killed');
	t.match(run('dumpe2fs', ['-h', img], { stdio: 'pipe' }), /needs_recovery/, 'the journal needs recovery');

	const info = infoJson(t, img);
	t.same(info.volumes[0].os, { prettyName: 'Journal Linux 1', id: 'journal' }, 'what the journal held is shown');
	t.match(run('dumpe2fs', ['-h', img], { stdio: 'pipe' }), /needs_recovery/, 'and still needs recovery on disk');
});

t.test('images it cannot read: one line, exit 1, nothing on stdout', async (t) => {
	const zeros = scratch('zeros.img', 16 * MiB, () => {});
	const broken = scratch('broken-ext4.img', 32 * MiB, (p) => {
		run('mkfs.ext4', ['-q', p]);
		const fd = fs.openSync(p, 'r+');
		fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, 1024 + 0x50);
		fs.closeSync(fd);
	});
	const missing = join(dir, 'missing.img');
	for (const [img, line] of [
		[zeros, `cannot read ${zeros}: no partition table, and no filesystem the kernel recognises`],
		[broken, new RegExp(`^lkl: cannot read ${broken}: cannot mount ext4: [^\n]+\n$`)],
		[missing, `cannot open ${missing}: no such file or directory`],
	]) {
		const before = fs.existsSync(img) ? sha256File(img) : null;
		const r = lkl(['info', '--json', img]);
		t.equal(r.status, 1, `${img}: exit 1`);
		t.equal(r.stdout, '', `${img}: nothing on stdout`);
		if (typeof line === 'string')
			t.equal(r.stderr, `lkl: ${line}\n`);
		else
			t.match(r.stderr, line);
		if (before)
			t.equal(sha256File(img), before, `${img}: unchanged`);
	}
});

t.test('names from the image cannot drive the terminal', async (t) => {
	const img = join(dir, 'names.img');
	run('truncate', ['-s', '64M', img]);
	run('sfdisk', ['-q', img], { input: 'label: gpt\ntype=linux\n' });
	const p = sfdiskJson(img).partitions[0];
	// sgdisk writes the name as given, escape and newline included.
	run('sgdisk', ['-c', '1:a\x1b[2Jb\nc', img], { stdio: 'pipe' });
	place(scratch('n1', p.size * 512, (f) => run('mkfs.ext4', ['-q', '-L', 'x\x1b]0;y', '-d', rootTree('names-root', 'etc/os-release', 'PRETTY_NAME="Evil\\e[31m \u202eOS"\n'), f])), img, p.start * 512);
	const info = infoJson(t, img);
	t.equal(info.volumes[0].partition.name, 'a\x1b[2Jb\nc', 'JSON keeps the name as it is');
	t.equal(info.volumes[0].filesystem.label, 'x\x1b]0;y');
	const text = lklOk(['info', img]).stdout;
	t.notMatch(text, /[\x1b\u202e]/, 'no escape or override reaches the terminal');
	t.match(text, /^1 .* a\\x1b\[2Jb\\nc +ext4 +x\\x1b\]0;y /m, 'written out, the row one line');
});

t.test('an image another program is writing: named, and --wait-lock waits', async (t) => {
	const img = scratch('held.img', 32 * MiB, (p) => run('mkfs.ext4', ['-q', '-L', 'held', p]));
	const holder = spawn(process.execPath, [HOLD, img, 'rw'], { stdio: ['pipe', 'pipe', 'inherit'] });
	const exited = new Promise((resolve) => holder.once('exit', resolve));
	undoAtEnd(t, 'the image holder', () => holder.kill('SIGKILL'));
	const [line] = await Promise.all([new Promise((resolve) => holder.stdout.once('data', (d) => resolve(String(d).trim())))]);
	t.equal(line, 'held');
	const r = lkl(['info', img]);
	t.equal(r.status, 1);
	t.equal(r.stderr, `lkl: cannot open ${img}: in use by process ${holder.pid} (node), which can write it (--wait-lock waits for it)\n`);

	const waiting = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, join(REPO, 'bin/lkl'), 'info', '--wait-lock', '--json', img], { stdio: ['ignore', 'pipe', 'inherit'] });
	let out = '';
	waiting.stdout.on('data', (d) => { out += d; });
	const done = new Promise((resolve) => waiting.once('exit', resolve));
	await new Promise((resolve) => setTimeout(resolve, 500));
	t.equal(out, '', 'waits while the writer holds it');
	holder.stdin.end();
	await exited;
	t.equal(await done, 0);
	t.equal(JSON.parse(out).volumes[0].filesystem.label, 'held');
});
