// SPDX-License-Identifier: GPL-2.0
//
// Pure parts of lklfuse's start and stop, no kernel: the advice for a
// server that could not mount (src/fuse/start-failure.ts), the image
// locks in /proc/locks (image-locks.ts) and FUSE mounts in mountinfo
// (mounts.ts), on texts as the loader, libfuse, fusermount3 and the
// kernel print them.
import t from 'tap';
import { startFailure } from '../../dist/src/fuse/start-failure.js';
import { fileId, lockOn, locksOn } from '../../dist/src/lkl/image-locks.js';
import { fuseMounts } from '../../dist/src/fuse/mounts.js';

t.test('start failures: the cause, and what to do', async (t) => {
	const libfuse = startFailure(undefined,
		'/usr/lib/lkl/lklfuse-server: error while loading shared libraries: libfuse3.so.3: cannot open shared object file: No such file or directory\n');
	t.equal(libfuse.cause, 'libfuse3.so.3 is missing, the FUSE library lklfuse needs');
	t.match(libfuse.advice, /install the fuse3 package/);
	const noDevice = startFailure('/mnt: cannot mount: device not found, try \'modprobe fuse\' first', 'fuse: device not found, try \'modprobe fuse\' first\n');
	t.equal(noDevice.cause, '/dev/fuse is missing');
	t.match(noDevice.advice, /--device \/dev\/fuse/);
	t.match(noDevice.advice, /fs2tar, cptofs and cpfromfs need none/);
	const notPermitted = startFailure('/mnt: cannot mount: mount failed: Operation not permitted', '');
	t.equal(notPermitted.cause, 'mounting is not permitted here');
	t.match(notPermitted.advice, /--cap-add SYS_ADMIN.*setuid fusermount3/);
	const noFusermount = startFailure('/mnt: cannot mount: failed to exec fusermount3: No such file or directory', '');
	t.equal(noFusermount.cause, 'fusermount3 is missing, which mounts FUSE filesystems for users other than root');
	// As seen in podman containers (test/containers): a non-root user
	// and a /dev/fuse passed in with the host's mode 0600; a /dev/fuse
	// bind-mounted in, which the device cgroup refuses.
	const denied = startFailure('/w/mnt: cannot mount: failed to open /dev/fuse: Permission denied', '');
	t.equal(denied.cause, 'cannot open /dev/fuse: permission denied');
	t.match(denied.advice, /in a container, \/dev\/fuse has the host's mode: run lklfuse as root there, or make the host's 0666/);
	t.notMatch(denied.advice, /--device/, 'not to pass in a device that is there');
	const refused = startFailure('/w/mnt: cannot mount: failed to open /dev/fuse: Operation not permitted', '');
	t.equal(refused.cause, 'cannot open /dev/fuse: operation not permitted');
	t.match(refused.advice, /pass it in with --device \/dev\/fuse \(a bind mount of \/dev\/fuse is not enough\)/);
	t.same(startFailure('disk.img: cannot mount as xfs: not that filesystem', 'x\n'), { cause: 'disk.img: cannot mount as xfs: not that filesystem' },
		'anything else: what the server said, no advice');
	t.same(startFailure(undefined, 'lklfuse-server: something odd\n\n'), { cause: 'something odd' }, 'or its last line');
	t.same(startFailure(undefined, ''), { cause: 'the FUSE server exited before the mount was ready' });
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
