// The round trip every filesystem goes through (one test file per
// filesystem runs it, so that tap runs them side by side): the full tree
// copied into an empty image with `lkl cptofs`, the image checked by its
// own fsck and read back three ways (the host kernel's loop mount, `lkl
// fs2tar` extracted by GNU tar, `lkl cpfromfs`), each compared with the
// source tree field by field.
import { join } from 'node:path';
import { fsck, run, tempDir } from '../helpers/tree.mjs';
import {
	diffTrees, emptyImage, gnuExtract, hostCanMount, lkl, loopMount, makeFullTree, makeVfatTree,
	rulesFor, sha256File, treeView,
} from '../helpers/cli.mjs';

/** Asserts a command succeeded quietly (no warnings expected). */
export function ok(t, r, what) {
	t.equal(r.status, 0, `${what} exits 0`);
	t.equal(r.stderr, '', `${what} prints nothing on stderr`);
}

/** Asserts two views are equal under `rules`, listing the differences. */
export function same(t, expected, actual, rules, what) {
	const diff = diffTrees(expected, actual, rules);
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

	const before = sha256File(img);

	t.test('fs2tar, extracted by GNU tar, gives the same tree', async (t) => {
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
