// SPDX-License-Identifier: GPL-2.0
//
// More files than lklfuse-server keeps descriptors for (4,096: see
// native/fuse/inodes.c and forget.c), through one mount: every one
// created, listed, read back while the host still remembers it (its
// descriptor closed and reopened from its file handle, or on vfat the
// host asked to forget idle names) and after the host forgot it, a tenth
// removed; then fsck, and a read-only mount that counts what is left.
// Before, creating 75,000 files on ext4 left the kernel reclaiming memory
// forever, and on vfat the 32,733rd file failed with ENOMEM.  And 80,000
// files made by lkl cptofs, read through a read-only vfat mount
// (nfs=nostale_ro, whose handles outlast the inodes); before, the
// 65,468th open failed with ENOMEM.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { LKL, cannotRun, run, sha256, startServer, stopServer } from './server.mjs'
import { tempDir } from '../helpers/tree.mjs'

t.setTimeout(15 * 60 * 1000)

const CASES = [
  {
    fs: 'ext4', dirs: 100, files: 1000,
    mkfs: img => run('mkfs.ext4', ['-q', '-F', '-N', '150000', img]),
    fsck: img => run('e2fsck', ['-fn', img]),
  },
  {
    fs: 'btrfs', dirs: 20, files: 1000,
    mkfs: img => run('mkfs.btrfs', ['-q', '-f', img]),
    fsck: img => run('btrfs', ['check', '--readonly', img]),
  },
  {
    fs: 'xfs', dirs: 20, files: 1000,
    mkfs: img => run('mkfs.xfs', ['-q', '-f', img]),
    fsck: img => run('xfs_repair', ['-n', img]),
  },
  {
    // No lasting file handles read-write: the server asks the host to
    // forget idle names instead (forget.c); before, ENOMEM at 32,733.
    fs: 'vfat', dirs: 50, files: 1000,
    mkfs: img => run('mkfs.vfat', ['-F', '32', img]),
    fsck: img => run('fsck.vfat', ['-n', img]),
  },
]

const content = (d, f) => `${d}/${f}\n`

// The host forgets what it cached of the mount (root only): FUSE sends
// the server FORGETs and later looks everything up again.
function dropHostCaches() {
  try {
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3')
    return true
  } catch {
    return false
  }
}

function readAll(c, mnt, step = 1) {
  let bad = 0
  for (let d = 0; d < c.dirs; d++) {
    for (let f = 0; f < c.files; f += step) {
      if (fs.readFileSync(join(mnt, `d${d}`, `f${f}`), 'utf8') !== content(d, f))
        bad++
    }
  }
  return bad
}

function countFiles(mnt) {
  let n = 0
  for (const d of fs.readdirSync(mnt).filter(name => /^d\d+$/.test(name)))
    n += fs.readdirSync(join(mnt, d)).length
  return n
}

const why = cannotRun()
for (const c of CASES) {
  t.test(`${c.dirs * c.files} files on ${c.fs}`, { skip: why }, async t => {
    const dir = tempDir(t, `lkl-many-${c.fs}-`)
    const img = join(dir, 'img')
    const mnt = join(dir, 'mnt')
    fs.mkdirSync(mnt)
    fs.writeFileSync(img, '')
    fs.truncateSync(img, 1024 * 1024 * 1024)
    c.mkfs(img)

    const srv = await startServer(t, img, mnt)
    t.equal(srv.line, 'ready', 'mounted')
    for (let d = 0; d < c.dirs; d++) {
      fs.mkdirSync(join(mnt, `d${d}`))
      for (let f = 0; f < c.files; f++)
        fs.writeFileSync(join(mnt, `d${d}`, `f${f}`), content(d, f))
    }
    t.pass(`created ${c.dirs * c.files} files`)
    t.equal(countFiles(mnt), c.dirs * c.files, 'all listed')
    t.equal(readAll(c, mnt), 0, 'all read back, the host still remembering them')
    if (dropHostCaches())
      t.equal(readAll(c, mnt, 7), 0, 'every 7th read back after the host forgot them')
    const removed = Math.ceil(c.dirs / 10)
    for (let d = 0; d < removed; d++)
      fs.rmSync(join(mnt, `d${d}`), { recursive: true })
    const left = (c.dirs - removed) * c.files
    t.equal(countFiles(mnt), left, `${removed * c.files} removed`)
    const stop = await stopServer(srv, mnt)
    t.equal(stop.umount.status, 0, 'unmounted')
    t.equal(stop.code, 0, 'the server exits 0')
    t.doesNotThrow(() => c.fsck(img), `${c.fs} checks clean`)

    const ro = await startServer(t, img, mnt, ['-o', 'ro'])
    t.equal(ro.line, 'ready', 'mounted again, read-only')
    t.equal(countFiles(mnt), left, 'the files left are all there')
    const stop2 = await stopServer(ro, mnt)
    t.equal(stop2.code, 0, 'and it exits 0')
  })
}

t.test('80000 files on vfat, read-only', { skip: why }, async t => {
  const c = { dirs: 80, files: 1000 }
  const dir = tempDir(t, 'lkl-many-vfat-')
  const img = join(dir, 'img')
  const mnt = join(dir, 'mnt')
  const src = join(dir, 'src')
  fs.mkdirSync(mnt)
  for (let d = 0; d < c.dirs; d++) {
    fs.mkdirSync(join(src, `d${d}`), { recursive: true })
    for (let f = 0; f < c.files; f++)
      fs.writeFileSync(join(src, `d${d}`, `f${f}`), content(d, f))
  }
  fs.writeFileSync(img, '')
  fs.truncateSync(img, 1024 * 1024 * 1024)
  run('mkfs.vfat', ['-F', '32', img])
  // Without tap's loader hooks, which the CLI's modules trip over.
  run('env', ['-u', 'NODE_OPTIONS', process.execPath, LKL, 'cptofs', '-i', img, `${src}/.`, '/'])
  const before = sha256(img)

  const srv = await startServer(t, img, mnt, ['-o', 'ro'])
  t.equal(srv.line, 'ready', 'mounted read-only')
  t.equal(countFiles(mnt), c.dirs * c.files, 'all listed')
  t.equal(readAll(c, mnt), 0, 'all read back, the host still remembering them')
  if (dropHostCaches())
    t.equal(readAll(c, mnt, 7), 0, 'every 7th read back after the host forgot them')
  const stop = await stopServer(srv, mnt)
  t.equal(stop.code, 0, 'the server exits 0')
  t.equal(sha256(img), before, 'the image is unchanged')
  t.doesNotThrow(() => run('fsck.vfat', ['-n', img]), 'fsck.vfat -n checks clean')
})
