#!/usr/bin/env node
// Issue 13's figures: lkl mkimage next to the closest tools, in one run,
// warm and cold, on the Debian 12 root (bench/lib.mjs: makeRootfs) with a
// boot directory for the ESP (a 10 MB "kernel", a 40 MB "initrd" and a
// 1 MB EFI binary, random bytes made once).
//
//   ext4        lkl mkimage --table none       vs  mke2fs -d
//   ext4 tar    the same from the root's .tar.gz vs tar x + mke2fs -d
//               (Debian 12's mke2fs 1.47.0 cannot read an archive)
//   xfs         lkl mkimage --table none       vs  mkfs.xfs + mount -o loop
//               + cp -a + umount (mkfs.xfs 6.1's -p takes a protofile,
//               which keeps no xattrs or hard links, not a directory)
//   btrfs       lkl mkimage --table none       vs  mkfs.btrfs --rootdir
//   gpt esp     lkl mkimage, GPT: ESP (vfat, 260 MiB, the boot directory)
//               + root (ext4, the rest)          vs  genimage (mkfs.fat +
//               mcopy, mke2fs -d, then the table; as any user)
//   gpt root    lkl mkimage, GPT with the root alone  vs  systemd-repart
//               (Debian 12's is systemd 252: no --offline, so it formats
//               and copies through a loop device, as root; and this host's
//               kernel has no vfat, so no ESP for it)
//
// Every image is 1,536 MiB (the filesystem alone, or the disk), fixed, so
// that every tool formats the same size; every run ends with sync, inside
// the time.  Caches as in copy.mjs (lib.mjs: prepare): cold drops every
// cache before each run; warm reads the inputs (tree, boot directory,
// archive) into the page cache first.  Needs root, e2fsprogs, xfsprogs,
// btrfs-progs, dosfstools, mtools, genimage (installed here if missing)
// and systemd-repart (the systemd-repart package, or systemd on Debian 12).
//
// Usage: node bench/mkimage.mjs [--work DIR] [--reps N] [--cache warm|cold|both]
//          [--only ext4,ext4-tar,xfs,btrfs,gpt-esp,gpt-root]
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { TABLE_HEAD, lineRunner, tableRow } from './lines.mjs';
import {
	GNU_TAR, has, haveTime, lkl, makeRootfs, options, q, readTree, rootfsTarball, sh, umountBelow, withRss,
} from './lib.mjs';

const o = options(process.argv.slice(2));
const work = resolve(o.opt('--work', '/tmp/lkl-bench'));
const reps = Number(o.opt('--reps', '5'));
const caches = o.caches();
const LINES = ['ext4', 'ext4-tar', 'xfs', 'btrfs', 'gpt-esp', 'gpt-root'];
const only = o.list('--only', LINES.join(','), LINES);
const SIZE_MIB = 1536;
const ESP_MIB = 260;

const out = join(work, 'mkimage.img');
const mnt = join(work, 'mnt');
const scratch = join(work, 'mkimage-scratch');
const rssFile = join(work, 'rss');
const { compare, rows } = lineRunner({ reps, rssFile });

// Inputs -------------------------------------------------------------------

/** The ESP's contents: what a boot directory holds, as random bytes, kept. */
function bootDir() {
	const dir = join(work, 'esp-boot');
	if (fs.existsSync(`${dir}.done`))
		return dir;
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(join(dir, 'EFI/BOOT'), { recursive: true });
	sh(`head -c 10M /dev/urandom > ${q(join(dir, 'vmlinuz'))} && head -c 40M /dev/urandom > ${q(join(dir, 'initrd.img'))} && ` +
		`head -c 1M /dev/urandom > ${q(join(dir, 'EFI/BOOT/BOOTX64.EFI'))}`);
	fs.writeFileSync(`${dir}.done`, '');
	return dir;
}

function needTools() {
	if (!has('genimage') && only.includes('gpt-esp')) {
		process.stderr.write('installing genimage (apt-get)\n');
		sh('DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends genimage mtools </dev/null', { quiet: true });
	}
	for (const p of ['mke2fs', 'mkfs.xfs', 'mkfs.btrfs', 'mkfs.fat', ...(only.includes('gpt-root') ? ['systemd-repart'] : [])]) {
		if (!has(p))
			throw new Error(`${p} is missing`);
	}
}

// The lines ------------------------------------------------------------------

const lklRun = (cmd) => withRss(`${lkl} ${cmd}`, rssFile);
const rmOut = `rm -rf ${q(out)} ${q(scratch)}`;
const fresh = `${rmOut} && truncate -s ${SIZE_MIB}M ${q(out)}`;
const bare = (fsType, source) => lklRun(`mkimage -q ${q(out)} --table none --part ${fsType}:${SIZE_MIB}M:${q(source)}`) + ' && sync';

function ext4(tree, cache) {
	compare({ tree: 'rootfs', fs: 'ext4', task: 'mkimage, directory' }, cache, readTree(tree), [
		{ name: 'lkl mkimage', lkl: true, setup: rmOut, run: bare('ext4', tree), cleanup: rmOut },
		{ name: 'mke2fs -d', setup: fresh, run: `mke2fs -q -F -t ext4 -d ${q(tree)} ${q(out)} && sync`, cleanup: rmOut },
	], [{ ref: 'mke2fs -d' }]);
}

function ext4Tar(tarball, cache) {
	const ref = 'tar x + mke2fs -d + rm';
	compare({ tree: 'rootfs', fs: 'ext4', task: 'mkimage, .tar.gz' }, cache, `cat ${q(tarball)} > /dev/null`, [
		{ name: 'lkl mkimage', lkl: true, setup: rmOut, run: bare('ext4', tarball), cleanup: rmOut },
		{
			name: ref, setup: `${fresh} && mkdir ${q(scratch)}`,
			run: `${GNU_TAR} -xzpf ${q(tarball)} -C ${q(scratch)} && mke2fs -q -F -t ext4 -d ${q(scratch)} ${q(out)} && ` +
				`rm -rf ${q(scratch)} && sync`,
			cleanup: rmOut,
		},
	], [{ ref }]);
}

function xfs(tree, cache) {
	const ref = 'mkfs.xfs + mount -o loop + cp -a + umount';
	compare({ tree: 'rootfs', fs: 'xfs', task: 'mkimage, directory' }, cache, readTree(tree), [
		{ name: 'lkl mkimage', lkl: true, setup: rmOut, run: bare('xfs', tree), cleanup: rmOut },
		{
			name: ref, setup: fresh,
			run: `mkfs.xfs -q -f ${q(out)} && mount -o loop ${q(out)} ${q(mnt)} && cp -a ${q(tree)}/. ${q(mnt)}/ && umount ${q(mnt)} && sync`,
			cleanup: rmOut,
		},
	], [{ ref }]);
}

function btrfs(tree, cache) {
	const ref = 'mkfs.btrfs --rootdir';
	compare({ tree: 'rootfs', fs: 'btrfs', task: 'mkimage, directory' }, cache, readTree(tree), [
		{ name: 'lkl mkimage', lkl: true, setup: rmOut, run: bare('btrfs', tree), cleanup: rmOut },
		{ name: ref, setup: fresh, run: `mkfs.btrfs -q -f --rootdir ${q(tree)} ${q(out)} && sync`, cleanup: rmOut },
	], [{ ref }]);
}

/** genimage's configuration for the ESP + root disk (it names types by GUID). */
function genimageConfig(dir) {
	const cfg = join(dir, 'genimage.cfg');
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(cfg, [
		`image esp.vfat { vfat {} size = ${ESP_MIB}M mountpoint = "/boot" }`,
		`image root.ext4 { ext4 { use-mke2fs = true } size = ${SIZE_MIB - ESP_MIB - 2}M }`,
		'image disk.img {',
		'	hdimage { partition-table-type = "gpt" }',
		'	partition esp { image = "esp.vfat" partition-type-uuid = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" }',
		'	partition root { image = "root.ext4" partition-type-uuid = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709" }',
		'}',
		'',
	].join('\n'));
	return cfg;
}

function gptEsp(tree, boot, cache) {
	// genimage fills each image from its mount point below one root path:
	// the tree with the boot directory at /boot, as a system keeps it.
	const root = join(work, 'mkimage-root');
	if (!fs.existsSync(`${root}.done`)) {
		fs.rmSync(root, { recursive: true, force: true });
		sh(`cp -a ${q(tree)} ${q(root)} && rm -rf ${q(root)}/boot && cp -a ${q(boot)} ${q(root)}/boot`);
		fs.writeFileSync(`${root}.done`, '');
	}
	const gi = join(work, 'genimage');
	const cfg = genimageConfig(gi);
	const ref = 'genimage (mkfs.fat + mcopy, mke2fs -d)';
	const clean = `${rmOut} && rm -rf ${q(join(gi, 'tmp'))} ${q(join(gi, 'out'))} ${q(join(gi, 'in'))}`;
	compare({ tree: 'rootfs + ESP', fs: 'vfat + ext4', task: 'mkimage, GPT' }, cache, readTree(root), [
		{
			name: 'lkl mkimage', lkl: true, setup: rmOut, cleanup: rmOut,
			run: lklRun(`mkimage -q ${q(out)} --size ${SIZE_MIB}M --part esp:vfat:${ESP_MIB}M:${q(join(root, 'boot'))} ` +
				`--part root:ext4:rest:${q(root)}`) + ' && sync',
		},
		{
			name: ref, setup: `${clean} && mkdir -p ${q(join(gi, 'in'))}`, cleanup: clean,
			run: `genimage --config ${q(cfg)} --rootpath ${q(root)} --tmppath ${q(join(gi, 'tmp'))} --inputpath ${q(join(gi, 'in'))} ` +
				`--outputpath ${q(join(gi, 'out'))} >/dev/null 2>&1 && sync`,
		},
	], [{ ref }]);
}

function gptRoot(tree, cache) {
	const defs = join(work, 'repart.d');
	fs.rmSync(defs, { recursive: true, force: true });
	fs.mkdirSync(defs);
	fs.writeFileSync(join(defs, '10-root.conf'), `[Partition]\nType=root\nFormat=ext4\nCopyFiles=${tree}:/\n`);
	const ref = 'systemd-repart (loop device)';
	compare({ tree: 'rootfs', fs: 'ext4', task: 'mkimage, GPT, root alone' }, cache, readTree(tree), [
		{
			name: 'lkl mkimage', lkl: true, setup: rmOut, cleanup: rmOut,
			run: lklRun(`mkimage -q ${q(out)} --size ${SIZE_MIB}M --part root:ext4:rest:${q(tree)}`) + ' && sync',
		},
		{
			name: ref, setup: rmOut, cleanup: rmOut,
			run: `systemd-repart --empty=create --size=${SIZE_MIB}M --definitions=${q(defs)} --dry-run=no --no-pager ${q(out)} >/dev/null 2>&1 && sync`,
		},
	], [{ ref }]);
}

// The run ----------------------------------------------------------------------

fs.mkdirSync(mnt, { recursive: true });
umountBelow(work);
needTools();
const loadBefore = sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' ');
const tree = join(work, 'rootfs');
const info = makeRootfs(tree);
const tarball = rootfsTarball();
const boot = bootDir();
process.stderr.write(`rootfs: ${info.files} files, ${info.entries} entries, ${(info.bytes / 1e6).toFixed(0)} MB; ${reps} runs each; caches ${caches.join(', ')}\n`);
try {
	for (const cache of caches) {
		if (only.includes('ext4'))
			ext4(tree, cache);
		if (only.includes('ext4-tar'))
			ext4Tar(tarball, cache);
		if (only.includes('xfs'))
			xfs(tree, cache);
		if (only.includes('btrfs'))
			btrfs(tree, cache);
		if (only.includes('gpt-esp'))
			gptEsp(tree, boot, cache);
		if (only.includes('gpt-root'))
			gptRoot(tree, cache);
	}
} finally {
	umountBelow(work);
	sh(rmOut);
}

console.log([
	`rootfs: Debian 12 minbase, ${info.files} regular files, ${info.entries} entries, ${(info.bytes / 1e6).toFixed(0)} MB; ` +
	`ESP: ${boot} (51 MB in 3 files). Images of ${SIZE_MIB} MiB; median of ${reps} runs; ` +
	`load average ${loadBefore} before, ${sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' ')} after.` +
	`${haveTime ? '' : ' Peak RSS not measured: no /usr/bin/time.'}`,
	'',
	...TABLE_HEAD,
	...rows.map(tableRow),
].join('\n'));
