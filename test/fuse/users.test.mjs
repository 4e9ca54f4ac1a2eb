// SPDX-License-Identifier: GPL-2.0
//
// lkl lklfuse for an ordinary user, as the user: lkl-users1-PID (made
// here, removed at the end) builds an image of each kind with mkfs.*,
// mounts it with the launcher, which must return 0 once the mount
// serves, compares the tree it sees with the source, changes it
// (as-user.mjs does that, as the user), unmounts it with fusermount3 -u,
// checks it with the filesystem's own fsck and mounts it again to see the
// changes stay.  Then a second user, lkl-users2-PID: shut out of the
// mount, unless it was mounted with -o allow_other, and then only where
// the files' modes let it in.
//
// The test runs as root, to make the users and, for the time it runs,
// to let the first one open /dev/fuse (udev lets every user on Debian; a
// container may not) and to allow user_allow_other in /etc/fuse.conf.
// All of it is put back as it was when the test ends, passed or failed
// (test/helpers/machine.mjs): the users and their groups removed, the
// ACL entry on /dev/fuse removed, /etc/fuse.conf restored.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import {
  MAKE_IMAGES, ROOT, cannotRun, cleanUp, ensureUser, mountLine, openers,
  processUid, released, run, runAs,
} from './server.mjs'
import { grantAccess, repoForUsers, restoreFileAtEnd, tempDir } from '../helpers/machine.mjs'

t.setTimeout(5 * 60 * 1000)

// The repository as the users reach it (bind-mounted where they can, when
// it is a clone in root's private home).
const REPO = repoForUsers(t, ROOT)
const LKL = join(REPO, 'bin', 'lkl')
const AS_USER = join(REPO, 'test', 'fuse', 'as-user.mjs')
const MAKE_TREE = join(REPO, 'test', 'fixtures', 'make-tree.sh')
const NODE = process.execPath

const CASES = [
  {
    fs: 'ext4', tree: 'tree', posix: true, xattr: true,
    compare: { skip: ['lost+found'] }, fsck: ['e2fsck', ['-fn']],
  },
  {
    // mkfs.btrfs --rootdir gives the top directory to root, whoever runs it
    fs: 'btrfs', tree: 'tree', posix: true, xattr: true,
    compare: {}, rootOwnedTop: true, fsck: ['btrfs', ['check', '--readonly']],
  },
  {
    // mkfs.xfs -p: no hard links, and every inode stamped with its own time
    fs: 'xfs', tree: 'tree', posix: true, xattr: true,
    compare: { hardlinks: false, mtime: false }, fsck: ['xfs_repair', ['-n']],
  },
  {
    fs: 'vfat', tree: 'tree-vfat', posix: false, xattr: false,
    compare: { posix: false, hardlinks: false, mtimeGranNs: '2000000000' },
    fsck: ['fsck.vfat', ['-n']],
    lacks: 'no hard links, symlinks, modes, owners or xattrs on vfat',
  },
]

/**
 * Run as-user.mjs OP as @user and assert what it checked; its report
 * ({ checks, results, error }), or undefined if it gave none.
 */
function asUser(t, user, op, args, cwd) {
  const r = runAs(user, NODE, [AS_USER, op, JSON.stringify(args)], { cwd })
  let report
  try {
    report = JSON.parse(r.stdout)
  } catch {
    t.fail(`${op} as ${user}: no report`, { status: r.status, output: r.output })
    return undefined
  }
  for (const c of report.checks) {
    if ('wanted' in c)
      t.same(c.found, c.wanted, c.name)
    else
      t.ok(c.ok, c.name, c.diag)
  }
  t.equal(report.error, null, `${op} as ${user} ran to its end`)
  t.equal(r.status, 0, `${op} as ${user} exits 0`, { stderr: r.stderr })
  return report
}

/** lkl lklfuse as @user, in the background: the result of runAs. */
function mountAs(user, image, mnt, options = []) {
  return runAs(user, NODE, [LKL, 'lklfuse', image, mnt, ...options], { cwd: REPO })
}

/** fusermount3 -u as @user, then the image's release: true if both went well. */
async function unmountAs(t, user, image, mnt) {
  const r = runAs(user, 'fusermount3', ['-u', mnt])
  t.equal(r.status, 0, `fusermount3 -u as ${user}`, { output: r.output })
  t.equal(mountLine(mnt), undefined, 'the mount is gone')
  const done = await released(image)
  t.ok(done, 'the server writes the image back and exits')
  return r.status === 0 && done
}

function fsck(t, user, c, image) {
  const r = runAs(user, c.fsck[0], [...c.fsck[1], image])
  t.equal(r.status, 0, `${c.fsck[0]} ${c.fsck[1].join(' ')}, as ${user}, finds the image clean`,
    { output: r.output })
}

async function main() {
  // Removed last, once the servers they ran are gone (teardowns run last
  // registered first).
  const user = ensureUser(t, 'lkl-users1')
  const other = ensureUser(t, 'lkl-users2')

  const probe = runAs(user.name, NODE, [LKL, '--version'], { cwd: '/' })
  if (probe.status !== 0) {
    t.fail(`${user.name} cannot run ${LKL} (is the repository readable by every user?)`,
      { output: probe.output })
    return
  }

  // Every user may open /dev/fuse on Debian (udev's rule); libfuse does
  // not fall back to fusermount3 when the open fails.  The user who
  // mounts may here, for the time the test runs.
  grantAccess(t, '/dev/fuse', user.uid)

  // In /tmp itself, where every user may go ($TMPDIR may be root's own).
  const dir = tempDir(t, 'lklfuse-users-', '/tmp')
  fs.chmodSync(dir, 0o755)
  fs.chownSync(dir, user.uid, user.gid)
  const mnt = join(dir, 'mnt')
  const cleanups = []
  // Before the directory goes: the servers end, writing their images back.
  t.teardown(async () => {
    for (const image of cleanups)
      await cleanUp(mnt, image)
  })

  // The user makes the trees; root makes the images of them (mkfs.btrfs
  // run by a user fails while any loop device is in use, as other tests'
  // are: it cannot look at them) and gives them to the user.
  const made = runAs(user.name, 'bash', [MAKE_TREE, dir], { cwd: dir })
  if (made.status !== 0) {
    t.fail(`make-tree.sh as ${user.name}`, { output: made.output })
    return
  }
  run('bash', [MAKE_IMAGES, dir], { cwd: dir })
  // mke2fs gives the root directory to the one running it unless told.
  run('mkfs.ext4', [
    '-q', '-F', '-L', 'lkl-ext4', '-E', `root_owner=${user.uid}:${user.gid}`,
    '-d', join(dir, 'tree'), join(dir, 'ext4.img'),
  ])
  for (const c of CASES)
    fs.chownSync(join(dir, `${c.fs}.img`), user.uid, user.gid)
  runAs(user.name, 'mkdir', [mnt])

  for (const c of CASES) {
    const image = join(dir, `${c.fs}.img`)
    const tree = join(dir, c.tree)
    cleanups.push(image)
    const caps = { posix: c.posix, xattr: c.xattr, uid: user.uid }
    const what = `create, write, append, truncate, rename, RENAME_EXCHANGE, ` +
      `${c.posix ? 'link, symlink, chmod, ' : ''}${c.xattr ? 'user.* xattrs, ' : ''}` +
      `mkdir, rmdir, unlink${c.lacks ? ` (${c.lacks})` : ''}`

    await t.test(`${c.fs}, as ${user.name}: lkl lklfuse, the tree, ${what}, ` +
      `fusermount3 -u, ${c.fsck[0]}`, async t => {
      t.teardown(() => cleanUp(mnt, image))
      t.equal(fs.statSync(image).uid, user.uid, 'the image is the user\'s')
      const m = mountAs(user.name, image, mnt)
      t.equal(m.status, 0, 'lkl lklfuse returns 0', { output: m.output })
      t.equal(m.stderr, '', 'and says nothing')
      const line = mountLine(mnt)
      t.match(line, new RegExp(`^${image} ${mnt} fuse\\.${c.fs} rw,.*` +
        `user_id=${user.uid},group_id=${user.gid}`), 'mounted read-write, for the user')
      if (!line)
        return
      const servers = openers(image)
      t.equal(servers.length, 1, 'one server has the image open')
      t.equal(processUid(servers[0]), user.uid, 'the server runs as the user')

      const expect = c.rootOwnedTop ? [`: owner 0:0, source ${user.uid}:${user.gid}`] : []
      asUser(t, user.name, 'compare', { src: tree, mnt, options: c.compare, expect }, dir)
      asUser(t, user.name, 'change', { mnt, ...caps }, dir)
      asUser(t, user.name, 'verify', { mnt, tree, ...caps }, dir)
      if (await unmountAs(t, user.name, image, mnt))
        fsck(t, user.name, c, image)
    })

    await t.test(`${c.fs}, as ${user.name}: the changes persist`, async t => {
      t.teardown(() => cleanUp(mnt, image))
      const m = mountAs(user.name, image, mnt)
      t.equal(m.status, 0, 'lkl lklfuse returns 0', { output: m.output })
      if (!mountLine(mnt))
        return
      asUser(t, user.name, 'verify', { mnt, tree, ...caps }, dir)
      if (await unmountAs(t, user.name, image, mnt))
        fsck(t, user.name, c, image)
    })
  }

  await t.test(`${other.name} and ${user.name}'s mount: shut out, unless -o allow_other`, async t => {
    const image = join(dir, 'ext4.img')
    const c = CASES[0]
    t.teardown(() => cleanUp(mnt, image))
    const p = (...names) => join(mnt, ...names)
    const tryAs = (name, steps) =>
      asUser(t, name, 'try', { steps }, dir)?.results.map(r => `${r.what} ${r.path}: ${r.code}`)

    let m = mountAs(user.name, image, mnt)
    t.equal(m.status, 0, 'mounted without allow_other', { output: m.output })
    t.same(tryAs(other.name, [
      ['stat', mnt], ['readdir', mnt], ['read', p('dir', 'a.txt')],
      ['create', p('work', 'intruder')],
    ]), [
      `stat ${mnt}: EACCES`, `readdir ${mnt}: EACCES`,
      `read ${p('dir', 'a.txt')}: EACCES`, `create ${p('work', 'intruder')}: EACCES`,
    ], `${other.name}: EACCES for stat, readdir, read and create`)
    t.same(tryAs(user.name, [['read', p('secret')]]), [`read ${p('secret')}: ok`],
      `${user.name} still reads`)
    await unmountAs(t, user.name, image, mnt)

    // /etc/fuse.conf decides whether a user may say allow_other.
    restoreFileAtEnd(t, '/etc/fuse.conf')
    const conf = fs.existsSync('/etc/fuse.conf') ? fs.readFileSync('/etc/fuse.conf', 'utf8') : ''
    const without = conf.split('\n').filter(l => l.trim() !== 'user_allow_other').join('\n')
    fs.writeFileSync('/etc/fuse.conf', without)
    m = mountAs(user.name, image, mnt, ['-o', 'allow_other'])
    t.equal(m.status, 1, 'allow_other without user_allow_other: exit status 1')
    t.match(m.stderr, new RegExp(`^lkl: ${mnt}: cannot mount: option allow_other only allowed ` +
      `if 'user_allow_other' is set in /etc/fuse.conf\\n$`), 'one line: the mount point and why')
    t.equal(mountLine(mnt), undefined, 'nothing mounted')
    t.ok(await released(image), 'no server left')

    fs.writeFileSync('/etc/fuse.conf', `${without.replace(/\n*$/, '\n')}user_allow_other\n`)
    m = mountAs(user.name, image, mnt, ['-o', 'allow_other'])
    t.equal(m.status, 0, 'with user_allow_other in /etc/fuse.conf: mounted', { output: m.output })
    t.match(mountLine(mnt), /[,]allow_other/, 'allow_other')
    t.match(mountLine(mnt), /[,]default_permissions/,
      'and default_permissions: the modes in the image now count')
    const readdir = name => asUser(t, name, 'try', { steps: [['readdir', mnt]] }, dir)?.results[0]
    const theirs = readdir(other.name)
    const mine = readdir(user.name)
    t.equal(theirs?.code, 'ok', `${other.name} lists the mount`)
    t.ok(theirs?.value.includes('work') && theirs?.value.includes('big.bin'),
      `${other.name} sees the files`, { theirs })
    t.same(theirs?.value, mine?.value, `the same names as ${user.name} sees`)
    t.same(tryAs(other.name, [
      ['read', p('many', 'f000')], // 0644
      ['readdir', p('dir')], // 0755
      ['read', p('secret')], // 0600
      ['read', p('dir', 'a.txt')], // 0640
      ['readdir', p('private')], // 0750
      ['read', p('work', 'small.txt')], // 0604, in a 0750 directory
      ['create', p('intruder')], // the root is 0755
      ['create', p('many', 'intruder')],
      ['append', p('big.bin')], // 0644
      ['unlink', p('big.bin')],
      ['mkdir', p('dir', 'intruder')],
    ]), [
      `read ${p('many', 'f000')}: ok`,
      `readdir ${p('dir')}: ok`,
      `read ${p('secret')}: EACCES`,
      `read ${p('dir', 'a.txt')}: EACCES`,
      `readdir ${p('private')}: EACCES`,
      `read ${p('work', 'small.txt')}: EACCES`,
      `create ${p('intruder')}: EACCES`,
      `create ${p('many', 'intruder')}: EACCES`,
      `append ${p('big.bin')}: EACCES`,
      `unlink ${p('big.bin')}: EACCES`,
      `mkdir ${p('dir', 'intruder')}: EACCES`,
    ], `${other.name} reads what the modes let it read, and gets EACCES for the rest`)
    t.same(tryAs(user.name, [['read', p('secret')], ['create', p('work', 'mine')]]), [
      `read ${p('secret')}: ok`, `create ${p('work', 'mine')}: ok`,
    ], `${user.name} still reads and writes its own files`)
    if (await unmountAs(t, user.name, image, mnt))
      fsck(t, user.name, c, image)
  })
}

const why = process.getuid() !== 0 ? 'needs root, to make the users' : cannotRun()
if (why)
  t.plan(0, why)
else
  await main()
