// `src/` and `src/.` with src a symlink to a directory copy that
// directory's contents, as cp -a does (the trailing slash follows the
// link); `src` alone copies the symlink.  Both ways: cptofs from the
// host, cpfromfs from the image.  Before, cptofs link/. / tried to put a
// symlink in place of the image's root (EBUSY), and link/ made a symlink.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { fsck, run, tempDir } from '../helpers/tree.mjs';
import { lklOk } from '../helpers/cli.mjs';

t.setTimeout(120_000);

const dir = tempDir(t, 'lkl-symlink-contents-');
fs.mkdirSync(join(dir, 'real'));
fs.writeFileSync(join(dir, 'real', 'f'), 'in real\n');
fs.symlinkSync('real', join(dir, 'link'));
const img = join(dir, 'a.img');
run('truncate', ['-s', '64M', img]);
run('mkfs.ext4', ['-q', '-F', img]);

t.test('cptofs', async (t) => {
	lklOk(['cptofs', '-i', img, `${dir}/link/.`, '/']);
	lklOk(['cptofs', '-i', img, `${dir}/link/`, '/d']);
	lklOk(['cptofs', '-i', img, join(dir, 'real'), join(dir, 'link'), '/']);
	t.ok(fsck('ext4', img).ok, 'e2fsck clean');
	const out = join(dir, 'out');
	fs.mkdirSync(out);
	lklOk(['cpfromfs', '-i', img, '/', out]);
	t.equal(fs.readFileSync(join(out, 'f'), 'utf8'), 'in real\n', 'link/. copied the contents into /');
	t.ok(fs.lstatSync(join(out, 'd')).isDirectory(), 'link/ made a directory');
	t.equal(fs.readFileSync(join(out, 'd', 'f'), 'utf8'), 'in real\n', 'holding the contents');
	t.equal(fs.readlinkSync(join(out, 'link')), 'real', 'link alone is copied as the symlink');
});

t.test('cpfromfs', async (t) => {
	const out = join(dir, 'out2');
	fs.mkdirSync(out);
	lklOk(['cpfromfs', '-i', img, '/link/.', out]);
	t.equal(fs.readFileSync(join(out, 'f'), 'utf8'), 'in real\n', 'the image\'s link/. copies what it leads to');
	t.notOk(fs.existsSync(join(out, 'link')), 'not the symlink');
});
