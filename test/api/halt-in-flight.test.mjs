// Halting while calls are in flight: a read of a FIFO that nobody will
// write, an open of a FIFO that waits for a writer, a writer in a loop, a
// long write, the listing of a big directory and a crowd of small calls,
// all at once on two images (ext4 and xfs).  Each call ends, as it would
// if its process were killed: EINTR, or (a small call) its result; calls
// made after halt() began fail with ERR_LKL_HALTED; halt() returns; both
// images check clean and the host's own mount reads them.  Before, a
// halt waited for the FIFO's read forever.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { hostCanMount, loopMount } from '../helpers/cli.mjs';
import { buildImage, fsck, pattern, run, tempDir } from '../helpers/tree.mjs';

t.setTimeout(300_000);

const MiB = 1 << 20;
const ENTRIES = 40_000;
// Long enough for any machine: a stuck call fails the test instead.
const DEADLINE_MS = 60_000;

const dir = tempDir(t);
const tree = join(dir, 'tree');
fs.mkdirSync(tree);
fs.writeFileSync(join(tree, 'data.bin'), pattern(4 * MiB));
// Sparse, and large enough that the writers never fill them.
const ext4Img = buildImage('ext4', tree, join(dir, 'a.img'), 4096);
const xfsImg = join(dir, 'b.img');
run('truncate', ['-s', '4G', xfsImg]);
run('mkfs.xfs', ['-q', '-f', xfsImg]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// What a promise came to: { value } or { error }, never a rejection.
const outcome = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));
// The promise's result, or 'timeout' after ms.
function within(promise, ms) {
	let timer;
	return Promise.race([
		promise.finally(() => clearTimeout(timer)),
		new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); }),
	]);
}

const kernel = Kernel.boot({ memoryMiB: 128 });
const ext4 = await kernel.mount(await kernel.addDisk(ext4Img));
const xfs = await kernel.mount(await kernel.addDisk(xfsImg));
// The big directory, made by the kernel (mke2fs -d takes minutes to fill
// one this big): symlinks, one call each.
await ext4.mkdir('big');
for (let i = 0; i < ENTRIES; i += 1000) {
	const made = [];
	for (let j = i; j < i + 1000; j++)
		made.push(ext4.symlink('target', `big/entry-with-a-longer-name-${j}`));
	await Promise.all(made);
}
await ext4.mknod('fifo-read', fs.constants.S_IFIFO | 0o600);
await ext4.mknod('fifo-open', fs.constants.S_IFIFO | 0o600);

// A read of a FIFO open for reading and writing: no data will ever come,
// and its own writer keeps it from ending.
const fifo = await ext4.open('fifo-read', 'r+');
const fifoRead = outcome(fifo.read(Buffer.alloc(16), 0, 16, null));
// An open of a FIFO for reading waits for a writer.
const fifoOpen = outcome(ext4.readFile('fifo-open'));
// A writer in a loop, 1 MiB a call, on xfs.
const out = await xfs.open('loop.bin', 'w');
let written = 0;
const writer = outcome((async () => {
	const chunk = pattern(MiB);
	for (;;)
		written += (await out.write(chunk, 0, MiB, null)).bytesWritten;
})());
// One long write that would never end: writeFile of an endless iterable
// is one call, its chunks written one after another.
function* endless() {
	const chunk = Buffer.alloc(MiB, 7);
	for (;;)
		yield chunk;
}
const longWrite = outcome(ext4.writeFile('long.bin', endless()));

// The FIFO calls wait in the kernel by now and the writers write.
await sleep(500);
const writtenBefore = written;
// Started with the halt: a listing of 40,000 names (hundreds of
// milliseconds), and a crowd of small calls.
const listing = outcome(ext4.readdir('big'));
const crowd = [];
for (let i = 0; i < 40; i++)
	crowd.push(outcome(ext4.stat('data.bin')));
for (let i = 0; i < 8; i++)
	crowd.push(outcome(ext4.readFile('data.bin')));
const started = Date.now();
const halted = await within(outcome(kernel.halt()), DEADLINE_MS);
const haltMs = Date.now() - started;

t.test('halt() returns, and every call in flight ends', async (t) => {
	t.not(halted, 'timeout', `halt() returned (after ${haltMs} ms)`);
	t.same(halted, { value: undefined }, 'and resolved');
	t.equal(kernel.halted, true);
	t.same(kernel.mounts, [], 'nothing is left mounted');
	const all = await within(Promise.all([fifoRead, fifoOpen, writer, longWrite, listing, ...crowd]),
		DEADLINE_MS);
	t.not(all, 'timeout', 'no call is left hanging');
});

t.test('what each call ends with', async (t) => {
	const shaped = (got, syscall, path) => {
		t.ok(got.error, `${syscall} rejects`, { value: got.value });
		t.match(got.error, { code: 'EINTR', errno: -4, syscall, message: /^EINTR: interrupted system call/ },
			`${syscall}: EINTR, shaped like node:fs's`);
		if (path !== undefined)
			t.equal(got.error?.path, path, `${syscall}: the path`);
	};
	shaped(await fifoRead, 'read');
	shaped(await fifoOpen, 'open', 'fifo-open');
	shaped(await longWrite, 'write');
	shaped(await listing, 'scandir', 'big');

	// The loop's last call was either inside the kernel (EINTR) or made
	// after halt() began (ERR_LKL_HALTED).
	const w = await writer;
	t.ok(writtenBefore > 0, `the writer wrote ${writtenBefore / MiB} MiB first`);
	t.ok(['EINTR', 'ERR_LKL_HALTED'].includes(w.error?.code), `the writer ends with ${w.error?.code}`,
		{ error: w.error });

	// Each small call either finished, with its right result, or failed
	// with EINTR; none came back with part of a file.
	const results = await Promise.all(crowd);
	const failed = results.filter((c) => c.error);
	t.same(failed.filter((c) => c.error.code !== 'EINTR'), [], 'a small call that fails, fails with EINTR');
	const reads = results.filter((c) => Buffer.isBuffer(c.value));
	t.ok(reads.every((c) => c.value.equals(pattern(4 * MiB))), 'every readFile that finished has the whole file');
	t.ok(results.filter((c) => c.value && !Buffer.isBuffer(c.value)).every((c) => c.value.size === 4 * MiB),
		'every stat that finished is right');
	t.comment(`${results.length - failed.length} small calls finished, ${failed.length} interrupted`);
});

t.test('calls after the halt fail at once', async (t) => {
	await t.rejects(ext4.stat('data.bin'), { code: 'ERR_LKL_HALTED' });
	await t.rejects(fifo.read(Buffer.alloc(1), 0, 1, null), { code: 'ERR_LKL_HALTED' });
	t.throws(() => ext4.readdirSync('/'), { code: 'ERR_LKL_HALTED' });
	t.equal(fifo.fd, -1, 'open files were closed');
	t.equal(out.fd, -1);
});

t.test('both images are clean', async (t) => {
	for (const [kind, img] of [['ext4', ext4Img], ['xfs', xfsImg]]) {
		const check = fsck(kind, img);
		t.ok(check.ok, `${kind}: its fsck finds no fault`, { output: check.output });
	}
	if (process.getuid?.() !== 0 || !hostCanMount('xfs') || !hostCanMount('ext4'))
		return;
	const ext4Mnt = loopMount(t, ext4Img, dir, 'ext4');
	t.equal(fs.readdirSync(join(ext4Mnt, 'big')).length, ENTRIES, 'ext4: the host lists the big directory');
	t.ok(fs.statSync(join(ext4Mnt, 'long.bin')).size > 0, 'ext4: the long write\'s file is there');
	const xfsMnt = loopMount(t, xfsImg, dir, 'xfs');
	const size = fs.statSync(join(xfsMnt, 'loop.bin')).size;
	t.ok(size >= writtenBefore, `xfs: the writer's file has what it wrote (${size / MiB} MiB)`);
	const head = Buffer.alloc(MiB);
	const fd = fs.openSync(join(xfsMnt, 'loop.bin'), 'r');
	fs.readSync(fd, head, 0, MiB, 0);
	fs.closeSync(fd);
	t.ok(head.equals(pattern(MiB)), 'xfs: and its bytes');
});
