// SPDX-License-Identifier: GPL-2.0
//
// rewinddir(3) through lklfuse shows the files made since opendir(3), as
// POSIX says (xfstests generic/471).  The host does not pass the rewind
// on; btrfs remembers where a directory ended until a seek, so without
// one the new files stayed hidden.  On btrfs, where it showed, and ext4.
// rewinddir.c does the opening, making and reading.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { ROOT, cannotRun, run, tryRun, whileServing } from './server.mjs'
import { tempDir } from '../helpers/machine.mjs'

t.setTimeout(3 * 60 * 1000)

const FSCK = {
  btrfs: ['btrfs', ['check', '--readonly']],
  ext4: ['e2fsck', ['-fn']],
}

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const dir = tempDir(t, 'lklfuse-rewind-', '/tmp')
  const mnt = join(dir, 'mnt')
  const prog = join(dir, 'rewinddir')
  fs.mkdirSync(mnt)
  run('gcc', ['-O2', '-Wall', '-o', prog, join(ROOT, 'test', 'fuse', 'rewinddir.c')])

  for (const type of ['btrfs', 'ext4']) {
    t.test(type, async t => {
      const img = join(dir, `${type}.img`)
      run('truncate', ['-s', '256M', img])
      run(`mkfs.${type}`, type === 'btrfs' ? ['-q', '-f', img] : ['-q', '-F', img])
      const served = await whileServing(t, img, mnt, () => {
        fs.mkdirSync(join(mnt, 'd'))
        const r = tryRun(prog, [join(mnt, 'd')])
        t.equal(r.status, 0, 'every file made since opendir shows after rewinddir',
          { output: r.output })
      })
      if (!served)
        return
      const [cmd, args] = FSCK[type]
      const fsck = tryRun(cmd, [...args, img])
      t.equal(fsck.status, 0, `${cmd} finds the image clean`, { output: fsck.output })
    })
  }
}
