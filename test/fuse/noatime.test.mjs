// SPDX-License-Identifier: GPL-2.0
//
// -o noatime (mount -o noatime, xfstests generic/120): reading a file
// leaves its access time alone.  The host's noatime alone does nothing
// here: FUSE leaves atime to the server, whose kernel updates it on read
// as its own mount says.  Without noatime a read does update it
// (relatime: the atime is older than the mtime), so the test tells the
// two apart; the file's pages are not in the host's cache (a new mount).
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { cannotRun, ext4Scratch, run, tryRun, whileServing } from './server.mjs'

t.setTimeout(3 * 60 * 1000)

const OLD = 946684800 // 2000-01-01 00:00:00 UTC

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const { mnt, img } = ext4Scratch(t, 'atime')
  const f = join(mnt, 'f')

  for (const [opts, kept] of [['noatime', true], ['', false]]) {
    t.test(opts ? `-o ${opts}` : 'without noatime', async t => {
      await whileServing(t, img, mnt, () => {
        fs.writeFileSync(f, 'data\n')
        fs.utimesSync(f, OLD, fs.statSync(f).mtime)
      })
      await whileServing(t, img, mnt, () => {
        t.equal(fs.readFileSync(f, 'utf8'), 'data\n', 'the file reads')
        const atime = Number(run('stat', ['-c', '%X', f]).trim())
        if (kept)
          t.equal(atime, OLD, 'its access time stays')
        else
          t.not(atime, OLD, 'its access time is updated')
      }, { args: opts ? ['-o', opts] : [] })
      const fsck = tryRun('e2fsck', ['-fn', img])
      t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
    })
  }
}
