// Writes that outgrow the kernel's memory, with no fsync along the way:
// the writer is throttled by balance_dirty_pages() and the flusher and
// the filesystems' own threads run on timers, so these only finish if
// the kernel's timers fire and its idle loop wakes when they do.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { buildImage, fsck, pattern, tempDir } from '../helpers/tree.mjs';

t.setTimeout(300_000);

const MiB = 1 << 20;
const MEMORY_MIB = 64;
const BIG_MIB = 3 * MEMORY_MIB;
const SMALL_FILES = 400;

const dir = tempDir(t);
fs.mkdirSync(join(dir, 'empty'));
const kernel = Kernel.boot({ memoryMiB: MEMORY_MIB });
t.teardown(() => kernel.halt());

for (const kind of ['ext4', 'btrfs', 'xfs', 'vfat']) {
	t.test(`${kind}: ${BIG_MIB} MiB through a ${MEMORY_MIB} MiB kernel, then ${SMALL_FILES} small files`, async (t) => {
		const img = buildImage(kind, join(dir, 'empty'), join(dir, `${kind}.img`), 512);
		const mount = await kernel.mount(await kernel.addDisk(img));

		const written = createHash('sha256');
		const out = mount.createWriteStream('big.bin');
		for (let i = 0; i < BIG_MIB; i++) {
			const piece = pattern(MiB, i * MiB);
			written.update(piece);
			if (!out.write(piece))
				await new Promise((resolve) => out.once('drain', resolve));
		}
		await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));

		const small = Buffer.alloc(8192, 7);
		for (let i = 0; i < SMALL_FILES; i++)
			await mount.writeFile(`f${i}`, small);

		const read = createHash('sha256');
		for await (const chunk of mount.createReadStream('big.bin'))
			read.update(chunk);
		t.equal(read.digest('hex'), written.digest('hex'), 'the big file reads back');
		const names = (await mount.readdir('.')).filter((name) => name !== 'lost+found');
		t.equal(names.length, SMALL_FILES + 1, 'every small file is there');
		await mount.unmount();
		const check = fsck(kind, img);
		t.ok(check.ok, `${kind} checker finds the image clean`, { output: check.output });
		fs.rmSync(img);
	});
}
