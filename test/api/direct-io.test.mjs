// SPDX-License-Identifier: GPL-2.0
//
// O_DIRECT: the library kernel has no MMU to pin a caller's buffer with, and
// a direct read into an aligned buffer crashed the whole process.  It is
// refused at open with EINVAL, as a filesystem without direct I/O refuses
// it, and the mount goes on working.
import { constants } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { run, tempDir } from '../helpers/tree.mjs';

const dir = tempDir(t);
const img = join(dir, 'ext4.img');
run('truncate', ['-s', '64M', img]);
run('mkfs.ext4', ['-q', '-F', img]);

const kernel = Kernel.boot();
t.teardown(() => kernel.halt());
const mount = await kernel.mount(await kernel.addDisk(img));
await mount.writeFile('f', Buffer.alloc(65536, 7));

t.test('open with O_DIRECT: EINVAL, for reading and for writing', async (t) => {
	await t.rejects(mount.open('f', constants.O_RDONLY | constants.O_DIRECT), { code: 'EINVAL', syscall: 'open' });
	await t.rejects(mount.open('g', constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT), { code: 'EINVAL', syscall: 'open' });
	t.throws(() => mount.readFileSync('f', { flag: constants.O_RDONLY | constants.O_DIRECT }), { code: 'EINVAL' });
	await t.rejects(mount.stat('g'), { code: 'ENOENT' }, 'nothing was created');
});

t.test('the mount goes on working', async (t) => {
	t.same(await mount.readFile('f'), Buffer.alloc(65536, 7));
	await mount.unmount();
});
