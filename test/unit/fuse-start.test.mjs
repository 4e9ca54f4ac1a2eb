// SPDX-License-Identifier: GPL-2.0
//
// Pure parts of lklfuse's start and stop, no kernel: the advice for a
// server the loader would not run (src/fuse/start-failure.ts), the image
// locks in /proc/locks (image-locks.ts) and FUSE mounts in mountinfo
// (mounts.ts), on texts as the loader, libfuse, fusermount3 and the
// kernel print them.
import t from 'tap';
import { loaderFailure } from '../../dist/src/fuse/start-failure.js';
import { fileId, lockOn, locksOn } from '../../dist/src/lkl/image-locks.js';
import { fuseMounts } from '../../dist/src/fuse/mounts.js';

t.test('the loader\'s refusal to run the server without libfuse3: the cause, and what to do', async (t) => {
	const libfuse = loaderFailure('/usr/lib/lkl/lklfuse-server: error while loading shared libraries: libfuse3.so.3: cannot open shared object file: No such file or directory\n');
	t.same(libfuse, {
		cause: 'libfuse3.so.3 is missing, the FUSE library lklfuse needs',
		advice: 'install the fuse3 package (apt-get install fuse3, or dnf install fuse3)',
	});
	t.equal(loaderFailure('lklfuse-server: disk.img: cannot mount as xfs: not that filesystem\n'), undefined,
		'every other failure the server explains itself (test/fuse/start-failure.test.mjs)');
});

t.test('/proc/locks: the locks on one file', async (t) => {
	const text = [
		'1: OFDLCK ADVISORY  WRITE -1 fe:00:1762131 0 EOF',
		'1: -> OFDLCK ADVISORY  WRITE -1 fe:00:1762131 0 EOF',
		'2: FLOCK  ADVISORY  WRITE 3445 fe:00:5341472 0 EOF',
		'3: OFDLCK ADVISORY  READ -1 103:02:1762131 0 EOF',
		'',
	].join('\n');
	const dev = (major, minor) => (BigInt(major & 0xfff) << 8n) | (BigInt(major & ~0xfff) << 32n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n);
	t.equal(locksOn(text, fileId({ dev: dev(0xfe, 0), ino: 1762131n })), 1, 'a holder counts, a waiter does not');
	t.equal(locksOn(text, fileId({ dev: dev(0x103, 2), ino: 1762131n })), 1, 'devices with large numbers');
	t.equal(locksOn(text, fileId({ dev: dev(0xfe, 0), ino: 1n })), 0, 'another inode');
	t.same(fileId({ dev: dev(259, 70000), ino: 5n }), { major: 259, minor: 70000, ino: 5n }, 'glibc\'s major() and minor()');
	const file = fileId({ dev: dev(0x103, 2), ino: 1762131n });
	t.same(lockOn('lock:\t3: OFDLCK ADVISORY  READ -1 103:02:1762131 0 EOF', file), { writing: false },
		'a /proc/PID/fdinfo line: a shared lock');
	t.same(lockOn('lock:\t1: OFDLCK ADVISORY  WRITE -1 103:02:1762131 0 EOF', file), { writing: true }, 'an exclusive one');
	t.equal(lockOn('lock:\t1: -> OFDLCK ADVISORY  WRITE -1 103:02:1762131 0 EOF', file), undefined, 'a waiter holds none');
	t.equal(lockOn('flags:\t02100002', file), undefined, 'other fdinfo lines');
});

t.test('mountinfo: FUSE mounts with their sources', async (t) => {
	const text = [
		'22 1 0:21 / /proc rw,nosuid - proc proc rw',
		'95 30 0:52 / /tmp/a\\040b rw,nosuid,nodev,relatime shared:50 - fuse.ext4 /tmp/x\\040y.img rw,user_id=0,group_id=0',
		'96 30 0:53 / /mnt rw - fuse /dev/fuse rw',
	].join('\n');
	t.same(fuseMounts(text), [
		{ mountpoint: '/tmp/a b', fsType: 'fuse.ext4', source: '/tmp/x y.img' },
		{ mountpoint: '/mnt', fsType: 'fuse', source: '/dev/fuse' },
	]);
});
