// SPDX-License-Identifier: GPL-2.0
//
// Asynchronous direct writes (io_submit) through lklfuse, while another
// thread reads the file through the page cache: once a write completes, a
// buffered read sees what it wrote (xfstests generic/451).  The host
// kernel drops cached pages after a direct write only when the write was
// synchronous to it, so the server must not ask for FUSE's asynchronous
// direct I/O.  aio-dio-read.c does the writing and checking.
import t from 'tap'
import { join } from 'node:path'
import { ROOT, cannotRun, ext4Scratch, run, tryRun, whileServing } from './server.mjs'

t.setTimeout(3 * 60 * 1000)

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const { dir, mnt, img } = ext4Scratch(t, 'aio')
  const prog = join(dir, 'aio-dio-read')
  run('gcc', ['-O2', '-Wall', '-pthread', '-o', prog, join(ROOT, 'test', 'fuse', 'aio-dio-read.c')])

  t.test('a buffered read after an asynchronous direct write', async t => {
    const served = await whileServing(t, img, mnt, () => {
      const r = tryRun(prog, [join(mnt, 'f')])
      t.equal(r.status, 0, 'sees what the write wrote, every round', { output: r.output })
    })
    if (!served)
      return
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
  })
}
