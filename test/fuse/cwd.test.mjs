// SPDX-License-Identifier: GPL-2.0
//
// A server started from a working directory inside another mount must
// not keep that mount busy (xfstests mounts its scratch image from its
// test directory, then cannot unmount the test directory: "target is
// busy").  Mount a.img, start b.img's mount from inside it, with paths
// relative to there, and unmount a.img first: it must go.  Both images
// fsck-clean after.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { LKL, cannotRun, run, tryRun } from './server.mjs'
import { tempDir } from '../helpers/machine.mjs'

t.setTimeout(3 * 60 * 1000)

/** lkl ARGS as a user runs it: without the NODE_OPTIONS tap adds. */
function lkl(args, options = {}) {
  return tryRun('env', ['-u', 'NODE_OPTIONS', process.execPath, LKL, ...args], options)
}

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const dir = tempDir(t, 'lklfuse-cwd-', '/tmp')
  const a = join(dir, 'a')
  const b = join(dir, 'b')
  fs.mkdirSync(a)
  fs.mkdirSync(b)
  for (const img of ['a.img', 'b.img']) {
    run('truncate', ['-s', '32M', join(dir, img)])
    run('mkfs.ext4', ['-q', '-F', join(dir, img)])
  }

  t.test('unmount the mount a server was started in', async t => {
    const upA = lkl(['lklfuse', join(dir, 'a.img'), a])
    t.equal(upA.status, 0, 'a.img mounts', { output: upA.output })
    if (upA.status !== 0)
      return
    t.teardown(() => {
      lkl(['unmount', b])
      lkl(['unmount', a])
    })
    fs.mkdirSync(join(a, 'sub'))
    const upB = lkl(['lklfuse', '../../b.img', '../../b'], { cwd: join(a, 'sub') })
    t.equal(upB.status, 0, 'b.img mounts from inside a, by relative paths', { output: upB.output })
    fs.writeFileSync(join(b, 'f'), 'b\n')

    const downA = lkl(['unmount', a])
    t.equal(downA.status, 0, 'a unmounts while b is served', { output: downA.output })
    t.equal(fs.readFileSync(join(b, 'f'), 'utf8'), 'b\n', 'b still serves')
    const downB = lkl(['unmount', b])
    t.equal(downB.status, 0, 'b unmounts', { output: downB.output })
    for (const img of ['a.img', 'b.img']) {
      const fsck = tryRun('e2fsck', ['-fn', join(dir, img)])
      t.equal(fsck.status, 0, `e2fsck -fn finds ${img} clean`, { output: fsck.output })
    }
  })
}
