// lkl mkimage: whole disk images from host directories and tar archives.
// Each image is checked by others than lkl: sfdisk reads the table, each
// filesystem's own fsck its partition (cut out to a file of its own), and
// the host kernel mounts each partition through a loop device at its
// offset (mtools reads FAT, which this host kernel may lack), compared
// field by field with the source tree.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { repoForUsers, undoAtEnd } from '../helpers/machine.mjs';
import { fsck, run, tempDir } from '../helpers/tree.mjs';
import {
	REPO, hostCanMount, lkl, makeFullTree, makeVfatTree, rulesFor, same, testUser, treeView,
} from '../helpers/cli.mjs';

t.setTimeout(600_000);
process.umask(0o022);

const MiB = 1 << 20;
const GUID = {
	esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
	rootX64: '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709',
	srv: '3B8F8425-20E0-4F3B-907F-1A25A76F98E8',
};

const dir = tempDir(t, 'lkl-mkimage-');
const boot = makeVfatTree(join(dir, 'boot'));
const tree = makeFullTree(join(dir, 'tree'));
const bootView = treeView(boot);
const source = treeView(tree);

// GNU tar, keeping everything it can, numeric owners as a rootfs archive has.
const GNU_TAR = ['--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '--format=posix'];
// GNU tar records no hard links between FIFOs (it archives each as a FIFO).
const gnuFifos = (_p, f, e) => e.type === 'fifo' && ['nlink', 'links'].includes(f);
const archive = join(dir, 'rootfs.tar');
run('tar', [...GNU_TAR, '-cf', archive, '-C', tree, '.']);

/** The partition table as sfdisk reads it. */
function sfdisk(img) {
	return JSON.parse(run('sfdisk', ['--json', img])).partitiontable;
}

/** Byte offset and length of partition @p of a table sfdisk read. */
function region(table, p) {
	const s = table.sectorsize ?? 512;
	return { offset: p.start * s, size: p.size * s };
}

let cuts = 0;
/** The partition's bytes cut out to a sparse file of their own. */
function cut(img, { offset, size }) {
	const out = join(dir, `part${cuts++}.img`);
	run('dd', [`if=${img}`, `of=${out}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', `skip=${offset}`, `count=${size}`,
		'conv=sparse', 'status=none']);
	run('truncate', ['-s', String(size), out]);
	return out;
}

/** The filesystem's own fsck of the region, asserted clean. */
function fsckClean(t, kind, img, where) {
	const part = cut(img, where);
	const r = fsck(kind, part);
	t.ok(r.ok, `${kind}: its fsck finds it clean${r.ok ? '' : `\n${r.output}`}`);
	fs.rmSync(part);
}

let mounts = 0;
/** The host kernel's view of the region, through a loop device at its offset. */
function hostView(t, img, { offset, size }) {
	const mnt = join(dir, `mnt${mounts++}`);
	fs.mkdirSync(mnt);
	run('mount', ['-o', `loop,ro,offset=${offset},sizelimit=${size}`, img, mnt]);
	undoAtEnd(t, `the loop mount ${mnt}`, () => {
		try {
			run('umount', [mnt]);
		} catch {
			run('umount', ['-l', mnt]);
		}
	});
	return treeView(mnt);
}

/** FAT read by mtools at the region's offset, copied out with its times. */
function mtoolsView(img, { offset }) {
	const out = join(dir, `mcopy${mounts++}`);
	fs.mkdirSync(out);
	run('mcopy', ['-s', '-m', '-n', '-i', `${img}@@${offset}`, '::/*', out], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
	return treeView(out);
}

/** Files in @d other than @keep: what a failed or finished run left. */
function leftovers(d, keep) {
	return fs.readdirSync(d).filter((n) => !keep.includes(n));
}

t.test('GPT: an ESP from a directory, an ext4 root from a GNU tar archive, an xfs from a directory', async (t) => {
	const out = tempDir(t, 'lkl-mkimage-gpt-');
	const img = join(out, 'disk.img');
	const r = lkl(['mkimage', img, '--size', '700M',
		'--part', `esp:vfat:64M:${boot}`,
		'--part', `root:ext4:auto:${archive}`,
		'--part', `data=srv:xfs:rest:${tree}`], { timeout: 300_000 });
	t.equal(r.status, 0, `mkimage exits 0${r.status ? `\n${r.stderr}` : ''}`);
	t.equal(r.stderr, '', 'nothing on stderr');
	t.equal(fs.statSync(img).size, 700 * MiB, 'the image has the size asked');
	t.same(leftovers(out, ['disk.img']), [], 'no scratch files left beside it');

	const table = sfdisk(img);
	t.equal(table.label, 'gpt', 'sfdisk reads a GPT');
	const parts = table.partitions;
	t.same(parts.map((p) => p.type), [GUID.esp, GUID.rootX64, GUID.srv], 'the types asked (root is this machine\'s root type)');
	t.same(parts.map((p) => p.name), ['esp', 'root', 'data'], 'the names: the alias, or the one given');
	t.ok(parts.every((p) => (p.start * 512) % MiB === 0), 'every partition starts on a whole MiB');
	t.equal(parts[0].size * 512, 64 * MiB, 'the ESP has the size asked');
	t.ok(parts[1].start >= parts[0].start + parts[0].size, 'root follows it');
	t.equal(parts[2].start + parts[2].size - 1, table.lastlba, 'the rest goes to the last partition, to the last usable sector');
	t.equal(new Set(parts.map((p) => p.uuid)).size, 3, 'each partition has its own GUID');

	const [esp, root, data] = parts.map((p) => region(table, p));
	fsckClean(t, 'vfat', img, esp);
	fsckClean(t, 'ext4', img, root);
	fsckClean(t, 'xfs', img, data);

	same(t, bootView, mtoolsView(img, esp), rulesFor('vfat'), 'the ESP read by mtools');
	t.test('the host kernel sees the boot tree in the ESP', { skip: !hostCanMount('vfat') && 'no vfat in the host kernel' }, async (t) => {
		same(t, bootView, hostView(t, img, esp), rulesFor('vfat'), 'vfat ESP');
	});
	t.test('the host kernel sees the archive\'s tree in the root, owners as archived', { skip: !hostCanMount('ext4') && 'no ext4 in the host kernel' }, async (t) => {
		same(t, source, hostView(t, img, root), rulesFor('ext4', { root: true, extra: gnuFifos }), 'ext4 root');
	});
	t.test('and the directory\'s tree in the xfs partition', { skip: !hostCanMount('xfs') && 'no xfs in the host kernel' }, async (t) => {
		same(t, source, hostView(t, img, data), rulesFor('xfs', { root: true, xfsAclAliases: true }), 'xfs data');
	});
});

t.test('--size auto: a zstd archive into btrfs, the ESP made to measure, and the summary says what was counted', async (t) => {
	const out = tempDir(t, 'lkl-mkimage-auto-');
	const img = join(out, 'disk.img');
	const zst = join(out, 'rootfs.tar.zst');
	run('zstd', ['-q', '-o', zst, archive]);
	const r = lkl(['mkimage', img, '--part', `esp:vfat:auto:${boot}`, '--part', `root:btrfs:auto:${zst}`], { timeout: 300_000 });
	t.equal(r.status, 0, `mkimage exits 0${r.status ? `\n${r.stderr}` : ''}`);
	t.match(r.stdout, /made to measure: .* of data in \d+ entries/, 'the summary says what the size was made for');
	const table = sfdisk(img);
	const [esp, root] = table.partitions.map((p) => region(table, p));
	t.equal(fs.statSync(img).size, MiB + esp.size + root.size + MiB, 'the image is the partitions, the table\'s MiB and the backup\'s');
	t.ok(esp.size % MiB === 0 && root.size % MiB === 0, 'whole MiB each');
	t.ok(root.size >= 128 * MiB, 'btrfs gets at least the 128 MiB stated');
	fsckClean(t, 'vfat', img, esp);
	fsckClean(t, 'btrfs', img, root);
	same(t, bootView, mtoolsView(img, esp), rulesFor('vfat'), 'the ESP read by mtools');
	t.test('the host kernel sees the archive\'s tree', { skip: !hostCanMount('btrfs') && 'no btrfs in the host kernel' }, async (t) => {
		same(t, source, hostView(t, img, root), rulesFor('btrfs', { root: true, extra: gnuFifos }), 'btrfs root');
	});
});

t.test('--spec: an MBR from JSON, a gzip archive into ext4', async (t) => {
	const out = tempDir(t, 'lkl-mkimage-mbr-');
	const gz = join(out, 'rootfs.tar.gz');
	fs.writeFileSync(gz, run('gzip', ['-c', archive], { encoding: 'buffer' }));
	const spec = join(out, 'disk.json');
	fs.writeFileSync(spec, JSON.stringify({
		table: 'mbr',
		size: 'auto',
		partitions: [
			{ type: 'esp', fs: 'vfat', size: '32M', from: boot, label: 'BOOT', bootable: true },
			{ type: 'linux', fs: 'ext4', size: 'auto', from: ['rootfs.tar.gz'], label: 'root' },
		],
	}));
	const img = join(out, 'disk.img');
	const r = lkl(['mkimage', '-q', img, '--spec', spec], { timeout: 300_000 });
	t.equal(r.status, 0, `mkimage exits 0${r.status ? `\n${r.stderr}` : ''}`);
	t.equal(r.stdout + r.stderr, '', '-q: nothing printed');
	const table = sfdisk(img);
	t.equal(table.label, 'dos', 'sfdisk reads an MBR');
	t.same(table.partitions.map((p) => p.type), ['ef', '83'], 'the types asked');
	t.same(table.partitions.map((p) => Boolean(p.bootable)), [true, false], 'the boot flag asked');
	const [esp, root] = table.partitions.map((p) => region(table, p));
	fsckClean(t, 'vfat', img, esp);
	fsckClean(t, 'ext4', img, root);
	t.equal(run('blkid', ['-o', 'value', '-s', 'LABEL', '-p', '-O', String(root.offset), img]).trim(), 'root', 'the ext4 label asked');
	t.test('the host kernel sees the archive\'s tree', { skip: !hostCanMount('ext4') && 'no ext4 in the host kernel' }, async (t) => {
		same(t, source, hostView(t, img, root), rulesFor('ext4', { root: true, extra: gnuFifos }), 'ext4 from gzip');
	});
});

t.test('as an ordinary user: owners from the archive, not the user\'s', async (t) => {
	const user = testUser(t, 'lkl-mkimage');
	const out = tempDir(t, 'lkl-mkimage-user-');
	fs.chmodSync(out, 0o755);
	fs.chmodSync(dir, 0o755);
	const mine = join(out, 'mine');
	fs.mkdirSync(mine);
	fs.chownSync(mine, user.uid, user.gid);
	// The archive, readable by the user; root's and others' files in it.
	const theirs = join(mine, 'rootfs.tar');
	fs.copyFileSync(archive, theirs);
	fs.chownSync(theirs, user.uid, user.gid);
	const img = join(mine, 'root.img');
	const r = lkl(['mkimage', img, '--table', 'none', '--part', `ext4:auto:${theirs}`],
		{ user: user.name, repo: repoForUsers(t, REPO), timeout: 300_000 });
	t.equal(r.status, 0, `mkimage as ${user.name} exits 0${r.status ? `\n${r.stderr}` : ''}`);
	t.equal(fs.statSync(img).uid, user.uid, 'the image file is the user\'s');
	fsckClean(t, 'ext4', img, { offset: 0, size: fs.statSync(img).size });
	t.test('the files are the archive\'s owners\'', { skip: !hostCanMount('ext4') && 'no ext4 in the host kernel' }, async (t) => {
		const view = hostView(t, img, { offset: 0, size: fs.statSync(img).size });
		t.equal(view.get('/hello.txt').uid, 0, 'a root-owned file is root\'s');
		t.equal(view.get('/dir/a.txt').uid, 1234, 'another owner kept');
		t.notOk([...view.values()].some((e) => e.uid === user.uid), 'nothing is the user\'s');
		same(t, source, view, rulesFor('ext4', { root: true, extra: gnuFifos }), 'bare ext4 as a user');
	});
});

t.test('--owner and --group give everything one owner', async (t) => {
	const out = tempDir(t, 'lkl-mkimage-owner-');
	const img = join(out, 'root.img');
	const r = lkl(['mkimage', '-q', '-o', '0', '-g', '0', img, '--table', 'none', '--part', `ext4:auto:${join(tree, 'dir')}`]);
	t.equal(r.status, 0, `mkimage exits 0${r.status ? `\n${r.stderr}` : ''}`);
	fsckClean(t, 'ext4', img, { offset: 0, size: fs.statSync(img).size });
	t.test('seen by the host kernel', { skip: !hostCanMount('ext4') && 'no ext4 in the host kernel' }, async (t) => {
		const view = hostView(t, img, { offset: 0, size: fs.statSync(img).size });
		t.same([...new Set([...view.values()].map((e) => `${e.uid}:${e.gid}`))], ['0:0'], 'all root\'s');
	});
});

t.test('a bad spec: one line, exit 1, no image and nothing else left', async (t) => {
	const out = tempDir(t, 'lkl-mkimage-bad-');
	const img = join(out, 'disk.img');
	const json = (name, doc) => {
		const p = join(out, name);
		fs.writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
		return p;
	};
	const cases = [
		[['--part', 'esp:vfat'], /--part "esp:vfat": give \[NAME=\]TYPE:FS:SIZE/],
		[['--part', 'esp:ext5:10M'], /not a filesystem mkimage makes: "ext5"/],
		[['--part', 'nonsense:ext4:10M'], /not a GPT partition type: "nonsense"/],
		[['--part', 'linux:ext4:ten'], /not a size: "ten"/],
		[['--part', 'linux:ext4:rest', '--part', 'home:ext4:10M'], /only the last partition can take the rest/],
		[['--part', `linux:ext4:auto:${join(out, 'missing')}`], /missing: no such file or directory/],
		[['--table', 'none', '--part', 'xfs:100M'], /100 MiB is smaller than the smallest xfs filesystem \(300 MiB\)/],
		[['--size', '20M', '--part', 'esp:vfat:10M', '--part', 'linux:ext4:20M'], /the partitions do not fit in 20 MiB: partition 2 does not fit/],
		[['--table', 'mbr', '--part', 'data=linux:ext4:10M'], /only GPT partitions have names/],
		[['--spec', json('bad.json', '{"table": "gpt",')], /bad\.json: not JSON/],
		[['--spec', json('key.json', { partitions: [{ type: 'esp', fs: 'vfat', sise: '10M' }] })], /key\.json: partitions\[0\]\.sise: not a key of a partition/],
		[['--spec', json('fs.json', { partitions: [{ type: 'esp', size: '10M' }] })], /fs\.json: partitions\[0\]\.fs: give the filesystem/],
		[['--spec', json('label.json', { partitions: [{ type: 'esp', fs: 'vfat', size: '10M', label: 'much too long' }] })], /label\.json: partitions\[0\]: a vfat label is 1 to 11 bytes/],
		[['--part', `linux:ext4:1M:${archive}`], /no space left on device/],
	];
	for (const [args, message] of cases) {
		const r = lkl(['mkimage', img, ...args]);
		t.equal(r.status, 1, `${args.join(' ')}: exit 1`);
		t.match(r.stderr, message, `${args.join(' ')}: says why`);
		t.match(r.stderr, /^lkl: [^\n]*\n(lkl: [^\n]*\n)?$/, `${args.join(' ')}: one line (and advice)`);
		t.same(leftovers(out, fs.readdirSync(out).filter((n) => n.endsWith('.json'))), [], `${args.join(' ')}: no image, nothing left`);
	}

	fs.writeFileSync(img, 'mine');
	const r = lkl(['mkimage', img, '--part', 'linux:ext4:10M']);
	t.equal(r.status, 1, 'an existing file: exit 1');
	t.match(r.stderr, /already exists \(--force replaces it\)/, 'says so');
	t.equal(fs.readFileSync(img, 'utf8'), 'mine', 'and leaves it alone');
});
