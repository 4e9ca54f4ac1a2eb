// Helpers for the command-line tests (test/cli): running `node bin/lkl`
// as a user would, a source tree holding every kind of entry and
// attribute, empty images made by each filesystem's mkfs, and a view of a
// tree read by python3 (independent of lkl's own code) to compare trees
// field by field.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { undoAtEnd } from './machine.mjs';
import { diffTrees } from './views.mjs';
import { fsck, makeTree, run, tempDir } from './tree.mjs';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const LKL = join(REPO, 'bin/lkl');
export const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/**
 * Runs `node bin/lkl ...args` and returns { status, stdout, stderr }.
 * `input` is fed to stdin; `user` runs it through runuser as that user
 * (from `repo`, the repository where that user can reach it: see
 * repoForUsers in machine.mjs);
 * `buffer` keeps stdout as a Buffer; after `timeout` ms it is killed
 * (status null, signal SIGKILL).
 */
export function lkl(args, { input, user, repo, buffer = false, env, cwd, timeout = 60_000 } = {}) {
	// As a user runs it: without the loader hooks tap's process-info
	// plugin adds to NODE_OPTIONS of every child (it patches spawnSync).
	const node = ['env', '-u', 'NODE_OPTIONS', process.execPath, repo ? join(repo, 'bin/lkl') : LKL, ...args];
	const [cmd, ...argv] = user ? ['runuser', '-u', user, '--', ...node] : node;
	const r = spawnSync(cmd, argv, {
		input,
		env: { ...process.env, ...env },
		cwd,
		maxBuffer: 1 << 30,
		// A hung kernel fails the test rather than the whole suite.
		timeout,
		killSignal: 'SIGKILL',
		encoding: buffer ? 'buffer' : 'utf8',
	});
	// Not for EPIPE (it exited without reading all of `input`) or a
	// timeout: the status or signal tells those.
	if (r.error && r.status === null && r.signal === null)
		throw r.error;
	return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: buffer ? r.stderr.toString() : r.stderr };
}

/** Like lkl(), but throws with the output unless it exits 0. */
export function lklOk(args, options) {
	const r = lkl(args, options);
	if (r.status !== 0)
		throw new Error(`lkl ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
	return r;
}

/** SHA-256 of a file. */
export function sha256File(path) {
	return createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

// Trees ------------------------------------------------------------------

/** Runs a python3 program with arguments; returns its stdout. */
export function python(program, args = [], options = {}) {
	return run(PYTHON, ['-c', program, ...args], { maxBuffer: 1 << 28, ...options });
}

// A v3 security.capability (namespaced, root uid 100000): cap_net_raw
// permitted and effective.  Linux keeps the root id, so it reads back
// unchanged.
export const CAP_V3 = '0x010000030020000000000000000000000000000000a08601';
export const SELINUX_LABEL = 'system_u:object_r:etc_t:s0';
export const BIG_ID = 4000000000;

/** Bytes 0..255 as hex: a user xattr value with every byte in it. */
export const ALL_BYTES = `0x${Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex')}`;

const STAMP = `
import os, sys
root = os.fsencode(sys.argv[1])
base = int(sys.argv[2])
paths = []
def walk(rel):
    p = os.path.join(root, rel) if rel else root
    for n in sorted(os.listdir(p)):
        r = os.path.join(rel, n) if rel else n
        if os.path.isdir(os.path.join(root, r)) and not os.path.islink(os.path.join(root, r)):
            walk(r)
        else:
            paths.append(r)
    paths.append(rel)
walk(b'')
for i, r in enumerate(paths):
    p = os.path.join(root, r) if r else root
    t = base + i * 1000003 + 7
    os.utime(p, ns=(t - 500000000, t), follow_symlinks=False)
`;

/**
 * Gives every entry under `root` a distinct mtime with nanoseconds (and
 * an atime half a second before), deepest first so that directories keep
 * theirs.
 */
export function stampTimes(root, baseNs = 1_700_000_000_123_456_789n) {
	python(STAMP, [root, String(baseNs)]);
}

/**
 * Writes the full test tree into `dir` (which must not exist): test/
 * helpers/tree.mjs's 'full' tree (files of every size, nested dirs,
 * relative/absolute/dangling symlinks, a hard link, a FIFO, a character
 * device, setuid/setgid/sticky modes, user xattrs, other owners), plus:
 * a block device and a device with large numbers (the largest XFS takes: major 511, minor 2^18-1), owners and groups
 * above 2^31, a hard-link group of three and a hard-linked FIFO, a user
 * xattr holding every byte value, file capabilities (v2 through setcap
 * and a v3 blob), SELinux labels (on a file, a directory and a symlink),
 * access and default POSIX ACLs, a name with a newline, a name that is
 * not UTF-8, a 255-byte name, paths and a symlink target longer than
 * ustar's fields.  Needs root; returns the root path.
 */
export function makeFullTree(dir) {
	makeTree(dir, 'full');
	const p = (rel) => join(dir, rel);
	fs.mkdirSync(p('special'));
	run('mknod', ['-m', '0640', p('special/loop-blk'), 'b', '7', '200']);
	run('mknod', ['-m', '0600', p('special/big-chr'), 'c', '511', '262143']);
	fs.writeFileSync(p('special/big-owner'), 'owned by a large id\n');
	fs.lchownSync(p('special/big-owner'), BIG_ID, BIG_ID + 1);
	fs.symlinkSync('big-owner', p('special/big-owner-link'));
	fs.lchownSync(p('special/big-owner-link'), BIG_ID + 2, 3);
	fs.writeFileSync(p('special/three-links'), 'one inode, three names\n');
	fs.linkSync(p('special/three-links'), p('special/three-links.2'));
	fs.linkSync(p('special/three-links'), p('dir/sub/three-links.3'));
	run('mkfifo', ['-m', '0640', p('special/fifo-linked')]);
	fs.linkSync(p('special/fifo-linked'), p('special/fifo-linked.2'));
	fs.writeFileSync(p('special/all-bytes'), 'xattr with every byte value\n');
	run('setfattr', ['-n', 'user.all-bytes', '-v', ALL_BYTES, p('special/all-bytes')]);
	run('setfattr', ['-n', 'user.long', '-v', `0x${Buffer.alloc(1500, 0xa5).toString('hex')}`, p('special/all-bytes')]);
	run('setcap', ['cap_net_bind_service,cap_net_raw+ep', p('exec.sh')]);
	fs.writeFileSync(p('special/cap-v3'), 'namespaced file capability\n');
	fs.chmodSync(p('special/cap-v3'), 0o755);
	run('setfattr', ['-n', 'security.capability', '-v', CAP_V3, p('special/cap-v3')]);
	run('setfattr', ['-n', 'security.selinux', '-v', SELINUX_LABEL, p('hello.txt')]);
	run('setfattr', ['-n', 'security.selinux', '-v', 'system_u:object_r:usr_t:s0', p('dir')]);
	run('setfattr', ['-h', '-n', 'security.selinux', '-v', 'system_u:object_r:bin_t:s0', p('links/rel')]);
	fs.mkdirSync(p('acl'));
	fs.writeFileSync(p('acl/file'), 'a file with an access ACL\n');
	run('setfacl', ['-m', 'u:1000:rw-,u:4000000000:r--,g:2000:r--,m::rw-', p('acl/file')]);
	fs.mkdirSync(p('acl/dir'));
	run('setfacl', ['-m', 'u:1000:rwx,g:100:r-x', p('acl/dir')]);
	run('setfacl', ['-d', '-m', 'u:1000:rwx,g:100:r-x,o::---', p('acl/dir')]);
	fs.writeFileSync(p('acl/dir/inherited'), 'made after the default ACL\n');
	fs.writeFileSync(p('new\nline'), 'a name with a newline\n');
	// Paths and a link target too long for ustar's fields, a 255-byte name.
	const deep = p(`long/${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`);
	fs.mkdirSync(deep, { recursive: true });
	fs.writeFileSync(join(deep, 'n'.repeat(255)), 'a long path\n');
	fs.symlinkSync(`${'../'.repeat(3)}${'t'.repeat(1000)}`, join(deep, 'long-target'));
	fs.writeFileSync(Buffer.from(`${dir}/latin1-\xe9t\xe9`, 'latin1'), 'a name that is not UTF-8\n');
	stampTimes(dir);
	return dir;
}

/** The vfat tree: directories and regular files only, times in 2 s steps. */
export function makeVfatTree(dir) {
	makeTree(dir, 'vfat');
	stampTimes(dir, 1_700_000_000_000_000_000n);
	return dir;
}

const VIEW = `
import os, sys, stat, json, hashlib
root = os.fsencode(sys.argv[1])
ignore = set(os.fsencode(n) for n in json.loads(sys.argv[2]))
out = {}
TYPES = [(stat.S_ISREG, 'file'), (stat.S_ISDIR, 'dir'), (stat.S_ISLNK, 'symlink'), (stat.S_ISFIFO, 'fifo'),
         (stat.S_ISCHR, 'chr'), (stat.S_ISBLK, 'blk'), (stat.S_ISSOCK, 'sock')]
def visit(rel):
    p = os.path.join(root, rel) if rel else root
    st = os.lstat(p)
    kind = next(n for f, n in TYPES if f(st.st_mode))
    e = {'type': kind, 'mode': st.st_mode, 'uid': st.st_uid, 'gid': st.st_gid, 'size': st.st_size,
         'nlink': st.st_nlink, 'mtimeNs': str(st.st_mtime_ns), 'ino': '%d:%d' % (st.st_dev, st.st_ino)}
    if kind in ('chr', 'blk'):
        e['rdev'] = '%d,%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        names = []
    e['xattrs'] = {n: os.getxattr(p, n, follow_symlinks=False).hex() for n in sorted(names)}
    if kind == 'symlink':
        e['target'] = os.readlink(p).decode('utf-8', 'backslashreplace')
    if kind == 'file':
        h = hashlib.sha256()
        with open(p, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
        e['sha256'] = h.hexdigest()
    out['/' + rel.decode('utf-8', 'backslashreplace')] = e
    if kind == 'dir':
        for n in sorted(os.listdir(p)):
            if rel == b'' and n in ignore:
                continue
            visit(os.path.join(rel, n) if rel else n)
visit(b'')
print(json.dumps(out))
`;

/**
 * What python3's os module sees of `root`: Map of "/path" → { type, mode,
 * uid, gid, size, nlink, mtimeNs, rdev, xattrs (every namespace, hex),
 * target, sha256, links }, where `links` lists the paths that share the
 * entry's inode (for non-directories with more than one link).
 * Names that are not UTF-8 show their bytes as \xNN.
 */
export function treeView(root, { ignore = ['lost+found'] } = {}) {
	const raw = JSON.parse(python(VIEW, [root, JSON.stringify(ignore)]));
	const byIno = new Map();
	for (const [path, e] of Object.entries(raw)) {
		if (e.type !== 'dir' && e.nlink > 1)
			byIno.set(e.ino, [...(byIno.get(e.ino) ?? []), path]);
	}
	const view = new Map();
	for (const [path, e] of Object.entries(raw)) {
		if (e.type !== 'dir' && e.nlink > 1)
			e.links = byIno.get(e.ino).sort().join(' ');
		delete e.ino;
		view.set(path, e);
	}
	return view;
}

/** The part of a view under `prefix` ("/sub/dir"), as a view of its own. */
export function subView(view, prefix) {
	const out = new Map();
	const strip = (p) => (p === prefix ? '/' : p.slice(prefix.length));
	for (const [path, e] of view) {
		if (path !== prefix && !path.startsWith(`${prefix}/`))
			continue;
		const links = e.links?.split(' ').filter((p) => p.startsWith(`${prefix}/`)).map(strip).join(' ');
		out.set(strip(path), links === undefined ? e : { ...e, links });
	}
	return out;
}

/** The fields of a python view compared: the view's own, hard links included. */
export const VIEW_FIELDS = ['type', 'mode', 'uid', 'gid', 'size', 'nlink', 'mtimeNs', 'rdev', 'target', 'sha256', 'xattrs', 'links'];

/**
 * Per filesystem: what a copy through it cannot keep of the full tree.
 * Directory sizes and link counts are each filesystem's own business.
 */
export const FS_RULES = {
	ext4: {},
	btrfs: {},
	xfs: {},
	vfat: {
		// FAT: no owners, modes, links or xattrs; mtimes in 2 s steps.
		skip: (_p, field) => ['mode', 'uid', 'gid', 'nlink', 'xattrs'].includes(field),
		normalize: (field, v) => (field === 'mtimeNs' ? String((BigInt(v) / 2_000_000_000n) * 2n) : v),
	},
};

const XFS_ACL_ALIASES = ['trusted.SGI_ACL_FILE', 'trusted.SGI_ACL_DEFAULT'];

/**
 * Combines a filesystem's rules with the usual ones for copies: the top
 * directory is left out unless `root`; `xfsAclAliases` ignores the
 * trusted.SGI_ACL_* names under which XFS also shows root a POSIX ACL
 * (on a host mount of XFS); `extra(path, field, entry)` skips more.
 */
export function rulesFor(kind, { root = false, xfsAclAliases = false, extra = () => false } = {}) {
	const r = FS_RULES[kind];
	const fsNormalize = r.normalize ?? ((_f, v) => v);
	return {
		skip: (path, field, e) => (e.type === 'dir' && ['size', 'nlink'].includes(field)) ||
			(!root && path === '/') || r.skip?.(path, field, e) || extra(path, field, e),
		normalize: (field, v, e) => {
			if (field === 'xattrs' && xfsAclAliases && kind === 'xfs')
				v = Object.fromEntries(Object.entries(v).filter(([n]) => !XFS_ACL_ALIASES.includes(n)));
			return fsNormalize(field, v, e);
		},
	};
}

// Images -----------------------------------------------------------------

/** Sizes of the empty images, MiB: the smallest each mkfs is happy with, and room for the tree. */
export const EMPTY_MIB = { ext4: 32, btrfs: 120, xfs: 300, vfat: 32 };

/** An empty filesystem of `kind` made by its mkfs, sparse. */
export function emptyImage(kind, img, mib = EMPTY_MIB[kind]) {
	fs.rmSync(img, { force: true });
	run('truncate', ['-s', `${mib}M`, img]);
	switch (kind) {
	case 'ext4': run('mkfs.ext4', ['-q', '-F', '-I', '256', '-b', '4096', img]); break;
	case 'btrfs': run('mkfs.btrfs', ['-q', '-f', img]); break;
	case 'xfs': run('mkfs.xfs', ['-q', '-f', img]); break;
	case 'vfat': run('mkfs.vfat', [img]); break;
	default: throw new Error(`unknown filesystem ${kind}`);
	}
	return img;
}

/**
 * The host kernel can mount these through a loop device: it has the
 * filesystem already, or as a module that a mount loads (whether an
 * earlier test loaded it must not matter).
 */
export function hostCanMount(kind) {
	const fsList = fs.readFileSync('/proc/filesystems', 'utf8');
	if (new RegExp(`\\s${kind}\\n`).test(fsList))
		return true;
	const env = { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
	return spawnSync('modprobe', ['--dry-run', '--quiet', kind], { env }).status === 0;
}

/**
 * Mounts `img` read-only through a loop device on a new directory under
 * `dir`; unmounted when `t` ends.
 */
export function loopMount(t, img, dir, name = 'mnt') {
	const mnt = join(dir, name);
	fs.mkdirSync(mnt, { recursive: true });
	run('mount', ['-o', 'loop,ro', img, mnt]);
	undoAtEnd(t, `the loop mount ${mnt}`, () => {
		if (spawnSync('umount', [mnt]).status !== 0)
			run('umount', ['-l', mnt]);
	});
	return mnt;
}

/** Extracts an archive with GNU tar as root, keeping everything. */
export function gnuExtract(archive, dest, extra = []) {
	fs.mkdirSync(dest, { recursive: true });
	run('tar', ['--xattrs', '--xattrs-include=*', '--acls', '--same-owner', '--numeric-owner',
		'-xpf', archive, '-C', dest, ...extra]);
	return dest;
}

const TAR_ENTRIES = `
import sys, tarfile, json
out = []
with tarfile.open(sys.argv[1], 'r:*', errors='surrogateescape') as tf:
    for m in tf:
        name = m.name.encode('utf-8', 'surrogateescape').decode('utf-8', 'backslashreplace')
        if m.isdir():
            name += '/'
        out.append({'name': name, 'type': m.type.decode(), 'mode': m.mode, 'uid': m.uid, 'gid': m.gid,
                    'size': m.size, 'mtime': str(m.pax_headers.get('mtime', m.mtime)),
                    'pax': sorted(m.pax_headers.keys()), 'atime': m.pax_headers.get('atime'),
                    'ctime': m.pax_headers.get('ctime')})
print(json.dumps(out))
`;

/**
 * The entries of an archive as python3's tarfile reads them, in order:
 * { name (directories end in "/"), type, mode, uid, gid, size, mtime
 * (the pax text if any), pax (the record keys), atime, ctime }.
 */
export function tarEntries(archive) {
	return JSON.parse(python(TAR_ENTRIES, [archive]));
}

/** Just the names, in archive order. */
export function tarNames(archive) {
	return tarEntries(archive).map((e) => e.name);
}

const WALK = `
import os, sys, json
root = os.fsencode(sys.argv[1])
extra = set(os.fsencode(n) for n in json.loads(sys.argv[2]))
out = []
def walk(rel, top):
    names = set(os.listdir(os.path.join(root, rel) if rel else root))
    if top:
        names |= extra
    for n in sorted(names):
        r = os.path.join(rel, n) if rel else n
        p = os.path.join(root, r)
        isdir = n in extra and top or (os.path.isdir(p) and not os.path.islink(p))
        out.append(r.decode('utf-8', 'backslashreplace') + ('/' if isdir else ''))
        if isdir and not (n in extra and top):
            walk(r, False)
walk(b'', True)
print(json.dumps(out))
`;

/**
 * The paths under `root` in the order fs2tar archives them (depth first,
 * names in byte order, directories ending in "/"), with `extraDirs`
 * (empty directories such as lost+found) added at the top.
 */
export function sortedWalk(root, extraDirs = []) {
	return JSON.parse(python(WALK, [root, JSON.stringify(extraDirs)]));
}

// A user for the non-root tests, its own to the test and removed when it
// ends: testUser(t, base).
export { testUser } from './machine.mjs';

// The round trip -------------------------------------------------------------

// The round trip every filesystem goes through (test/cli/roundtrip-<fs>.test.mjs
// each run it, so that tap runs them side by side): the full tree
// copied into an empty image with `lkl cptofs`, the image checked by its
// own fsck and read back three ways (the host kernel's loop mount, `lkl
// fs2tar` extracted by GNU tar, `lkl cpfromfs`), each compared with the
// source tree field by field.
/** Asserts a command succeeded quietly (no warnings expected). */
export function ok(t, r, what) {
	t.equal(r.status, 0, `${what} exits 0`);
	t.equal(r.stderr, '', `${what} prints nothing on stderr`);
}

/** Asserts two views are equal under `rules`, listing the differences. */
export function same(t, expected, actual, rules, what) {
	const diff = diffTrees(expected, actual, { fields: VIEW_FIELDS, ...rules });
	t.same(diff, [], `${what}: the same tree${diff.length ? `\n${diff.slice(0, 40).join('\n')}` : ''}`);
}

export function roundTrip(t, kind) {
	process.umask(0o022);
	const dir = tempDir(t, `lkl-cli-${kind}-`);
	const tree = kind === 'vfat' ? makeVfatTree(join(dir, 'tree')) : makeFullTree(join(dir, 'tree'));
	const source = treeView(tree);
	const img = emptyImage(kind, join(dir, `${kind}.img`));
	const rules = rulesFor(kind);
	let copied = false;

	t.test('cptofs copies the tree into an empty image', async (t) => {
		const r = lkl(['cptofs', '-i', img, `${tree}/.`, '/']);
		ok(t, r, 'cptofs');
		copied = r.status === 0;
	});

	t.test('the filesystem\'s own fsck finds nothing wrong', async (t) => {
		const r = fsck(kind, img);
		t.ok(r.ok, `fsck of ${kind}${r.ok ? '' : `\n${r.output}`}`);
	});

	t.test('the host kernel sees the same tree through a loop mount', { skip: !hostCanMount(kind) && `the host kernel has no ${kind}` }, async (t) => {
		const mnt = loopMount(t, img, dir);
		// The root too: cptofs tree/. / gives it the tree's owner, mode and times.
		// XFS shows root its ACLs twice, also as trusted.SGI_ACL_*.
		same(t, source, treeView(mnt), rulesFor(kind, { root: true, xfsAclAliases: true }), 'loop mount');
	});

	// Taken just before the two readers run, not while the tests are set
	// up: what the loop mount above may do to the image is not theirs.
	let before;

	t.test('fs2tar, extracted by GNU tar, gives the same tree', async (t) => {
		before = sha256File(img);
		const archive = join(dir, 'out.tar');
		ok(t, lkl(['fs2tar', img, archive]), 'fs2tar');
		const out = gnuExtract(archive, join(dir, 'from-tar'));
		same(t, source, treeView(out), rules, 'GNU tar extraction');
		if (kind !== 'vfat')
			t.equal(aclText(join(out, 'acl')), aclText(join(tree, 'acl')), 'getfacl shows the same ACLs');
	});

	t.test('cpfromfs copies the same tree back out', async (t) => {
		const out = join(dir, 'from-cp');
		ok(t, lkl(['cpfromfs', '-i', img, '/.', out]), 'cpfromfs');
		same(t, source, treeView(out), rules, 'cpfromfs copy');
	});

	t.test('fs2tar and cpfromfs leave the image as it was', async (t) => {
		t.equal(sha256File(img), before, 'same checksum');
	});

	return { dir, tree, source, img, copied: () => copied };
}

/** getfacl's text for a tree (numeric ids), with the tree's own path taken out. */
export function aclText(root) {
	return run('getfacl', ['-R', '-n', '-p', root]).split(root).join('<root>');
}
