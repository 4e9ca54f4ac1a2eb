// SPDX-License-Identifier: GPL-2.0
//
// POSIX ACLs and set-group-ID directories through an lklfuse mount with
// allow_other, where the host kernel checks permissions (xfstests
// generic/099, 319, 444, 697).  The host must know the ACLs: an entry
// that lets a user read a file of mode 0600 lets them read it; an ACL set
// changes the mode at once, as stat shows; a directory's default ACL, not
// the caller's umask, gives new files their group permissions; and a file
// made by a user in a set-group-ID directory takes the directory's group
// even when that group is root's.  Compared with the host kernel's own
// loop mount of the same image, which must agree.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { cannotRun, ensureUser, ext4Scratch, run, runAs, tryRun, whileServing } from './server.mjs'

t.setTimeout(3 * 60 * 1000)

/** What a user sees and does in @top, which root prepared (prepare()). */
function observe(top, user) {
  const read = runAs(user.name, 'cat', [join(top, 'secret')])
  const made = runAs(user.name, 'sh', ['-c', 'umask 022 && mkdir "$1/dflt/sub" && touch "$1/sgid/f"', 'sh', top])
  const acl = p => run('getfacl', ['-cp', '--omit-header', p]).trim().split('\n').sort().join(',')
  // stat(1) asks for the mode alone, which the host answers from its
  // cache (node's fs.stat asks for more and so always reaches the server).
  const mode = p => run('stat', ['-c', '%a', p]).trim()
  return {
    readsSecret: read.status === 0 ? read.stdout : `refused: ${read.stderr.trim()}`,
    madeFiles: made.status === 0 ? 'yes' : made.output.trim(),
    modeAfterChacl: mode(join(top, 'narrowed')),
    subdirAcl: made.status === 0 ? acl(join(top, 'dflt', 'sub')) : '',
    sgidFileGid: made.status === 0 ? fs.statSync(join(top, 'sgid', 'f')).gid : -1,
  }
}

/** As root, in a fresh tree @top: the files observe() looks at. */
function prepare(top) {
  fs.mkdirSync(top)
  fs.chmodSync(top, 0o755)
  fs.writeFileSync(join(top, 'secret'), 'for the user\n', { mode: 0o600 })
  fs.chmodSync(join(top, 'secret'), 0o600)
  fs.writeFileSync(join(top, 'narrowed'), '')
  fs.chmodSync(join(top, 'narrowed'), 0o644)
  fs.mkdirSync(join(top, 'dflt'))
  fs.mkdirSync(join(top, 'sgid'))
  fs.chmodSync(join(top, 'sgid'), 0o2777)
}

/** As root, the ACL changes; the first only needs the host to know it. */
function setAcls(top, user) {
  run('setfacl', ['-m', `u:${user.name}:r`, join(top, 'secret')])
  run('setfacl', ['-m', 'u::r--,g::---,o::---', join(top, 'narrowed')])
  run('setfacl', ['-d', '--set', 'u::rwx,g::rwx,o::-', join(top, 'dflt')])
  fs.chmodSync(join(top, 'dflt'), 0o777)
}

const EXPECTED = {
  readsSecret: 'for the user\n',
  madeFiles: 'yes',
  modeAfterChacl: '400',
  subdirAcl: 'default:group::rwx,default:other::---,default:user::rwx,group::rwx,other::---,user::rwx',
  sgidFileGid: 0,
}

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const user = ensureUser(t, 'lkl-acl')
  const { mnt, img } = ext4Scratch(t, 'acl', { shared: true })

  t.test('the host kernel\'s own mount, for reference', async t => {
    run('mount', ['-o', 'loop', img, mnt])
    try {
      prepare(join(mnt, 'host'))
      setAcls(join(mnt, 'host'), user)
      t.same(observe(join(mnt, 'host'), user), EXPECTED,
        'the host kernel gives what the tests expect')
    } finally {
      run('umount', [mnt])
    }
  })

  t.test('through lklfuse with allow_other', async t => {
    const served = await whileServing(t, img, mnt, () => {
      const top = join(mnt, 'fuse')
      prepare(top)
      // The mode as the host caches it, before the ACL changes it.
      fs.statSync(join(top, 'narrowed'))
      setAcls(top, user)
      t.same(observe(top, user), EXPECTED, 'lklfuse agrees with the host kernel')
    }, { args: ['-o', 'allow_other'] })
    if (!served)
      return
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
  })
}
