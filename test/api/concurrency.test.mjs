// Many calls at once, and the event loop while the kernel works: calls
// run off the main thread, so timers keep firing; a call blocked in the
// kernel does not hold up the others; and streams only read ahead as far
// as their consumer lets them.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { buildImage, fsck, pattern, tempDir } from '../helpers/tree.mjs';

t.setTimeout(240_000);

const MiB = 1 << 20;
const BIG = 100 * MiB;
const dir = tempDir(t);
const tree = join(dir, 'tree');
fs.mkdirSync(join(tree, 'small'), { recursive: true });
const fd = fs.openSync(join(tree, 'big.bin'), 'w');
const hostHash = createHash('sha256');
for (let off = 0; off < BIG; off += MiB) {
	// pattern() numbers each 16-byte line by its offset: seeding with the
	// offset makes the MiB pieces one continuous pattern.
	const piece = pattern(MiB, off);
	fs.writeSync(fd, piece);
	hostHash.update(piece);
}
fs.closeSync(fd);
for (let i = 0; i < 50; i++)
	fs.writeFileSync(join(tree, 'small', `s${i}`), `small file ${i}\n`.repeat(i + 1));
const img = buildImage('ext4', tree, join(dir, 'big.img'), 256);

const kernel = Kernel.boot({ memoryMiB: 128 });
t.teardown(() => kernel.halt());
const mount = await kernel.mount(await kernel.addDisk(img));

t.test('200 concurrent reads all get the right bytes', async (t) => {
	const h = await mount.open('big.bin');
	const expectAt = (pos, len) => pattern(len + 16, pos - (pos % 16)).subarray(pos % 16, pos % 16 + len);
	const reads = [];
	for (let i = 0; i < 200; i++) {
		const pos = (i * 7919 * 4099) % (BIG - 70_000);
		const len = 1 + ((i * 131) % 65_536);
		const buf = Buffer.alloc(len);
		reads.push(h.read(buf, 0, len, pos).then(({ bytesRead }) => ({ i, pos, len, buf, bytesRead })));
	}
	const smalls = [];
	for (let i = 0; i < 50; i++)
		smalls.push(mount.readFile(`small/s${i}`, 'utf8').then((text) => ({ i, text })));
	const results = await Promise.all(reads);
	let wrong = 0;
	for (const r of results) {
		if (r.bytesRead !== r.len || !r.buf.equals(expectAt(r.pos, r.len)))
			wrong++;
	}
	t.equal(wrong, 0, 'every read has its own bytes');
	for (const { i, text } of await Promise.all(smalls))
		t.equal(text, `small file ${i}\n`.repeat(i + 1));
	await h.close();
});

t.test('concurrent writes land where they should', async (t) => {
	await mount.mkdir('w');
	await Promise.all(Array.from({ length: 100 }, (_, i) => mount.writeFile(`w/f${i}`, pattern(1000 + i * 37, i))));
	const h = await mount.open('w/shared', 'w+');
	await Promise.all(Array.from({ length: 64 }, (_, i) => h.write(pattern(4096, i * 4096), 0, 4096, i * 4096)));
	await h.close();
	for (let i = 0; i < 100; i++) {
		if (!(await mount.readFile(`w/f${i}`)).equals(pattern(1000 + i * 37, i)))
			t.fail(`w/f${i}`);
	}
	t.same(await mount.readFile('w/shared'), pattern(64 * 4096), 'positioned writes from many calls');
});

t.test('timers keep firing while 100 MiB stream through', async (t) => {
	let last = performance.now();
	let worst = 0;
	let ticks = 0;
	const timer = setInterval(() => {
		const now = performance.now();
		worst = Math.max(worst, now - last);
		last = now;
		ticks++;
	}, 10);
	const started = performance.now();
	const hash = createHash('sha256');
	let bytes = 0;
	for await (const chunk of mount.createReadStream('big.bin')) {
		hash.update(chunk);
		bytes += chunk.length;
	}
	const took = performance.now() - started;
	clearInterval(timer);
	t.equal(bytes, BIG);
	t.equal(hash.digest('hex'), hostHash.digest('hex'), 'the same bytes as on the host');
	t.ok(worst < 200, `no gap between ticks over 200 ms (worst ${worst.toFixed(1)} ms, ${ticks} ticks in ${took.toFixed(0)} ms)`);
	t.ok(ticks >= Math.floor(took / 10) * 0.5, 'the timer ran throughout');
});

t.test('a read stream reads ahead only as far as its consumer', async (t) => {
	const s = mount.createReadStream('big.bin');
	const it = s[Symbol.asyncIterator]();
	await it.next();
	await new Promise((resolve) => setTimeout(resolve, 300));
	t.ok(s.bytesRead <= 4 * MiB, `paused: read ${s.bytesRead} bytes of ${BIG}`);
	s.destroy();
	await once(s, 'close');
});

t.test('a write stream pushes back', async (t) => {
	const ws = mount.createWriteStream('out.bin');
	t.equal(ws.writableHighWaterMark, MiB, '1 MiB high-water mark');
	t.equal(ws.write(Buffer.alloc(2 * MiB, 1)), false, 'a full buffer asks the writer to wait');
	await once(ws, 'drain');
	ws.end(Buffer.alloc(10, 2));
	await once(ws, 'close');
	t.equal(ws.bytesWritten, 2 * MiB + 10);
	t.equal((await mount.stat('out.bin')).size, 2 * MiB + 10);
});

t.test('a read blocked on a FIFO does not hold up the write that ends it', async (t) => {
	// Calls go to one thread while they come one at a time; one that
	// blocks must not keep the next waiting behind it (kernel_calls.cc).
	await mount.mknod('fifo', fs.constants.S_IFIFO | 0o600);
	const reading = mount.readFile('fifo', 'utf8');
	await new Promise((resolve) => setTimeout(resolve, 100));
	await mount.writeFile('fifo', 'through the FIFO\n');
	t.equal(await reading, 'through the FIFO\n');
	// Several blocked at once (opening a FIFO waits for a writer).
	const readers = [];
	for (let i = 0; i < 6; i++)
		readers.push(mount.readFile('fifo', 'utf8'));
	await new Promise((resolve) => setTimeout(resolve, 100));
	t.same((await mount.readdir('small')).length, 50, 'other calls run while six readers wait');
	await mount.writeFile('fifo', 'x');
	const got = await Promise.race([Promise.all(readers), new Promise((resolve) => setTimeout(() => resolve('timeout'), 20_000))]);
	t.not(got, 'timeout', 'one writer wakes all six readers');
	t.same(typeof got === 'string' ? got : got.join(''), 'x', 'and one of them reads what it wrote');
	await mount.unlink('fifo');
});

t.test('unmount waits for calls in flight', async (t) => {
	const pending = mount.readFile('big.bin');
	const unmounted = mount.unmount();
	await t.rejects(mount.stat('big.bin'), { code: 'ERR_LKL_UNMOUNTED' }, 'new calls are refused at once');
	const data = await pending;
	t.equal(data.length, BIG, 'the call already running finished');
	await unmounted;
	const check = fsck('ext4', img);
	t.ok(check.ok, 'e2fsck', { output: check.output });
});
