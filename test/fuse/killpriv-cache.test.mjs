// SPDX-License-Identifier: GPL-2.0
//
// When a write or an O_TRUNC open by a user without CAP_FSETID clears a
// file's set-ID bits (the server does, killpriv.test.mjs), stat right
// after shows it: the host kernel caches the mode for a second, and
// neither reply tells it the mode changed, so the server must (xfstests
// generic/355: a direct write, then stat at once); fallocate too.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { cannotRun, ensureUser, ext4Scratch, run, runAs, tryRun, whileServing } from './server.mjs'

t.setTimeout(3 * 60 * 1000)

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const user = ensureUser(t, 'lkl-kpc')
  const { mnt, img } = ext4Scratch(t, 'kpc', { shared: true })

  t.test('set-ID bits cleared by a user\'s write show at once', async t => {
    const served = await whileServing(t, img, mnt, () => {
      const f = join(mnt, 'f')
      fs.writeFileSync(f, 'x\n')
      fs.chownSync(f, user.uid, user.gid)
      // stat(1) asks for the mode alone, which the host answers from its
      // cache; node's fs.stat asks for the birth time too, which it
      // never caches, so it would always ask the server.
      const mode = () => run('stat', ['-c', '%a', f]).trim()
      const ways = {
        'a direct write': ['dd', 'if=/dev/zero', `of=${f}`, 'bs=4096', 'count=1',
          'oflag=direct', 'conv=notrunc', 'status=none'],
        'a buffered write': ['dd', 'if=/dev/zero', `of=${f}`, 'bs=100', 'count=1',
          'conv=notrunc', 'status=none'],
        'an O_TRUNC open': ['sh', '-c', ': > "$1"', 'sh', f],
      }
      for (const [way, cmd] of Object.entries(ways)) {
        fs.chmodSync(f, 0o6754)
        // The host caches the mode as set.
        t.equal(mode(), '6754', `before ${way}`)
        const r = runAs(user.name, cmd[0], cmd.slice(1))
        t.equal(r.status, 0, `the user makes ${way}`, { output: r.output })
        t.equal(mode(), '754', `stat right after ${way} shows both bits cleared`)
      }
    }, { args: ['-o', 'allow_other'] })
    if (!served)
      return
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
  })

  // xfstests generic/683-685: fallocate, punching and zeroing clear the
  // bits as a write does (the host says nothing: a user is no root), and
  // set-group-ID goes even without group execute when the user is not in
  // the file's group; root keeps them all.
  t.test('fallocate by a user outside the file\'s group, and by root', async t => {
    const served = await whileServing(t, img, mnt, () => {
      const f = join(mnt, 'g')
      fs.writeFileSync(f, '')
      fs.chmodSync(f, 0o666)
      const mode = () => run('stat', ['-c', '%a', f]).trim()
      const cases = [
        ['fallocate', ['-l', '65536'], '6666', '666'],
        ['fallocate', ['-p', '-o', '0', '-l', '4096'], '6676', '676'],
        ['fallocate', ['-z', '-o', '0', '-l', '4096'], '2666', '666'],
      ]
      for (const [cmd, args, before, after] of cases) {
        fs.chmodSync(f, parseInt(before, 8))
        t.equal(mode(), before, `mode ${before} set`)
        const r = runAs(user.name, cmd, [...args, f])
        t.equal(r.status, 0, `the user runs ${cmd} ${args.join(' ')}`, { output: r.output })
        t.equal(mode(), after, `${before} becomes ${after}`)
      }
      fs.chmodSync(f, 0o6777)
      run('fallocate', ['-l', '131072', f])
      t.equal(mode(), '6777', 'root\'s fallocate keeps them')
    }, { args: ['-o', 'allow_other'] })
    if (!served)
      return
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
  })
}
