// SPDX-License-Identifier: GPL-2.0
//
// Two things pipelines do to containers: run them as a non-root user
// (--user 1000:1000, a user the image does not even name, whose HOME is
// /), and make their root read-only (--read-only, a tmpfs on /tmp).
//
// As user 1000 the copy commands work as on the host.  lklfuse works
// where the user can open /dev/fuse (it has the host's mode in the
// container: 0666 where udev runs) and the container has CAP_SYS_ADMIN
// (podman gives it to the user, and fusermount3 is setuid too); where
// either is missing it says which.  The test makes its own device nodes
// (0600, 0666) to pass in, so that the host's own mode does not decide.
//
// With a read-only root, the single-file executable unpacks its native
// files to $TMPDIR/lkl-<uid>/bin (its home's cache is not writable), and
// works, lklfuse too; on a noexec /tmp (docker's --tmpfs default) it says so, and
// XDG_CACHE_HOME on a volume fixes it.  The npm package needs nothing
// written at all.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { emptyImage, lklOk, loopMount, rulesFor, same, sha256File, treeView } from '../helpers/cli.mjs';
import { fsck, makeTree, run } from '../helpers/tree.mjs';
import { clean, images, noPodman, npmImage, runIn, seaImage, workDir } from './podman.mjs';

const skip = noPodman();
if (skip) {
	t.plan(0, skip);
	process.exit();
}

t.setTimeout(1_200_000);
process.umask(0o022);

const UID = 1000;
const dir = workDir(t, 'lkl-ct-user-');
const { fuse } = images();
const lklNpm = npmImage(t, fuse);
const VOLUME = ['-v', `${dir}:/w`];
const USER = ['--user', `${UID}:${UID}`];

// The user's own tree and images, as a CI job would have them.
const tree = join(dir, 'tree');
makeTree(tree, 'full');
run('chown', ['-R', '-h', `${UID}:${UID}`, tree]);
const full = emptyImage('ext4', join(dir, 'full.img'));
lklOk(['cptofs', '-i', full, `${tree}/.`, '/']);
fs.chmodSync(full, 0o644);

/** An empty ext4 image the user owns. */
function userImage(name) {
	const img = emptyImage('ext4', join(dir, name));
	fs.chownSync(img, UID, UID);
	return img;
}

t.test('--user 1000:1000: the copy commands', async (t) => {
	const img = userImage('copy.img');
	fs.mkdirSync(join(dir, 'out'));
	fs.chownSync(join(dir, 'out'), UID, UID);
	const r = runIn(t, lklNpm, ['sh', '-c', 'set -e; id -u; echo "$HOME"; lkl cptofs -i /w/copy.img /w/tree/. /; ' +
		'lkl fs2tar /w/full.img /w/out/full.tar; lkl cpfromfs -i /w/full.img /dir /hello.txt /w/out'], { flags: [...USER, ...VOLUME] });
	clean(t, r, 'cptofs, fs2tar, cpfromfs');
	t.equal(r.stdout, `${UID}\n/\n`, 'run as user 1000, whose HOME is /');
	const check = fsck('ext4', img);
	t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
	same(t, treeView(tree), treeView(loopMount(t, img, dir, 'loop-copy')), rulesFor('ext4'), 'cptofs: the host kernel\'s view');
	lklOk(['fs2tar', full, join(dir, 'host.tar')]);
	t.equal(sha256File(join(dir, 'out/full.tar')), sha256File(join(dir, 'host.tar')), 'fs2tar: the archive the host makes');
	t.equal(fs.readFileSync(join(dir, 'out/hello.txt'), 'utf8'), 'Hello, world!\n', 'cpfromfs: a file');
	t.equal(fs.readFileSync(join(dir, 'out/dir/sub/deeper/leaf.txt'), 'utf8'), 'the leaf\n', 'and a directory');
});

t.test('--user 1000:1000: lklfuse', async (t) => {
	// Device nodes of our own with known modes, passed in as /dev/fuse.
	for (const mode of ['0600', '0666'])
		run('mknod', ['-m', mode, join(dir, `fuse-${mode}`), 'c', '10', '229']);
	const lklfuse = (t, mode, flags, script) => runIn(t, lklNpm, ['sh', '-c', script],
		{ flags: [...USER, ...VOLUME, '--device', `${dir}/fuse-${mode}:/dev/fuse`, ...flags] });
	const MOUNT = 'mkdir /tmp/mnt && lkl lklfuse /w/fuse.img /tmp/mnt';

	t.test('a /dev/fuse the user may open, and CAP_SYS_ADMIN: read, write, unmount', async (t) => {
		const img = userImage('fuse.img');
		const r = lklfuse(t, '0666', ['--cap-add', 'SYS_ADMIN'],
			`set -e; ${MOUNT}; echo written by 1000 > /tmp/mnt/u.txt; ls -n /tmp/mnt/u.txt | cut -d' ' -f3; lkl unmount /tmp/mnt; echo unmounted`);
		clean(t, r, 'mount, write, lkl unmount');
		t.equal(r.stdout, `${UID}\nunmounted\n`, 'the file is the user\'s, and lkl unmount returns');
		const check = fsck('ext4', img);
		t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
		t.equal(fs.readFileSync(join(loopMount(t, img, dir, 'loop-fuse'), 'u.txt'), 'utf8'), 'written by 1000\n',
			'the host kernel reads it');
	});

	// Docker does not make an added capability ambient for a non-root
	// user as podman does: there the user has none, and the setuid
	// fusermount3 mounts, with the capability the container's bounding
	// set now has.  setpriv drops the ambient one to see that path.
	t.test('no capability of the user\'s own, as docker runs it: the setuid fusermount3 mounts', async (t) => {
		const img = userImage('fuse.img');
		const r = lklfuse(t, '0666', ['--cap-add', 'SYS_ADMIN'], 'setpriv --inh-caps=-all --ambient-caps=-all sh -c \'' +
			`set -e; grep CapEff /proc/self/status | tr -d "\\t"; ${MOUNT}; grep " /tmp/mnt " /proc/self/mountinfo | grep -o "user_id=[0-9]*"; ` +
			'echo via fusermount3 > /tmp/mnt/s.txt; lkl unmount /tmp/mnt; echo unmounted\'');
		clean(t, r, 'mount, write, lkl unmount');
		t.equal(r.stdout, 'CapEff:0000000000000000\nuser_id=1000\nunmounted\n',
			'the user has no capability (so the setuid fusermount3 made the mount), the mount is the user\'s, lkl unmount returns');
		const check = fsck('ext4', img);
		t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
		t.equal(fs.readFileSync(join(loopMount(t, img, dir, 'loop-setuid'), 's.txt'), 'utf8'), 'via fusermount3\n',
			'the host kernel reads it');
	});

	t.test('without CAP_SYS_ADMIN: not permitted', async (t) => {
		userImage('fuse.img');
		const r = lklfuse(t, '0666', [], MOUNT);
		t.equal(r.status, 1, 'exits 1');
		t.equal(r.stderr, 'lkl: cannot mount /w/fuse.img on /tmp/mnt: mounting is not permitted here\n' +
			'lkl: a container needs --cap-add SYS_ADMIN besides --device /dev/fuse, and a host a setuid fusermount3 ' +
			'(from the fuse3 package); lkl fs2tar, cptofs and cpfromfs need none of this\n', 'the cause and the advice');
	});

	t.test('a /dev/fuse of mode 0600 (the host\'s, passed in): the user may not open it', async (t) => {
		userImage('fuse.img');
		const r = lklfuse(t, '0600', ['--cap-add', 'SYS_ADMIN'], `ls -l /dev/fuse | cut -c1-10; ${MOUNT}`);
		t.equal(r.stdout, 'crw-------\n', 'the device keeps the mode of the node passed in');
		t.equal(r.status, 1, 'exits 1');
		t.equal(r.stderr, 'lkl: cannot mount /w/fuse.img on /tmp/mnt: cannot open /dev/fuse: permission denied\n' +
			'lkl: this user may not read and write /dev/fuse: on a host, make it 0666 (as udev does); ' +
			'in a container, /dev/fuse has the host\'s mode: run lklfuse as root there, or make the host\'s 0666; ' +
			'lkl fs2tar, cptofs and cpfromfs need none of this\n', 'the cause and the advice');
	});
});

t.test('--read-only root', async (t) => {
	const sea = seaImage(t, fuse);
	// fs2tar to stdout, then cptofs: reads and writes the image only.
	const WORK = 'set -e; lkl fs2tar /w/full.img - | sha256sum | cut -c1-64; lkl cptofs -i /w/ro.img /w/tree/dir /; echo copied';
	if (!fs.existsSync(join(dir, 'host.tar')))
		lklOk(['fs2tar', full, join(dir, 'host.tar')]);
	const expect = `${sha256File(join(dir, 'host.tar'))}\ncopied\n`;

	const ok = (t, r, img, what) => {
		clean(t, r, what);
		t.ok(r.stdout.startsWith(expect), 'fs2tar\'s archive is the host\'s, cptofs copied');
		const check = fsck('ext4', img);
		t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
	};

	for (const [what, flags, uid] of [
		['--read-only (podman mounts a tmpfs on /tmp)', ['--read-only'], 0],
		['--read-only --tmpfs /tmp', ['--read-only', '--tmpfs', '/tmp'], 0],
		['--read-only, --user 1000:1000', ['--read-only', ...USER], UID],
	]) {
		t.test(`the single-file executable, ${what}: unpacks to /tmp/lkl-${uid}/bin`, async (t) => {
			const img = userImage('ro.img');
			const r = runIn(t, sea, ['sh', '-c', `${WORK}; ls /tmp/lkl-${uid}/bin; stat -c %a /tmp/lkl-${uid}; ` +
				'touch /usr/x 2>/dev/null || echo the root is read-only; command -v node || echo no node'],
			{ flags: [...flags, ...VOLUME] });
			ok(t, r, img, 'the executable');
			t.match(r.stdout, new RegExp(`^copied\\n[0-9a-f]{64}\\n700\\nthe root is read-only\\nno node\\n$`, 'm'),
				'its files in a directory of its own, mode 700, under /tmp; the root read-only; no node');
		});
	}

	t.test('the single-file executable, a noexec /tmp (docker\'s --tmpfs default): the cause, and XDG_CACHE_HOME', async (t) => {
		const img = userImage('ro.img');
		const noexec = ['--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,nodev', ...VOLUME];
		const r = runIn(t, sea, ['lkl', 'fs2tar', '/w/full.img', '/tmp/x.tar'], { flags: noexec });
		t.equal(r.status, 1, 'exits 1');
		t.match(r.stderr, /^lkl: cannot load lkl's native files on linux-x64 \(glibc [0-9.]+\): \/tmp\/lkl-0\/bin\/[0-9a-f]{64}\/lkl\.node will not load \(failed to map segment from shared object\); its directory may be on a noexec filesystem: set XDG_CACHE_HOME or TMPDIR to another\n$/,
			'one line: what would not load, and what to set');
		const cache = join(dir, 'cache');
		fs.mkdirSync(cache, { mode: 0o700 });
		const again = runIn(t, sea, ['sh', '-c', WORK], { flags: [...noexec, '-v', `${cache}:/cache`, '-e', 'XDG_CACHE_HOME=/cache'] });
		ok(t, again, img, 'with XDG_CACHE_HOME=/cache, a volume');
		t.same(fs.readdirSync(join(cache, 'lkl')), ['bin'], 'it unpacked there');
	});

	t.test('the single-file executable, --read-only, lklfuse with --device /dev/fuse --cap-add SYS_ADMIN', async (t) => {
		const img = emptyImage('ext4', join(dir, 'ro-fuse.img'));
		const r = runIn(t, sea, ['sh', '-c', 'set -e; mkdir /tmp/m; lkl lklfuse /w/ro-fuse.img /tmp/m; ' +
			'echo on a read-only root > /tmp/m/r.txt; lkl unmount /tmp/m; echo unmounted'],
		{ flags: ['--read-only', '--device', '/dev/fuse', '--cap-add', 'SYS_ADMIN', ...VOLUME] });
		clean(t, r, 'mount, write, lkl unmount');
		t.equal(r.stdout, 'unmounted\n', 'lkl unmount returns');
		const check = fsck('ext4', img);
		t.ok(check.ok, `e2fsck finds nothing wrong${check.ok ? '' : `\n${check.output}`}`);
		t.equal(fs.readFileSync(join(loopMount(t, img, dir, 'loop-ro-fuse'), 'r.txt'), 'utf8'), 'on a read-only root\n',
			'the host kernel reads it');
	});

	t.test('the npm package, --read-only --tmpfs /tmp', async (t) => {
		const img = userImage('ro.img');
		const r = runIn(t, lklNpm, ['sh', '-c', WORK], { flags: ['--read-only', '--tmpfs', '/tmp', ...USER, ...VOLUME] });
		ok(t, r, img, 'the npm package');
	});
});
