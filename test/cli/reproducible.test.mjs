// Reproducible output (SOURCE_DATE_EPOCH, --reproducible): the same
// inputs give the same bytes.  mkimage twice (a GPT with an ESP and a
// root partition, and a bare filesystem), cptofs into two copies of one
// image, fs2tar of two images made apart: each pair compared by SHA-256,
// each image checked by its filesystem's own fsck.  And the other side:
// without the option, two runs differ (UUIDs, times), so that the
// comparisons prove something.  A btrfs image made by mkimage is not
// reproducible (docs/filesystems.md says why): mkimage is checked to warn
// so.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fsck, run, tempDir } from '../helpers/tree.mjs';
import { lkl, lklOk, makeFullTree, makeVfatTree, sha256File, tarEntries } from '../helpers/cli.mjs';

t.setTimeout(900_000);
process.umask(0o022);

const EPOCH = 1700000000;
const dir = tempDir(t, 'lkl-reproducible-');
const root = makeFullTree(join(dir, 'root'));
const boot = makeVfatTree(join(dir, 'boot'));
const sourceOf = (kind) => (kind === 'vfat' ? boot : root);

// Each run as a user's would be: SOURCE_DATE_EPOCH only where a test sets it.
const { SOURCE_DATE_EPOCH: _unset, ...plainEnv } = process.env;
const withEpoch = { ...plainEnv, SOURCE_DATE_EPOCH: String(EPOCH) };

/** lkl with exactly @env (a run's environment, not the test's). */
function lklIn(args, env) {
	return lklOk(args, { env: { SOURCE_DATE_EPOCH: '', ...env } });
}

/** A bare filesystem's own fsck, asserted clean. */
function fsckBare(t, img, kind) {
	const r = fsck(kind, img);
	t.ok(r.ok, `${kind}: its fsck finds it clean${r.ok ? '' : `\n${r.output}`}`);
}

let cuts = 0;
/** Each partition's own fsck, on the partition cut out to a file, asserted clean. */
function fsckClean(t, img, kinds) {
	const table = sfdiskTable(img);
	for (const [i, kind] of kinds.entries()) {
		const p = table.partitions[i];
		const part = join(dir, `cut${cuts++}.img`);
		run('dd', [`if=${img}`, `of=${part}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${p.start * 512}`,
			`count=${p.size * 512}`, 'conv=sparse', 'status=none']);
		const r = fsck(kind, part);
		t.ok(r.ok, `partition ${i + 1} (${kind}): its fsck finds it clean${r.ok ? '' : `\n${r.output}`}`);
		fs.rmSync(part);
	}
}

/** The partition table as sfdisk reads it. */
function sfdiskTable(img) {
	return JSON.parse(run('sfdisk', ['--json', img])).partitiontable;
}

/** The filesystem UUID (FAT: serial) blkid reads at @offset. */
function fsUuid(img, offset = 0) {
	return run('blkid', ['-p', '-O', String(offset), '-s', 'UUID', '-o', 'value', img]).trim();
}

for (const kind of ['ext4', 'vfat', 'xfs']) {
	t.test(`${kind}: mkimage twice gives the same image, byte for byte`, async (t) => {
		const gpt = ['--part', 'esp:vfat:auto:' + boot, '--part', `root:${kind}:auto:${sourceOf(kind)}`];
		const a = join(dir, `gpt-${kind}-a.img`), b = join(dir, `gpt-${kind}-b.img`);
		lklIn(['mkimage', '-q', a, ...gpt], withEpoch);
		lklIn(['mkimage', '-q', b, ...gpt], withEpoch);
		t.equal(sha256File(b), sha256File(a), 'a GPT with an ESP and a root partition, SOURCE_DATE_EPOCH set: the same bytes');
		fsckClean(t, a, ['vfat', kind]);
		fs.rmSync(b);

		const bare = ['--table', 'none', '--part', `${kind}:auto:${sourceOf(kind)}`];
		const c = join(dir, `bare-${kind}-a.img`), d = join(dir, `bare-${kind}-b.img`);
		lklIn(['mkimage', '-q', '--reproducible', c, ...bare], plainEnv);
		lklIn(['mkimage', '-q', '--reproducible', d, ...bare], plainEnv);
		t.equal(sha256File(d), sha256File(c), 'a bare filesystem, --reproducible: the same bytes');
		fsckBare(t, c, kind);
		fs.rmSync(d);
	});
}

t.test('without SOURCE_DATE_EPOCH or --reproducible, two runs differ in their IDs', async (t) => {
	const parts = ['--part', 'esp:vfat:auto:' + boot, '--part', `root:ext4:auto:${root}`];
	const a = join(dir, 'plain-a.img'), b = join(dir, 'plain-b.img');
	lklIn(['mkimage', '-q', a, ...parts], plainEnv);
	lklIn(['mkimage', '-q', b, ...parts], plainEnv);
	t.not(sha256File(a), sha256File(b), 'the images differ');
	const [ta, tb] = [sfdiskTable(a), sfdiskTable(b)];
	t.not(ta.id, tb.id, 'in the GPT disk GUID');
	t.not(ta.partitions[1].uuid, tb.partitions[1].uuid, 'in the partition GUIDs');
	const at = (table, i) => table.partitions[i].start * 512;
	t.not(fsUuid(a, at(ta, 1)), fsUuid(b, at(tb, 1)), 'in the ext4 UUID');
	t.not(fsUuid(a, at(ta, 0)), fsUuid(b, at(tb, 0)), 'in the FAT serial number');
	fsckClean(t, a, ['vfat', 'ext4']);

	const r = join(dir, 'repro.img');
	lklIn(['mkimage', '-q', r, ...parts], withEpoch);
	const tr = sfdiskTable(r);
	t.not(tr.id, ta.id, 'a reproducible image has a GUID of its own');
	t.match(tr.id, /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/, 'shaped as a random (version 4) GUID');
	for (const f of [a, b, r])
		fs.rmSync(f);
});

for (const kind of ['ext4', 'vfat', 'xfs', 'btrfs']) {
	t.test(`${kind}: cptofs into two copies of one image leaves them the same`, async (t) => {
		const base = join(dir, `base-${kind}.img`);
		lklIn(['mkimage', '-q', base, '--table', 'none', '--part', `${kind}:${{ xfs: 300, btrfs: 160 }[kind] ?? 48}M`], plainEnv);
		const copy = (name, args, env) => {
			const img = join(dir, `${name}-${kind}.img`);
			fs.copyFileSync(base, img);
			lklIn(['cptofs', '-q', ...args, '-i', img, `${sourceOf(kind)}/.`, '/copy'], env);
			return img;
		};
		const a = copy('cp-a', [], withEpoch), b = copy('cp-b', [], withEpoch);
		t.equal(sha256File(b), sha256File(a), 'SOURCE_DATE_EPOCH set: the same bytes');
		fsckBare(t, a, kind);
		const c = copy('cp-c', ['--reproducible'], plainEnv), d = copy('cp-d', ['--reproducible'], plainEnv);
		t.equal(sha256File(d), sha256File(c), '--reproducible: the same bytes');
		t.not(sha256File(c), sha256File(a), 'another epoch, other times');
		const e = copy('cp-e', [], plainEnv), f = copy('cp-f', [], plainEnv);
		t.not(sha256File(e), sha256File(f), 'without either: the times of the run, which differ');
		for (const img of [base, a, b, c, d, e, f])
			fs.rmSync(img);
	});
}

for (const kind of ['ext4', 'xfs', 'btrfs', 'vfat']) {
	t.test(`${kind}: fs2tar of two images made apart gives one archive with SOURCE_DATE_EPOCH`, async (t) => {
		const made = ['a', 'b'].map((n) => {
			const img = join(dir, `apart-${kind}-${n}.img`);
			lklIn(['mkimage', '-q', img, '--table', 'none', '--part', `${kind}:auto:${sourceOf(kind)}`], plainEnv);
			return img;
		});
		const archive = (img, name, env, args = []) => {
			const out = join(dir, `${name}-${kind}.tar`);
			lklIn(['fs2tar', '-q', ...args, img, out], env);
			return out;
		};
		const plain = made.map((img, i) => archive(img, `plain-${i}`, plainEnv));
		// FAT has no ctime, and its atime is a date: only the others differ.
		if (kind !== 'vfat')
			t.not(sha256File(plain[0]), sha256File(plain[1]), 'without it, they differ (in their ctimes)');

		// Later than every time in the tree: the mtimes are kept.  (But
		// for lost+found's, which is when mkfs ran: left out.)
		const later = { ...plainEnv, SOURCE_DATE_EPOCH: '4000000000' };
		const skip = ['--exclude', 'lost+found'];
		const kept = made.map((img, i) => archive(img, `later-${i}`, later, skip));
		t.equal(sha256File(kept[1]), sha256File(kept[0]), 'SOURCE_DATE_EPOCH set: the same bytes');
		const mtimes = new Map(tarEntries(kept[0]).map((e) => [e.name, e.mtime]));
		const plainMtimes = new Map(tarEntries(archive(made[0], 'plain-skip', plainEnv, skip)).map((e) => [e.name, e.mtime]));
		t.same(mtimes, plainMtimes, 'mtimes older than the epoch kept as stored');

		// Earlier: every mtime is the epoch, as tar --clamp-mtime makes it.
		const clamped = archive(made[0], 'clamped', withEpoch);
		t.same([...new Set(tarEntries(clamped).map((e) => Number(e.mtime)))], [EPOCH], 'later mtimes clamped to the epoch');
		const flagged = made.map((img, i) => archive(img, `flag-${i}`, plainEnv, ['--reproducible']));
		t.equal(sha256File(flagged[1]), sha256File(flagged[0]), '--reproducible: the same bytes');
		for (const f of [...made, ...plain, ...kept, clamped, ...flagged])
			fs.rmSync(f);
	});
}

t.test('btrfs: mkimage --reproducible says the image will differ, and makes it', async (t) => {
	const img = join(dir, 'warn-btrfs.img');
	const r = lkl(['mkimage', '-q', '--reproducible', img, '--table', 'none', '--part', `btrfs:auto:${boot}`],
		{ env: plainEnv });
	t.equal(r.status, 0, 'made');
	t.match(r.stderr, /^lkl: warning: .*its btrfs filesystem will differ from run to run: .+\n$/, 'one warning line');
	fsckBare(t, img, 'btrfs');
	fs.rmSync(img);
});

t.test('a SOURCE_DATE_EPOCH that is not a number of seconds is one line', async (t) => {
	const img = join(dir, 'bad-epoch.img');
	for (const value of ['yesterday', '-1', '1.5', '99999999999999']) {
		const r = lkl(['mkimage', '-q', img, '--table', 'none', '--part', `ext4:auto:${root}`],
			{ env: { ...plainEnv, SOURCE_DATE_EPOCH: value } });
		t.equal(r.status, 2, `${value}: usage error`);
		t.match(r.stderr, new RegExp(`^lkl: SOURCE_DATE_EPOCH: .*"${value.replace('.', '\\.')}"\\n$`), `${value}: one line naming it`);
		t.notOk(fs.existsSync(img), `${value}: no image made`);
	}
	const r = lkl(['fs2tar', join(dir, 'nothing.img'), '-'], { env: { ...plainEnv, SOURCE_DATE_EPOCH: 'x' } });
	t.equal(r.status, 2, 'fs2tar checks it too, before opening anything');
});
