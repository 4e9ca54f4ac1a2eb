// SPDX-License-Identifier: GPL-2.0
//
// lklfuse-server on ext4: an image made by mkfs.ext4 -d from the fixture
// tree is mounted, compared with the tree, changed through plain node:fs
// (and a few tools for what node:fs lacks), unmounted with fusermount3 -u,
// checked by e2fsck and mounted again to see the changes stay.  Then a
// read-only mount that must not change the image at all, and the errors a
// launcher sees before a mount is ready.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import {
  MAKE_TREE, cannotRun, compareTrees, run, sha256, startServer, stopServer,
  tryRun,
} from './server.mjs'
import { pattern, tempDir } from '../helpers/tree.mjs'

t.setTimeout(10 * 60 * 1000)


const BIG = pattern(3 * 1024 * 1024 + 123, 7)
const MTIME = '@1500000000.123456789'
const MTIME_NS = 1500000000123456789n

function python(code, ...args) {
  return tryRun('python3', ['-c', code, ...args])
}

// renameat2(2) with flags, as python3 ctypes can call it.
const RENAMEAT2 = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), int(sys.argv[3]))
print(os.strerror(ctypes.get_errno()) if r else 'ok')
`

// Changes made through the mount; verify() checks them, before the
// unmount and again after a remount.
function change(t, mnt) {
  const p = (...names) => join(mnt, ...names)

  fs.mkdirSync(p('new'), { mode: 0o750 })
  const before = Date.now()
  fs.writeFileSync(p('new', 'small.txt'), 'hello\n')
  const made = fs.statSync(p('new', 'small.txt'))
  // The kernel's clock is the host's wall clock: a new file's times are now.
  for (const [what, ms] of [['mtime', made.mtimeMs], ['ctime', made.ctimeMs], ['atime', made.atimeMs]])
    t.ok(ms >= before - 2000 && ms <= Date.now() + 2000, `a new file's ${what} is the time it was made`,
      { found: new Date(ms).toISOString(), wanted: new Date(before).toISOString() })
  fs.appendFileSync(p('new', 'small.txt'), 'more\n')
  fs.writeFileSync(p('new', 'big.bin'), BIG)
  t.ok(fs.readFileSync(p('new', 'big.bin')).equals(BIG), 'a 3 MiB file reads back')

  fs.writeFileSync(p('new', 'trunc.bin'), pattern(10000, 1))
  fs.truncateSync(p('new', 'trunc.bin'), 100)
  fs.truncateSync(p('new', 'trunc.bin'), 5000)

  const fd = fs.openSync(p('new', 'holey.bin'), 'w+')
  fs.writeSync(fd, 'far away', 0, 'latin1')
  fs.writeSync(fd, 'far away', 1000000, 'latin1')
  fs.ftruncateSync(fd, 2000000)
  fs.fsyncSync(fd)
  fs.closeSync(fd)

  fs.renameSync(p('hello.txt'), p('new', 'renamed.txt'))
  fs.writeFileSync(p('new', 'victim'), 'to be replaced\n')
  fs.renameSync(p('odd-size.bin'), p('new', 'victim'))

  fs.writeFileSync(p('new', 'x'), 'x\n')
  fs.writeFileSync(p('new', 'y'), 'y\n')
  t.equal(python(RENAMEAT2, p('new', 'x'), p('new', 'y'), '2').output.trim(), 'ok',
    'RENAME_EXCHANGE')
  t.equal(python(RENAMEAT2, p('new', 'x'), p('new', 'y'), '1').output.trim(),
    'File exists', 'RENAME_NOREPLACE onto a name fails with EEXIST')

  fs.linkSync(p('new', 'small.txt'), p('new', 'small-link'))
  fs.symlinkSync('small.txt', p('new', 'sym'))
  fs.symlinkSync('/absolute/elsewhere', p('new', 'abs-sym'))
  run('mkfifo', ['-m', '0640', p('new', 'fifo')])

  fs.chmodSync(p('new', 'small.txt'), 0o604)
  fs.chownSync(p('new', 'renamed.txt'), 1234, 5678)
  run('touch', ['-d', MTIME, p('new', 'renamed.txt')])

  run('setfattr', ['-n', 'user.color', '-v', 'blue', p('new', 'small.txt')])
  run('setfattr', ['-n', 'user.gone', '-v', 'soon', p('new', 'small.txt')])
  run('setfattr', ['-x', 'user.gone', p('new', 'small.txt')])
  run('setfattr', ['-h', '-n', 'trusted.on-link', '-v', 'yes', p('new', 'sym')])

  fs.mkdirSync(p('new', 'many'))
  for (let i = 0; i < 500; i++)
    fs.writeFileSync(p('new', 'many', `file-${String(i).padStart(3, '0')}`), `${i}\n`)
  for (let i = 0; i < 500; i += 2)
    fs.unlinkSync(p('new', 'many', `file-${String(i).padStart(3, '0')}`))

  fs.mkdirSync(p('new', 'tmpdir'))
  fs.rmdirSync(p('new', 'tmpdir'))
  t.throws(() => fs.rmdirSync(p('dir')), { code: 'ENOTEMPTY' }, 'rmdir of a full directory')
  fs.rmSync(p('dir', 'sub'), { recursive: true })
  fs.unlinkSync(p('exec.sh'))

  // chattr and lsattr: the FS_IOC_[GS]ETFLAGS ioctls, as root.
  fs.writeFileSync(p('new', 'locked'), 'keep\n')
  run('chattr', ['+i', p('new', 'locked')])
  t.throws(() => fs.appendFileSync(p('new', 'locked'), 'no\n'), { code: 'EPERM' },
    'an immutable file refuses writes')
  fs.writeFileSync(p('new', 'log'), 'one\n')
  run('chattr', ['+a', p('new', 'log')])
  fs.appendFileSync(p('new', 'log'), 'two\n')
  t.throws(() => fs.writeFileSync(p('new', 'log'), 'over\n'), { code: 'EPERM' },
    'an append-only file refuses overwrites')
  run('chattr', ['+A', p('new', 'many')])

  const py = python(`
import os, sys
d = sys.argv[1]
fd = os.open(d + '/new/alloc.bin', os.O_CREAT | os.O_RDWR, 0o644)
os.posix_fallocate(fd, 0, 1 << 20)
os.close(fd)
fd = os.open(d + '/sparse.bin', os.O_RDONLY)
print(os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, 1048576, os.SEEK_HOLE))
os.lseek(fd, 0, os.SEEK_SET)
src = fd
dst = os.open(d + '/new/copied.bin', os.O_CREAT | os.O_WRONLY, 0o644)
n = 0
while True:
    c = os.copy_file_range(src, dst, 1 << 20)
    if not c:
        break
    n += c
print(n)
`, mnt)
  t.equal(py.status, 0, 'fallocate, SEEK_DATA/SEEK_HOLE, copy_file_range', { output: py.output })
  t.equal(py.output.trim(), '1048576 1048591\n1048591',
    'SEEK_DATA finds the data past the hole; copy_file_range copies it all')
}

function verify(t, mnt, tree) {
  const p = (...names) => join(mnt, ...names)
  const st = name => fs.lstatSync(p(...name.split('/')), { bigint: true })

  t.equal(fs.readFileSync(p('new', 'small.txt'), 'utf8'), 'hello\nmore\n', 'write + append')
  t.ok(fs.readFileSync(p('new', 'big.bin')).equals(BIG), 'big file')
  const trunc = fs.readFileSync(p('new', 'trunc.bin'))
  t.ok(trunc.length === 5000 && trunc.subarray(0, 100).equals(pattern(100, 1)) &&
    trunc.subarray(100).equals(Buffer.alloc(4900)), 'truncate down, then up with zeros')
  const holey = fs.readFileSync(p('new', 'holey.bin'))
  t.equal(holey.length, 2000000, 'pwrite past the end, ftruncate')
  t.equal(holey.toString('latin1', 1000000, 1000008), 'far away', 'pwrite at 1000000')
  t.ok(st('new/holey.bin').blocks < 100n, 'the holes stay holes')

  t.equal(fs.readFileSync(p('new', 'renamed.txt'), 'utf8'), 'Hello, world!\n', 'rename')
  t.notOk(fs.existsSync(p('hello.txt')), 'the old name is gone')
  t.ok(fs.readFileSync(p('new', 'victim')).equals(fs.readFileSync(join(tree, 'odd-size.bin'))),
    'rename over an existing file')
  t.equal(fs.readFileSync(p('new', 'x'), 'utf8'), 'y\n', 'exchanged x')
  t.equal(fs.readFileSync(p('new', 'y'), 'utf8'), 'x\n', 'exchanged y')

  t.equal(st('new/small-link').ino, st('new/small.txt').ino, 'hard link: one inode')
  t.equal(st('new/small.txt').nlink, 2n, 'hard link: nlink 2')
  t.equal(fs.readlinkSync(p('new', 'sym')), 'small.txt', 'symlink')
  t.equal(fs.readlinkSync(p('new', 'abs-sym')), '/absolute/elsewhere', 'absolute symlink')
  t.ok(st('new/fifo').isFIFO(), 'mkfifo')
  t.equal(st('new/fifo').mode & 0o7777n, 0o640n, 'fifo mode')

  t.equal(st('new').mode & 0o7777n, 0o750n, 'mkdir mode')
  t.equal(st('new/small.txt').mode & 0o7777n, 0o604n, 'chmod')
  t.equal(`${st('new/renamed.txt').uid}:${st('new/renamed.txt').gid}`, '1234:5678', 'chown')
  t.equal(st('new/renamed.txt').mtimeNs, MTIME_NS, 'nanosecond mtime')

  t.equal(run('getfattr', ['--only-values', '-n', 'user.color', p('new', 'small.txt')]),
    'blue', 'getxattr')
  const list = run('getfattr', ['-d', '-m', '-', p('new', 'small.txt')])
  t.match(list, /user\.color="blue"/, 'listxattr')
  t.notMatch(list, /user\.gone/, 'removexattr')
  t.equal(run('getfattr', ['-h', '--only-values', '-n', 'trusted.on-link', p('new', 'sym')]),
    'yes', 'xattr on the symlink itself')

  const many = fs.readdirSync(p('new', 'many')).sort()
  t.equal(many.length, 250, 'readdir of 250 entries')
  t.equal(many[0], 'file-001')
  t.equal(many[249], 'file-499')
  t.notOk(fs.existsSync(p('new', 'tmpdir')), 'rmdir')
  t.notOk(fs.existsSync(p('dir', 'sub')), 'recursive removal')
  t.notOk(fs.existsSync(p('exec.sh')), 'unlink')
  const attrs = name => run('lsattr', ['-d', p(...name.split('/'))]).split(' ')[0]
  t.match(attrs('new/locked'), /i/, 'chattr +i')
  t.equal(fs.readFileSync(p('new', 'locked'), 'utf8'), 'keep\n', 'the immutable file unchanged')
  t.match(attrs('new/log'), /a/, 'chattr +a')
  t.equal(fs.readFileSync(p('new', 'log'), 'utf8'), 'one\ntwo\n', 'appended to')
  t.match(attrs('new/many'), /A/, 'chattr +A on a directory')
  t.notMatch(attrs('new/small.txt'), /[iaA]/, 'other files keep their flags')
  t.equal(fs.statSync(p('new', 'alloc.bin')).size, 1 << 20, 'fallocate')
  t.ok(fs.readFileSync(p('new', 'copied.bin')).equals(fs.readFileSync(join(tree, 'sparse.bin'))),
    'copy_file_range')
}

async function main() {
  // Removed at the end, a mount left in it unmounted first.
  const dir = tempDir(t, 'lklfuse-ext4-')
  const mnt = join(dir, 'mnt')
  const tree = join(dir, 'tree')
  const pristine = join(dir, 'pristine.img')
  const img = join(dir, 'rw.img')
  fs.mkdirSync(mnt)
  run('bash', [MAKE_TREE, dir])
  run('truncate', ['-s', '64M', pristine])
  run('mkfs.ext4', ['-q', '-F', '-L', 'lklfuse', '-d', tree, pristine])
  run('cp', ['--sparse=always', pristine, img])
  const pristineSha = sha256(pristine)

  await t.test('read-write mount, changes, unmount, e2fsck', async t => {
    const srv = await startServer(t, img, mnt)
    t.equal(srv.line, 'ready', 'the readiness descriptor says ready', { stderr: srv.stderr() })
    if (srv.line !== 'ready')
      return
    const line = fs.readFileSync('/proc/mounts', 'utf8').split('\n')
      .find(l => l.split(' ')[1] === mnt)
    t.match(line, new RegExp(`^${img} ${mnt} fuse\\.ext4 rw`), 'fsname is the image, subtype ext4')

    t.same(compareTrees(tree, mnt, { skip: ['lost+found'] }), [], 'the tree matches its source')
    const sfs = fs.statfsSync(mnt)
    t.ok(sfs.blocks > 0 && sfs.bfree > 0 && sfs.bfree <= sfs.blocks, 'statfs')

    change(t, mnt)
    verify(t, mnt, tree)

    const r = await stopServer(srv, mnt)
    t.equal(r.umount.status, 0, 'fusermount3 -u', { output: r.umount.output })
    t.equal(r.code, 0, 'the server exits 0', { stderr: srv.stderr() })
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
  })

  await t.test('the changes persist', async t => {
    const srv = await startServer(t, img, mnt, ['-o', 'ro'])
    t.equal(srv.line, 'ready', 'remounted', { stderr: srv.stderr() })
    if (srv.line !== 'ready')
      return
    verify(t, mnt, tree)
    const r = await stopServer(srv, mnt)
    t.equal(r.code, 0, 'the server exits 0', { stderr: srv.stderr() })
  })

  await t.test('-o ro never changes the image', async t => {
    const srv = await startServer(t, pristine, mnt, ['-o', 'ro,log=' + join(dir, 'kernel.log')])
    t.equal(srv.line, 'ready', 'mounted read-only', { stderr: srv.stderr() })
    if (srv.line !== 'ready')
      return
    t.same(compareTrees(tree, mnt, { skip: ['lost+found'] }), [], 'the tree matches its source')
    const p = name => join(mnt, name)
    t.throws(() => fs.writeFileSync(p('new.txt'), 'x'), { code: 'EROFS' }, 'create')
    t.throws(() => fs.writeFileSync(p('hello.txt'), 'x'), { code: 'EROFS' }, 'overwrite')
    t.throws(() => fs.mkdirSync(p('newdir')), { code: 'EROFS' }, 'mkdir')
    t.throws(() => fs.unlinkSync(p('hello.txt')), { code: 'EROFS' }, 'unlink')
    t.throws(() => fs.chmodSync(p('hello.txt'), 0o600), { code: 'EROFS' }, 'chmod')
    t.throws(() => fs.renameSync(p('hello.txt'), p('x')), { code: 'EROFS' }, 'rename')
    t.not(tryRun('setfattr', ['-n', 'user.x', '-v', '1', p('hello.txt')]).status, 0, 'setxattr')
    const r = await stopServer(srv, mnt)
    t.equal(r.code, 0, 'the server exits 0', { stderr: srv.stderr() })
    t.equal(sha256(pristine), pristineSha, 'the image is unchanged (sha256)')
    t.match(fs.readFileSync(join(dir, 'kernel.log'), 'utf8'), /EXT4-fs/, 'log= has the kernel console')
  })

  await t.test('errors before the mount is ready', async t => {
    const cases = [
      { args: [join(dir, 'missing.img'), mnt], want: /missing\.img: No such file or directory/ },
      { args: [img, join(dir, 'no-such-dir')], want: /no-such-dir: No such file or directory/ },
      { args: [img, img], want: /rw\.img: Not a directory/ },
      { args: [img, mnt, '-o', 'type=xfs'], want: /rw\.img: cannot mount as xfs/ },
      { args: [img, mnt, '-o', 'part=3'], want: /rw\.img partition 3: cannot mount: no such partition/ },
      { args: [img, mnt, '-o', 'opts=bogus_option'], want: /rw\.img: cannot mount.*bogus_option/ },
      { args: [img, mnt, '-o', 'no_such_fuse_option'], want: /no_such_fuse_option/ },
    ]
    for (const c of cases) {
      const srv = await startServer(t, c.args[0], c.args[1], c.args.slice(2))
      const r = await srv.exited
      t.match(srv.line, /^error: /, `${c.args.join(' ')}: an error line`)
      t.match(srv.line, c.want, 'naming the file and the cause')
      t.match(srv.stderr(), c.want, 'on stderr too')
      t.equal(r.code, 1, 'exit status 1')
    }
    t.equal(sha256(pristine), pristineSha, 'nothing wrote to the pristine image')
  })
}

const why = cannotRun()
if (why)
  t.plan(0, why)
else
  await main()
