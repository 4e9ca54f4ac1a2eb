// SPDX-License-Identifier: GPL-2.0
//
// lklfuse-server asks the host for kill-priv v2 (native/fuse/io.c): the
// host then no longer clears set-ID bits itself before a write, truncate
// or O_TRUNC open by a caller without CAP_FSETID, and the server must.
// Root's mount with allow_other; files set-ID and owned by a test user;
// that user writes, truncates, opens with O_TRUNC, and root writes too
// (root has CAP_FSETID: its bits stay).  A set-group-ID file that is not
// group-executable keeps that bit (as on any Linux filesystem).
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { cannotRun, ensureUser, ext4Scratch, runAs, tryRun, whileServing } from './server.mjs'

t.setTimeout(5 * 60 * 1000)

async function main() {
  const user = ensureUser(t, 'lkl-kp')
  const { mnt, img } = ext4Scratch(t, 'killpriv', { shared: true })

  await t.test('set-ID bits after writes by a caller without CAP_FSETID', async t => {
    const served = await whileServing(t, img, mnt, () => {
      const d = join(mnt, 'd')
      fs.mkdirSync(d, { mode: 0o777 })
      fs.chmodSync(d, 0o777)
      const files = { append: 0o6755, truncate: 0o6755, otrunc: 0o6755, root: 0o6755, sgidnox: 0o2644, plain: 0o755 }
      for (const [name, mode] of Object.entries(files)) {
        fs.writeFileSync(join(d, name), 'x\n')
        fs.chownSync(join(d, name), user.uid, user.gid)
        fs.chmodSync(join(d, name), mode)
      }
      const sh = runAs(user.name, 'sh', ['-ec',
        'echo more >> "$1/append"; truncate -s 1 "$1/truncate"; echo y > "$1/otrunc"; ' +
        'echo z >> "$1/sgidnox"; echo w >> "$1/plain"', 'sh', d])
      t.equal(sh.status, 0, 'the user writes its files', { output: sh.output })
      fs.appendFileSync(join(d, 'root'), 'root\n')

      const mode = name => fs.statSync(join(d, name)).mode & 0o7777
      t.equal(mode('append').toString(8), '755', 'a write clears set-user-ID and set-group-ID')
      t.equal(mode('truncate').toString(8), '755', 'a truncate clears them')
      t.equal(mode('otrunc').toString(8), '755', 'an O_TRUNC open clears them')
      t.equal(mode('sgidnox').toString(8), '2644', 'set-group-ID without group execute stays')
      t.equal(mode('plain').toString(8), '755', 'a plain file keeps its mode')
      t.equal(mode('root').toString(8), '6755', "root's write keeps them (CAP_FSETID)")
      t.equal(fs.readFileSync(join(d, 'append'), 'utf8'), 'x\nmore\n', 'the write went through')
    }, { args: ['-o', 'allow_other'] })
    if (!served)
      return
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
  })
}

const why = process.getuid() !== 0 ? 'needs root, to make a user' : cannotRun()
if (why)
  t.plan(0, why)
else
  await main()
