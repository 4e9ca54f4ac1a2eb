// SPDX-License-Identifier: GPL-2.0
//
// `mount -o remount,ro` of an lklfuse mount (xfstests generic/294, 306,
// 452): mount(8) runs the mount helper mount.fuse3, which runs
// `lklfuse IMAGE DIR -o ro,remount,...`, exactly as here.  The mount is
// there already: lklfuse must change its flags, not start a second
// server, which the image's lock refuses.  Read-only, writes fail with
// EROFS and what was written before is kept; read-write again, writes
// work; the image is fsck-clean after.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { LKL, cannotRun, ext4Scratch, mountLine, run, tryRun } from './server.mjs'

t.setTimeout(3 * 60 * 1000)

const LKLFUSE = join(LKL, '..', 'lklfuse')

/** A command as a user runs it: without the NODE_OPTIONS tap adds. */
function clean(cmd, args) {
  // bin/lklfuse is a shell script; lkl runs under node
  return tryRun('env', ['-u', 'NODE_OPTIONS', ...(cmd === LKLFUSE ? [] : [process.execPath]), cmd, ...args])
}

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const { mnt, img } = ext4Scratch(t, 'remount')

  t.test('remount read-only and back', async t => {
    const up = clean(LKLFUSE, [img, mnt, '-o', 'rw,allow_other,dev,suid'])
    t.equal(up.status, 0, 'lklfuse mounts', { output: up.output })
    if (up.status !== 0)
      return
    t.teardown(() => clean(LKL, ['unmount', mnt]))
    fs.writeFileSync(join(mnt, 'before'), 'kept\n')

    const ro = clean(LKLFUSE, [img, mnt, '-o', 'ro,remount,allow_other,dev,suid'])
    t.equal(ro.status, 0, 'remount,ro succeeds', { output: ro.output })
    t.match(mountLine(mnt), / ro,/, 'the mount is read-only')
    t.throws(() => fs.writeFileSync(join(mnt, 'after'), 'no\n'), { code: 'EROFS' },
      'a new file is refused with EROFS')
    t.equal(fs.readFileSync(join(mnt, 'before'), 'utf8'), 'kept\n', 'what was written is there')

    const rw = clean(LKLFUSE, [img, mnt, '-o', 'rw,remount,allow_other,dev,suid'])
    t.equal(rw.status, 0, 'remount,rw succeeds', { output: rw.output })
    t.match(mountLine(mnt), / rw,/, 'the mount is read-write again')
    fs.writeFileSync(join(mnt, 'after'), 'yes\n')

    const down = clean(LKL, ['unmount', mnt])
    t.equal(down.status, 0, 'lkl unmount', { output: down.output })
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
    const ls = run('debugfs', ['-R', 'ls -l /', img])
    t.match(ls, /before/, 'the image has the file written before')
    t.match(ls, /after/, 'and the one written after')
  })

  t.test('remount of a directory that is no mount', async t => {
    const r = clean(LKLFUSE, [img, mnt, '-o', 'ro,remount'])
    t.equal(r.status, 1, 'status 1')
    t.match(r.output, /^lkl: cannot remount .*mnt: /m, 'one line says why')
  })
}
