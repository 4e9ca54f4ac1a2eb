// SPDX-License-Identifier: GPL-2.0
//
// The npm package as users get it: npm pack, then npm install --offline of
// the tarball into a directory outside the repository, by an ordinary
// user whose PATH has no compiler, make or python3.  The install must
// compile nothing and fetch nothing; then npx lkl fs2tar, cptofs and
// lklfuse must work from there.  A machine the package has no binaries
// for gets one line saying so.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
	REPO, assertNoCompilers, freshUser, run, runAs, tempDir, toolDir, useLkl,
} from './installed.mjs';

t.setTimeout(600_000);
process.umask(0o022);

const dir = tempDir(t, 'lkl-install-');
fs.chmodSync(dir, 0o755);
const user = freshUser(t, 'lkl-pkg', dir);
const bin = toolDir(dir, ['node', 'npm', 'npx', 'sh', 'fusermount3']);
const app = join(dir, 'app');
const work = join(dir, 'work');
for (const d of [app, work]) {
	fs.mkdirSync(d);
	fs.chownSync(d, user.uid, user.gid);
}

const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO }))[0];
const tarball = join(dir, packed.filename);
fs.chmodSync(tarball, 0o644);
const files = new Map(packed.files.map((f) => [f.path, f]));

t.test('the tarball holds what a user needs, and no tests', async (t) => {
	t.comment(`${packed.filename}: ${(packed.size / 2 ** 20).toFixed(1)} MiB packed, ${(packed.unpackedSize / 2 ** 20).toFixed(1)} MiB unpacked, ${packed.entryCount} files`);
	for (const f of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli.js', 'bin/lkl', 'bin/lklfuse',
		'prebuilds/linux-x64/lkl.glibc.node', 'prebuilds/linux-x64/lklfuse-server', 'prebuilds/linux-x64/build-info.json',
		'README.md', 'COPYING', 'SOURCE.md', 'docs/commands.md', 'scripts/setup.sh', 'scripts/debian-packages.sh',
		'linux/build.sh', 'linux/lkl.config', 'linux/arch/lkl/Kconfig', 'native/Makefile', 'native/fuse/lklfuse.c',
		'native/addon/binding.gyp', 'native/host/posix_host.c', 'node_modules/commander/package.json'])
		t.ok(files.has(f), `ships ${f}`);
	t.equal(files.get('prebuilds/linux-x64/lklfuse-server')?.mode, 0o755, 'the server is executable');
	const unwanted = [...files.keys()].filter((p) => /^(test|bench|\.ci|build)\/|^native\/(test|addon\/build)\/|\/test_[^/]*\.c$/.test(p));
	t.same(unwanted, [], 'no tests, benchmarks or build directories');
	const info = JSON.parse(fs.readFileSync(join(REPO, 'prebuilds/linux-x64/build-info.json'), 'utf8'));
	t.match(info.kernelSource, /^linux-source-6\.12 \d/, 'names the Debian kernel source version');
	t.match(info.glibc, /^2\.\d+$/, 'and the glibc it needs');
});

t.test('npm install --offline as a user with no compiler', async (t) => {
	assertNoCompilers(t, bin);
	const started = process.hrtime.bigint();
	const r = runAs(user, bin, 'npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app });
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	t.equal(r.status, 0, `npm install exits 0${r.status ? `:\n${r.stdout}${r.stderr}` : ''}`);
	t.comment(`npm install --offline: ${seconds.toFixed(1)} s`);
	t.notMatch(r.stdout + r.stderr, /gyp|prebuild|compil/i, 'nothing is built');
	t.notOk(fs.existsSync(join(app, 'node_modules/lkl/build')), 'no build directory appears');
	const version = runAs(user, bin, 'npx', ['--offline', 'lkl', '--version'], { cwd: app });
	t.equal(version.stdout.trim(), JSON.parse(fs.readFileSync(join(REPO, 'package.json'), 'utf8')).version, 'npx lkl --version');
});

t.test('what users do, through npx lkl', async (t) => {
	const lkl = (args) => runAs(user, bin, 'npx', ['--offline', 'lkl', ...args], { cwd: app });
	useLkl(t, { dir, user, lkl });
});

t.test('a platform without binaries gets one line saying what to do', async (t) => {
	const lklBin = join(app, 'node_modules/.bin/lkl');
	const r = runAs(user, bin, lklBin, ['fs2tar', 'x.img', 'x.tar'], { cwd: work, env: { LIBC: 'musl' } });
	t.equal(r.status, 1, 'exits 1');
	t.match(r.stderr, /^lkl: cannot load lkl's native files on linux-x64 \(glibc [0-9.]+\): .*prebuilds\/linux-x64 holds no build for this C library; .*musl \(Alpine\)\n$/,
		'names the platform, what was looked for and what to do, on one line');
	const prebuilds = join(app, 'node_modules/lkl/prebuilds');
	fs.renameSync(prebuilds, `${prebuilds}.away`);
	t.teardown(() => fs.renameSync(`${prebuilds}.away`, prebuilds));
	const none = runAs(user, bin, lklBin, ['fs2tar', 'x.img', 'x.tar'], { cwd: work });
	t.equal(none.status, 1, 'exits 1 without prebuilds');
	t.match(none.stderr, /^lkl: cannot load lkl's native files on linux-x64 \(glibc [0-9.]+\): looked in \S+\/prebuilds\/linux-x64 \(this package has: none\); reinstall lkl.*\n$/,
		'and says so when the files are missing');
});
