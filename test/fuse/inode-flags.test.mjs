// SPDX-License-Identifier: GPL-2.0
//
// Immutable and append-only files through lklfuse refuse what the host
// kernel refuses (xfstests generic/079): an immutable file's times,
// whether given or "now"; an append-only file's times given, while
// utime(NULL) (touch) and appending still work.  The host's writeback
// cache sends its own clock's time for "now" and flushes written files'
// times as a change the server must not mistake for the caller's.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { cannotRun, ext4Scratch, run, tryRun, whileServing } from './server.mjs'

t.setTimeout(3 * 60 * 1000)

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const { mnt, img } = ext4Scratch(t, 'flags')

  t.test('chattr +i and +a, then times and writes', async t => {
    const served = await whileServing(t, img, mnt, () => {
      const imm = join(mnt, 'immutable')
      const app = join(mnt, 'append-only')
      fs.writeFileSync(imm, 'kept\n')
      fs.writeFileSync(app, 'first\n')
      run('chattr', ['+i', imm])
      run('chattr', ['+a', app])
      const epoch = new Date(0)
      const mtime = p => fs.statSync(p).mtimeMs

      const immBefore = mtime(imm)
      t.throws(() => fs.utimesSync(imm, epoch, epoch), { code: 'EPERM' },
        'an immutable file refuses times given')
      t.not(tryRun('touch', [imm]).status, 0, 'and refuses touch (utime NULL)')
      t.equal(mtime(imm), immBefore, 'its mtime stays')

      t.throws(() => fs.utimesSync(app, epoch, epoch), { code: 'EPERM' },
        'an append-only file refuses times given')
      const touched = tryRun('touch', [app])
      t.equal(touched.status, 0, 'and accepts touch (utime NULL)', { output: touched.output })
      t.not(mtime(app), 0, 'its mtime is not the epoch')

      fs.appendFileSync(app, 'second\n')
      // close and fsync: the host writes back the data and its times.
      const fd = fs.openSync(app, 'a')
      fs.writeSync(fd, 'third\n')
      fs.fsyncSync(fd)
      fs.closeSync(fd)
      t.equal(fs.readFileSync(app, 'utf8'), 'first\nsecond\nthird\n', 'appending works')
      t.throws(() => fs.writeFileSync(app, 'over\n'), { code: 'EPERM' },
        'overwriting the append-only file does not')

      run('chattr', ['-i', imm])
      run('chattr', ['-a', app])
    })
    if (served) {
      const fsck = tryRun('e2fsck', ['-fn', img])
      t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
    }
  })
}
