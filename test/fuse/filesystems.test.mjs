// SPDX-License-Identifier: GPL-2.0
//
// lklfuse-server on btrfs, xfs and vfat: the fixture images of
// make-images.sh, each mounted read-write (type recognised), compared with
// its source tree, changed through node:fs, unmounted, checked by the
// filesystem's own fsck and mounted again read-only to see the changes.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import {
  MAKE_IMAGES, cannotRun, compareTrees, run, startServer, stopServer, tryRun,
} from './server.mjs'
import { tempDir } from '../helpers/tree.mjs'

t.setTimeout(10 * 60 * 1000)

const CASES = [
  {
    fs: 'btrfs', tree: 'tree', posix: true, hardlinks: true, mtime: true,
    fsck: ['btrfs', ['check', '--readonly']],
  },
  {
    // mkfs.xfs -p: no hard links, and every inode stamped with its own time
    fs: 'xfs', tree: 'tree', posix: true, hardlinks: false, mtime: false,
    fsck: ['xfs_repair', ['-n']],
  },
  {
    fs: 'vfat', tree: 'tree-vfat', posix: false, hardlinks: false, mtime: true,
    mtimeGranNs: 2000000000n, fsck: ['fsck.vfat', ['-n']],
  },
]

const DATA = Buffer.alloc(2 * 1024 * 1024 + 4097)
for (let i = 0; i < DATA.length; i++)
  DATA[i] = (i * 2654435761) >>> 24

function change(t, c, mnt) {
  const p = (...names) => join(mnt, ...names)
  fs.mkdirSync(p('added'))
  fs.writeFileSync(p('added', 'data.bin'), DATA)
  fs.writeFileSync(p('added', 'text.txt'), 'one\n')
  fs.appendFileSync(p('added', 'text.txt'), 'two\n')
  fs.renameSync(p('hello.txt'), p('added', 'hello-moved.txt'))
  fs.truncateSync(p('odd-size.bin'), 1000)
  fs.unlinkSync(p('empty'))
  fs.mkdirSync(p('added', 'gone'))
  fs.rmdirSync(p('added', 'gone'))
  fs.rmSync(p('dir', 'sub'), { recursive: true })
  if (c.posix) {
    fs.symlinkSync('text.txt', p('added', 'link'))
    fs.linkSync(p('added', 'text.txt'), p('added', 'hard'))
    fs.chmodSync(p('added', 'text.txt'), 0o600)
    fs.chownSync(p('added', 'text.txt'), 4321, 8765)
    run('setfattr', ['-n', 'user.k', '-v', 'v', p('added', 'text.txt')])
  }
  t.ok(fs.readFileSync(p('added', 'data.bin')).equals(DATA), 'a 2 MiB file reads back')
}

function verify(t, c, mnt, tree) {
  const p = (...names) => join(mnt, ...names)
  t.ok(fs.readFileSync(p('added', 'data.bin')).equals(DATA), 'written data')
  t.equal(fs.readFileSync(p('added', 'text.txt'), 'utf8'), 'one\ntwo\n', 'write + append')
  t.equal(fs.readFileSync(p('added', 'hello-moved.txt'), 'utf8'), 'Hello, world!\n', 'rename')
  t.notOk(fs.existsSync(p('hello.txt')), 'old name gone')
  t.ok(fs.readFileSync(p('odd-size.bin')).equals(
    fs.readFileSync(join(tree, 'odd-size.bin')).subarray(0, 1000)), 'truncate')
  t.notOk(fs.existsSync(p('empty')), 'unlink')
  t.notOk(fs.existsSync(p('added', 'gone')), 'rmdir')
  t.notOk(fs.existsSync(p('dir', 'sub')), 'recursive removal')
  if (c.posix) {
    const st = fs.lstatSync(p('added', 'text.txt'))
    t.equal(fs.readlinkSync(p('added', 'link')), 'text.txt', 'symlink')
    t.equal(st.nlink, 2, 'hard link')
    t.equal(st.mode & 0o7777, 0o600, 'chmod')
    t.equal(`${st.uid}:${st.gid}`, '4321:8765', 'chown')
    t.equal(run('getfattr', ['--only-values', '-n', 'user.k', p('added', 'text.txt')]), 'v',
      'xattr')
  }
}

async function main() {
  // Removed at the end, a mount left in it unmounted first.
  const dir = tempDir(t, 'lklfuse-fs-')
  const mnt = join(dir, 'mnt')
  fs.mkdirSync(mnt)
  run('bash', [MAKE_IMAGES, dir])

  for (const c of CASES) {
    const img = join(dir, `${c.fs}.img`)
    const tree = join(dir, c.tree)
    await t.test(`${c.fs}: read-write mount, changes, unmount, fsck`, async t => {
      const srv = await startServer(t, img, mnt)
      t.equal(srv.line, 'ready', 'ready', { stderr: srv.stderr() })
      if (srv.line !== 'ready')
        return
      const line = fs.readFileSync('/proc/mounts', 'utf8').split('\n')
        .find(l => l.split(' ')[1] === mnt)
      t.match(line, ` fuse.${c.fs} `, `subtype ${c.fs}`)
      t.same(compareTrees(tree, mnt, c), [], 'the tree matches its source')
      change(t, c, mnt)
      verify(t, c, mnt, tree)
      const r = await stopServer(srv, mnt)
      t.equal(r.umount.status, 0, 'fusermount3 -u', { output: r.umount.output })
      t.equal(r.code, 0, 'the server exits 0', { stderr: srv.stderr() })
      const fsck = tryRun(c.fsck[0], [...c.fsck[1], img])
      t.equal(fsck.status, 0, `${c.fsck[0]} finds it clean`, { output: fsck.output })
    })
    await t.test(`${c.fs}: the changes persist`, async t => {
      const srv = await startServer(t, img, mnt, ['-o', `ro,type=${c.fs}`])
      t.equal(srv.line, 'ready', 'ready', { stderr: srv.stderr() })
      if (srv.line !== 'ready')
        return
      verify(t, c, mnt, tree)
      const r = await stopServer(srv, mnt)
      t.equal(r.code, 0, 'the server exits 0', { stderr: srv.stderr() })
    })
  }
}

const why = cannotRun()
if (why)
  t.plan(0, why)
else
  await main()
