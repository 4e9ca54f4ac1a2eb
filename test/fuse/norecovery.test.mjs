// SPDX-License-Identifier: GPL-2.0
//
// -o norecovery (with ro): an ext4 image whose journal holds a committed
// write its killed writer never checkpointed is mounted without replaying
// it, as the host's `mount -o ro,norecovery` would (xfstests generic/537):
// the write is not seen, and the image is not changed.  Without it, a
// read-only mount replays the journal in memory only and shows the write.
import t from 'tap'
import * as fs from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { cannotRun, ext4Scratch, run, whileServing } from './server.mjs'

t.setTimeout(3 * 60 * 1000)

const sha = (p) => createHash('sha256').update(fs.readFileSync(p)).digest('hex')

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const { dir, mnt, img } = ext4Scratch(t, 'norecovery', { mib: 64 })
  const script = join(dir, 'dirty.mjs')
  fs.writeFileSync(script, `
    import { Kernel } from ${JSON.stringify(new URL('../../dist/src/index.js', import.meta.url).href)};
    const kernel = Kernel.boot({ memoryMiB: 32 });
    const mount = await kernel.mount(await kernel.addDisk(process.argv[2]));
    await mount.writeFile('/journalled', 'in the journal only\\n');
    const file = await mount.open('/journalled', 'r');
    await file.sync();
    process.kill(process.pid, 'SIGKILL');
  `)
  const killed = run('sh', ['-c', 'env -u NODE_OPTIONS "$0" "$1" "$2"; echo $?', process.execPath, script, img]).trim()
  t.equal(killed, '137', 'the writer was killed after its commit')
  t.match(run('dumpe2fs', ['-h', img]), /needs_recovery/, 'the journal needs recovery')
  const before = sha(img)

  t.test('-o ro,norecovery: the journal is left alone', async t => {
    await whileServing(t, img, mnt, () => {
      t.notOk(fs.existsSync(join(mnt, 'journalled')), 'the journalled file is not seen')
    }, { args: ['-o', 'ro,norecovery'] })
    t.equal(sha(img), before, 'the image is unchanged')
  })

  t.test('-o ro: replayed in memory', async t => {
    await whileServing(t, img, mnt, () => {
      t.equal(fs.readFileSync(join(mnt, 'journalled'), 'utf8'), 'in the journal only\n', 'the journalled file is seen')
    }, { args: ['-o', 'ro'] })
    t.equal(sha(img), before, 'the image is unchanged')
  })
}
