// SPDX-License-Identifier: GPL-2.0
//
// The filesystems beyond ext4, btrfs, xfs and vfat, one case each: how
// Debian's tools make an image of a tree (or an empty one, that cptofs
// fills), what the filesystem keeps of that tree, which checker the
// filesystem has, and whether this kernel writes it.  check.mjs runs
// every command on each; test/filesystems/<name>.test.mjs picks one, so
// that tap runs them side by side.
//
// What a filesystem keeps is checked, for each, against its source in
// the kernel (see docs/filesystems.md): fields it cannot hold are
// skipped, times are compared at its resolution.
import * as fs from 'node:fs';
import { run } from '../helpers/tree.mjs';

/** Fields no filesystem without Unix metadata keeps. */
const NO_UNIX = ['mode', 'uid', 'gid', 'nlink', 'links', 'xattrs', 'rdev'];

/** mtimes in steps of `ns` nanoseconds (a string, as the views hold them). */
const stepNs = (ns) => (v) => String((BigInt(v) / ns) * ns);

function truncated(img, mib) {
	fs.rmSync(img, { force: true });
	run('truncate', ['-s', `${mib}M`, img]);
	return img;
}

/**
 * Each case:
 *  type      the kernel's name, which detection must give (-t takes it)
 *  tree      'full' (test/helpers/tree.mjs's, every kind of entry) or
 *            'plain' (directories and files, what FAT-like ones hold)
 *  make      (tree, img): an image of the tree by the filesystem's tool
 *  empty     (img): an empty image by its mkfs, for cptofs to fill
 *  readOnly  the kernel only reads it
 *  lacks     view fields it does not keep
 *  mtime     (value) => the mtime as the filesystem keeps it
 *  fsck      [cmd, args]: its checker, read-only (run after writes), or null
 *  xattrs    (names) => the names that are xattrs (not the filesystem's
 *            own metadata shown as such)
 *  copyWarns why a copy out warns, where it should not (todo)
 *  listsBadXattrs  why xattrs cannot be read through the kernel (the
 *            copies and lklfuse's view are todo)
 */
export const CASES = {
	squashfs: {
		type: 'squashfs', tree: 'full', readOnly: true,
		// squashfs_base_inode: mtime in whole seconds; xattrs of every
		// namespace; hard links share one inode
		make: (tree, img) => run('mksquashfs', [tree, img, '-noappend', '-quiet', '-no-progress']),
		lacks: [],
		mtime: stepNs(1_000_000_000n),
		fsck: ['unsquashfs', ['-stat']],
	},
	erofs: {
		type: 'erofs', tree: 'full', readOnly: true,
		make: (tree, img) => run('mkfs.erofs', ['--quiet', img, tree]),
		lacks: [],
		mtime: (v) => v,
		fsck: ['fsck.erofs', []],
	},
	// compressed as distributions ship it (lz4hc: Debian 12's mkfs.erofs
	// has lz4 and lz4hc), read through vmap() (arch/lkl/kernel/vmap.c)
	erofsLz4hc: {
		type: 'erofs', tree: 'full', readOnly: true,
		make: (tree, img) => run('mkfs.erofs', ['--quiet', '-zlz4hc', img, tree]),
		lacks: [],
		mtime: (v) => v,
		fsck: ['fsck.erofs', []],
	},
	iso9660: {
		type: 'iso9660', tree: 'full', readOnly: true,
		// Rock Ridge: modes, owners, devices, symlinks, times in seconds
		// (TF's short form); each name of a hard link is an inode of its
		// own (with the link count of them all: a copy makes separate
		// files); no xattrs (xorriso's AAIP is not read by the kernel)
		make: (tree, img) => run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-o', img, tree]),
		lacks: ['links', 'nlink', 'xattrs'],
		mtime: stepNs(1_000_000_000n),
		fsck: null,
	},
	udf: {
		type: 'udf', tree: 'full',
		// owners, modes with setuid/setgid/sticky, devices, FIFOs,
		// symlinks, hard links; times in microseconds; no xattrs
		empty: (img) => run('mkudffs', [truncated(img, 64)]),
		lacks: ['xattrs'],
		mtime: stepNs(1000n),
		// Debian 12's udftools has no fsck.udf: udfinfo at least reads
		// every descriptor and the space bitmap
		fsck: ['udfinfo', []],
	},
	exfat: {
		type: 'exfat', tree: 'plain',
		// no owners, modes or links; times in 10 ms steps
		empty: (img) => run('mkfs.exfat', [truncated(img, 64)]),
		lacks: NO_UNIX,
		mtime: stepNs(10_000_000n),
		fsck: ['fsck.exfat', ['-n']],
	},
	ntfs3: {
		type: 'ntfs3', tree: 'full',
		// owners, modes and device numbers in WSL's extended attributes
		// ($LXUID, $LXGID, $LXMOD, $LXDEV), symlinks as reparse points,
		// hard links, user xattrs as NTFS EAs; times in 100 ns.  (6.12's
		// ntfs3 read device numbers back as 0,0: linux/patches/0003.)  It
		// lists the WSL attributes among the xattrs, by names without a
		// namespace, which no Linux filesystem takes.
		empty: (img) => run('mkntfs', ['--quiet', '--fast', '--force', truncated(img, 64)]),
		lacks: [],
		xattrs: (names) => names.filter((n) => !n.startsWith('$LX')),
		copyWarns: 'the copies pass on ntfs3\'s $LX* attributes, which the host refuses',
		mtime: stepNs(100n),
		fsck: ['ntfsfix', ['--no-action']],
	},
	f2fs: {
		type: 'f2fs', tree: 'full',
		empty: (img) => run('mkfs.f2fs', ['-q', '-f', truncated(img, 128)]),
		lacks: [],
		mtime: (v) => v,
		fsck: ['fsck.f2fs', ['--dry-run']],
	},
	jfs: {
		type: 'jfs', tree: 'full',
		empty: (img) => run('mkfs.jfs', ['-q', truncated(img, 64)]),
		lacks: [],
		mtime: (v) => v,
		fsck: ['fsck.jfs', ['-n', '-f']],
	},
	hfsplus: {
		type: 'hfsplus', tree: 'full', readOnly: 'locked',
		// The HFS+ side of an ISO image for Macs (Debian 12 has no
		// mkfs.hfsplus: hfsprogs is gone): locked, so the kernel mounts
		// it read-only; detection prefers the ISO 9660 side (detect.c)
		make: (tree, img) => run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-hfsplus', '-o', img, tree]),
		detectedAs: 'iso9660',
		// libisofs makes no hard links, and writes device numbers as
		// macOS reads them, which Linux's hfsplus does not
		lacks: ['xattrs', 'nlink', 'links', 'rdev'],
		// (6.12's hfsplus listed the Finder info, which libisofs gives
		// every file, one byte short: linux/patches/0002.)  Its name,
		// osx.com.apple.FinderInfo, is in a namespace only hfsplus takes.
		copyWarns: 'the copies pass on hfsplus\'s osx.* attributes (the Finder info), which the host refuses',
		mtime: stepNs(1_000_000_000n),
		// no fsck.hfsplus either; nothing writes it here
		fsck: null,
	},
};

/** The view rules of a case, for diffTrees (test/helpers/views.mjs). */
export function rulesOf(c) {
	return {
		// the top directory is mkfs's own, or cptofs's destination
		skip: (path, field, e) => (e.type === 'dir' && ['size', 'nlink'].includes(field)) ||
			path === '/' || c.lacks.includes(field),
		normalize: (field, v) => {
			if (field === 'mtimeNs' && v !== undefined)
				return c.mtime(String(v));
			if (field === 'xattrs' && v && c.xattrs)
				return Object.fromEntries(c.xattrs(Object.keys(v)).map((n) => [n, v[n]]));
			return v;
		},
	};
}
