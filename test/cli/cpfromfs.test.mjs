// lkl cpfromfs: source forms, a non-root user (owners and device nodes
// summarised in one warning each), and hostile images whose symlinks
// point out of the destination: nothing may ever be written outside it.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { run, tempDir } from '../helpers/tree.mjs';
import { repoForUsers } from '../helpers/machine.mjs';
import {
	REPO, emptyImage, lkl, lklOk, makeFullTree, rulesFor, testUser, treeView, ok, same,
} from '../helpers/cli.mjs';

t.setTimeout(300_000);
process.umask(0o022);

const dir = tempDir(t, 'lkl-cpfromfs-');
fs.chmodSync(dir, 0o755);
const tree = makeFullTree(join(dir, 'tree'));
const source = treeView(tree);
const img = emptyImage('ext4', join(dir, 'full.img'));
lklOk(['cptofs', '-i', img, `${tree}/.`, '/']);

// A hostile image: symlinks out of the destination, to a directory and
// to a file of this test's own outside it (the sentinels), directories of
// the same names that a later copy would write through them, and a
// regular file of the name of the symlink to the sentinel file.
const sentinel = join(dir, 'sentinel');
fs.mkdirSync(sentinel);
const sentinelFile = join(dir, 'sentinel-file');
const SENTINEL_TEXT = 'the sentinel file: nothing may write here\n';
fs.writeFileSync(sentinelFile, SENTINEL_TEXT);
fs.chmodSync(sentinelFile, 0o644);
const sentinelStat = fs.statSync(sentinelFile, { bigint: true });
const hostile = emptyImage('ext4', join(dir, 'hostile.img'));
{
	const k = Kernel.boot();
	const m = await k.mount(await k.addDisk(hostile));
	await m.mkdir('/one');
	await m.symlink(sentinel, '/one/evil');
	await m.symlink(`${'../'.repeat(12)}${sentinel.slice(1)}`, '/one/rel');
	await m.symlink(sentinelFile, '/one/file');
	for (const name of ['evil', 'rel', 'file']) {
		await m.mkdir(`/two/${name}`, { recursive: true });
		await m.writeFile(`/two/${name}/pwned`, 'written through a symlink\n');
	}
	await m.mkdir('/three');
	await m.writeFile('/three/file', 'written over a symlink\n');
	await m.writeFile('/one/new\nline', 'a name with a newline\n');
	await m.writeFile('/one/..., and \\', 'odd but harmless\n');
	await m.unmount();
	await k.halt();
}
const sentinelEmpty = (t) => t.same(fs.readdirSync(sentinel), [], 'nothing written to the sentinel outside');
/** The sentinel file is as made: contents, size, mode, mtime, still a file. */
const sentinelFileUntouched = (t) => {
	const st = fs.lstatSync(sentinelFile, { bigint: true });
	t.same({
		file: st.isFile(), text: fs.readFileSync(sentinelFile, 'utf8'), size: st.size, mode: st.mode, mtimeNs: st.mtimeNs,
	}, {
		file: true, text: SENTINEL_TEXT, size: sentinelStat.size, mode: sentinelStat.mode, mtimeNs: sentinelStat.mtimeNs,
	}, 'the sentinel file outside is untouched (contents, mode, mtime)');
};

t.test('source forms: files into a dir, dir/., globs inside the image', async (t) => {
	const out = join(dir, 'forms');
	fs.mkdirSync(out);
	ok(t, lkl(['cpfromfs', '-i', img, '/hello.txt', '/dir/a.txt', '/links', `${out}/`]), 'several sources into a dir');
	ok(t, lkl(['cpfromfs', '-i', img, '/dir/sub/.', join(out, 'sub-contents')]), 'dir/. into a new dir');
	ok(t, lkl(['cpfromfs', '-i', img, '/many/f00*', out]), 'a glob matched in the image');
	ok(t, lkl(['cpfromfs', '-i', img, '/links/abs', join(out, 'abs-copy')]), 'a symlink to a new name');
	const view = treeView(out);
	t.same([...view.keys()].filter((p) => p !== '/').sort(), [
		'/a.txt', '/abs-copy', '/f000', '/f001', '/f002', '/f003', '/f004', '/f005', '/f006', '/f007', '/f008', '/f009',
		'/hello.txt', '/links', '/links/abs', '/links/abs-climb', '/links/climb', '/links/dangling', '/links/rel', '/links/to-dir',
		'/sub-contents', '/sub-contents/deeper', '/sub-contents/deeper/leaf.txt', '/sub-contents/three-links.3',
	]);
	t.equal(view.get('/abs-copy').type, 'symlink', 'a symlink stays a symlink');
	t.equal(view.get('/abs-copy').target, '/hello.txt');
	t.equal(view.get('/hello.txt').xattrs['security.selinux'], source.get('/hello.txt').xattrs['security.selinux']);
	const r = lkl(['cpfromfs', '-i', img, '/nope', join(out, 'nope')]);
	t.equal(r.status, 1, 'a missing source fails');
	t.equal(r.stderr, 'lkl: /nope: no such file or directory\n');
	t.notOk(fs.existsSync(join(out, 'nope')), 'and makes nothing');
});

t.test('as a user other than root', async (t) => {
	const user = testUser(t, 'lkl-cpfromfs');
	const out = join(dir, 'as-user');
	fs.mkdirSync(out);
	fs.chownSync(out, user.uid, user.gid);
	fs.chmodSync(img, 0o644);
	const r = lkl(['cpfromfs', '-i', img, '/.', join(out, 'copy')], { user: user.name, repo: repoForUsers(t, REPO) });
	t.equal(r.status, 0, `exits 0${r.status ? `: ${r.stderr}` : ''}`);
	const lines = r.stderr.split('\n').filter(Boolean);
	t.ok(lines.every((l) => l.startsWith('lkl: warning: ')), 'only warnings');
	t.equal(lines.filter((l) => /owner/.test(l)).length, 1, 'one line about owners');
	t.equal(lines.filter((l) => /device/.test(l)).length, 1, 'one line about device nodes');
	t.match(lines.find((l) => /device/.test(l)), /skipped 3 device nodes/, 'counting the three devices');
	t.ok(lines.length <= 3, `at most one more, about xattrs only root may set: ${JSON.stringify(lines)}`);
	const view = treeView(join(out, 'copy'));
	const owners = new Set([...view].map(([, e]) => `${e.uid}:${e.gid}`));
	t.same([...owners], [`${user.uid}:${user.gid}`], 'everything is the user\'s');
	const devices = [...source].filter(([, e]) => e.type === 'chr' || e.type === 'blk').map(([p]) => p);
	t.same(devices.filter((p) => view.has(p)), [], 'no device nodes');
	const expected = new Map([...source].filter(([p]) => !devices.includes(p)));
	// security.* needs privileges; user.* and ACLs are the owner's to set.
	const noSecurity = (f, v) => (f === 'xattrs' ? Object.fromEntries(Object.entries(v).filter(([n]) => !n.startsWith('security.'))) : v);
	same(t, expected, view, {
		...rulesFor('ext4', { extra: (_p, f) => ['uid', 'gid'].includes(f) }),
		normalize: noSecurity,
	}, 'everything else');
});

t.test('a hostile image: symlinks out, then directories through them', async (t) => {
	const out = join(dir, 'hostile-1');
	fs.mkdirSync(out);
	const r = lkl(['cpfromfs', '-i', hostile, '/one/.', '/two/.', out]);
	t.ok(r.status === 0 || /^lkl: [^\n]+\n$/.test(r.stderr), `exits 0 or fails with one line: ${r.stderr}`);
	sentinelEmpty(t);
	sentinelFileUntouched(t);
	t.same(fs.readdirSync(dir).filter((n) => n.startsWith('pwned')), [], 'nothing beside the destination');
	for (const name of ['evil', 'rel', 'file']) {
		const st = fs.lstatSync(join(out, name));
		if (st.isDirectory())
			t.ok(fs.existsSync(join(out, name, 'pwned')), `${name}: the directory replaced the symlink`);
		else
			t.ok(st.isSymbolicLink(), `${name}: still the symlink`);
	}
});

t.test('a hostile image: symlinks are copied as symlinks, never followed', async (t) => {
	const out = join(dir, 'hostile-2');
	ok(t, lkl(['cpfromfs', '-i', hostile, '/one', out]), 'cpfromfs /one');
	t.equal(fs.readlinkSync(join(out, 'evil')), sentinel);
	t.equal(fs.readlinkSync(join(out, 'rel')), `${'../'.repeat(12)}${sentinel.slice(1)}`);
	t.equal(fs.readlinkSync(join(out, 'file')), sentinelFile);
	t.equal(fs.readFileSync(join(out, 'new\nline'), 'utf8'), 'a name with a newline\n', 'a name with a newline is one file');
	t.equal(fs.readFileSync(join(out, '..., and \\'), 'utf8'), 'odd but harmless\n');
	const single = join(dir, 'hostile-3');
	ok(t, lkl(['cpfromfs', '-i', hostile, '/one/evil', single]), 'cpfromfs of the symlink itself');
	t.ok(fs.lstatSync(single).isSymbolicLink(), 'made as a symlink');
	sentinelEmpty(t);
	sentinelFileUntouched(t);
});

t.test('a hostile image: a second copy into a destination holding its symlinks', async (t) => {
	const out = join(dir, 'hostile-4');
	lklOk(['cpfromfs', '-i', hostile, '/one/.', out]);
	const r = lkl(['cpfromfs', '-i', hostile, '/two/.', out]);
	t.ok(r.status === 0 || /^lkl: [^\n]+\n$/.test(r.stderr), `exits 0 or fails with one line: ${r.stderr}`);
	sentinelEmpty(t);
	sentinelFileUntouched(t);
	// A regular file over the symlink to the sentinel file: it replaces the
	// symlink, or the copy fails, but it never writes through it.
	const over = join(dir, 'hostile-4b');
	lklOk(['cpfromfs', '-i', hostile, '/one/.', over]);
	const f = lkl(['cpfromfs', '-i', hostile, '/three/.', over]);
	t.ok(f.status === 0 || /^lkl: [^\n]+\n$/.test(f.stderr), `a file over the symlink: exits 0 or fails with one line: ${f.stderr}`);
	sentinelFileUntouched(t);
	const st = fs.lstatSync(join(over, 'file'));
	if (st.isFile())
		t.equal(fs.readFileSync(join(over, 'file'), 'utf8'), 'written over a symlink\n', 'the file replaced the symlink');
	else
		t.ok(st.isSymbolicLink(), 'or the symlink is still there');
	// Into a symlink the user made: that one is followed, as cp does.
	const mine = join(dir, 'hostile-5');
	fs.mkdirSync(mine);
	const target = join(dir, 'my-target');
	fs.mkdirSync(target);
	fs.symlinkSync(target, join(mine, 'link'));
	ok(t, lkl(['cpfromfs', '-i', hostile, '/two/evil/pwned', join(mine, 'link')]), 'cpfromfs into the user\'s own symlink to a directory');
	t.same(fs.readdirSync(target), ['pwned'], 'lands in the directory it points to');
	sentinelEmpty(t);
});

t.test('a corrupted image whose directories hold the names "../../sentinel/pw" and ".."', async (t) => {
	// Made by patching the names of two entries in the image's bytes: ext4
	// without checksums or hashed directories, so the kernel reads them.
	const crafted = join(dir, 'crafted.img');
	fs.rmSync(crafted, { force: true });
	fs.writeFileSync(crafted, Buffer.alloc(0));
	fs.truncateSync(crafted, 8 << 20);
	run('mkfs.ext4', ['-q', '-F', '-O', '^metadata_csum,^dir_index,^has_journal', crafted]);
	const src = join(dir, 'crafted-tree');
	fs.mkdirSync(join(src, 'd'), { recursive: true });
	fs.mkdirSync(join(src, 'd2'), { recursive: true });
	fs.writeFileSync(join(src, 'd', 'A'.repeat(17)), 'escaped\n');
	fs.writeFileSync(join(src, 'd2', 'ZZ'), 'dot dot\n');
	fs.writeFileSync(join(src, 'd2', 'plain'), 'plain\n');
	lklOk(['cptofs', '-i', crafted, `${src}/.`, '/']);
	const data = fs.readFileSync(crafted);
	let patched = 0;
	for (const [from, to] of [['A'.repeat(17), '../../sentinel/pw'], ['ZZ', '..']]) {
		// A directory entry: the name follows its length byte and type byte.
		for (let i = data.indexOf(from); i >= 0; i = data.indexOf(from, i + 1)) {
			if (data[i - 2] === from.length) {
				data.write(to, i, 'latin1');
				patched++;
			}
		}
	}
	t.equal(patched, 2, 'both names patched');
	fs.writeFileSync(crafted, data);
	t.match(run('debugfs', ['-R', 'ls /d', crafted], { stdio: ['ignore', 'pipe', 'ignore'] }), /\.\.\/\.\.\/sentinel\/pw/, 'debugfs sees the name');

	const out = join(dir, 'hostile-6');
	fs.mkdirSync(out);
	for (const d of ['d', 'd2']) {
		const r = lkl(['cpfromfs', '-i', crafted, `/${d}`, join(out, d)]);
		t.ok(r.status === 0 || /^lkl: [^\n]+\n$/.test(r.stderr), `${d}: exits 0 or fails with one line: ${r.stderr}`);
		sentinelEmpty(t);
	}
	t.same(fs.readdirSync(out).sort(), ['d', 'd2'], 'nothing beside the copies');
	t.equal(fs.readFileSync(join(out, 'd2', 'plain'), 'utf8'), 'plain\n', 'the harmless entry next to ".." is copied');
	const f = lkl(['fs2tar', crafted, join(dir, 'crafted.tar')]);
	t.ok(f.status === 0 || /^lkl: [^\n]+\n$/.test(f.stderr), `fs2tar exits 0 or fails with one line: ${f.stderr}`);
});
