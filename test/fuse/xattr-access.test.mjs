// SPDX-License-Identifier: GPL-2.0
//
// What a user may do with xattrs, and with the ioctls of chattr, lsattr,
// xfs_io, fstrim and btrfs subvolumes, through lkl lklfuse: what the host kernel's
// own loop mount of the same image lets the same user do.  The server's
// kernel serves every request as root, so whatever only a filesystem
// decides (trusted.* in a list, ext4's data journalling flag, the
// set-group-ID bit an ACL takes away, who may trim) it must decide for
// the caller.
//
// For ext4, btrfs and XFS: root makes an image and puts files of root's
// and of a user's in it, with xattrs of every namespace; copies of it
// are then mounted three ways and given the same steps, one python3 run
// each, whose answers (values, error codes, tools' output) must agree:
//
//   loop     the host's loop mount: the user's steps, then root's
//   shared   lkl lklfuse -o allow_other by root (so default_permissions):
//            the same two runs
//   private  lkl lklfuse by the user, for the user alone: the user's
//            steps; without default_permissions the mounter may write
//            xattrs of every file of its image, as it may any file's
//            data, so where the loop mount checks a file's modes the
//            answer is the mounter's (userSteps' private)
//
// Every image is checked by its filesystem's fsck after its mount, and
// what the shared mount left in it, read through a loop mount, must be
// what the loop mount's run left, file by file.  The
// test runs as root: it makes the user (removed at the end), loop-mounts,
// and lets the user open /dev/fuse while it runs (put back at the end).
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { join } from 'node:path'
import {
  ROOT, cannotRun, cleanUp, ensureUser, mountLine, released, run, runAs, tryRun,
} from './server.mjs'
import { hostCanMount } from '../helpers/cli.mjs'
import { grantAccess, repoForUsers, tempDir, undoAtEnd } from '../helpers/machine.mjs'

t.setTimeout(10 * 60 * 1000)

const NODE = process.execPath

const FILESYSTEMS = [
  { fs: 'ext4', size: '64M', mkfs: ['mkfs.ext4', ['-q', '-F', '-I', '256']], fsck: ['e2fsck', ['-fn']] },
  { fs: 'btrfs', size: '128M', mkfs: ['mkfs.btrfs', ['-q', '-f']], fsck: ['btrfs', ['check', '--readonly']] },
  { fs: 'xfs', size: '300M', mkfs: ['mkfs.xfs', ['-q', '-f']], fsck: ['xfs_repair', ['-n']] },
]

// A version 2 security.capability value: cap_net_raw, effective.
const FILE_CAP = '0x0100000200200000000000000000000000000000'

// Each step as python3 runs it in the mount (below); its answer is
// "ok", a value, an error code, or a tool's status and output.
// A value as both scripts print it: text where it is printable, else hex.
const VALUE = String.raw`def value(v):
    try:
        s = v.decode()
        if s.isprintable():
            return s
    except UnicodeDecodeError:
        pass
    return '0x' + v.hex()
`;

const STEPS = String.raw`
import errno, fcntl, json, os, struct, subprocess, sys

os.umask(0o022)

${VALUE}
def data(s):
    return bytes.fromhex(s[2:]) if s.startswith('0x') else s.encode()

# btrfs' subvolume ioctls: struct btrfs_ioctl_vol_args(_v2), 4096 bytes.
SUBVOL_CREATE, SNAP_CREATE_V2, SUBVOL_CREATE_V2 = 0x5000940e, 0x50009417, 0x50009418

def subvol(op, parent, name, source=None):
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if op == 'subvol':
            arg = struct.pack('q4088s', -1, name.encode())
            fcntl.ioctl(fd, SUBVOL_CREATE, bytearray(arg))
        elif op == 'subvol2':
            arg = struct.pack('qQQ32s4040s', -1, 0, 0, b'', name.encode())
            fcntl.ioctl(fd, SUBVOL_CREATE_V2, bytearray(arg))
        else:
            src = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
            try:
                arg = struct.pack('qQQ32s4040s', src, 0, 0, b'', name.encode())
                fcntl.ioctl(fd, SNAP_CREATE_V2, bytearray(arg))
            finally:
                os.close(src)
    finally:
        os.close(fd)

# struct fsxattr, 28 bytes: xflags, extsize, nextents, projid, cowextsize.
# (xfs_io would do, but it looks at every mount on the machine first.)
FSGETXATTR, FSSETXATTR = 0x801c581f, 0x401c5820

def fsx_get(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return struct.unpack('5I8x', fcntl.ioctl(fd, FSGETXATTR, bytes(28)))
    finally:
        os.close(fd)

def chproj(path, projid):
    x = list(fsx_get(path))
    x[3] = projid
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, FSSETXATTR, struct.pack('5I8x', *x))
    finally:
        os.close(fd)

def step(op, *a):
    if op == 'list':
        return ' '.join(sorted(os.listxattr(a[0]))) or '(none)'
    if op == 'llist':
        return ' '.join(sorted(os.listxattr(a[0], follow_symlinks=False))) or '(none)'
    if op == 'get':
        return value(os.getxattr(a[0], a[1]))
    if op == 'set':
        os.setxattr(a[0], a[1], data(a[2]))
    elif op == 'lset':
        os.setxattr(a[0], a[1], data(a[2]), follow_symlinks=False)
    elif op == 'remove':
        os.removexattr(a[0], a[1])
    elif op == 'mode':
        return oct(os.lstat(a[0]).st_mode & 0o7777)
    elif op == 'owner':
        st = os.lstat(a[0])
        return '%d:%d' % (st.st_uid, st.st_gid)
    elif op == 'fsx':
        x = fsx_get(a[0])
        return 'xflags %#x projid %d' % (x[0], x[3])
    elif op == 'chproj':
        chproj(a[0], int(a[1]))
    elif op == 'run':
        p = subprocess.run(list(a), capture_output=True, text=True)
        return '%d %s' % (p.returncode, (p.stdout + p.stderr).strip())
    elif op in ('subvol', 'subvol2', 'snapshot'):
        subvol(op, *a)
    else:
        raise ValueError(op)
    return 'ok'

os.chdir(sys.argv[2])
answers = []
for s in json.loads(sys.argv[1]):
    try:
        answers.append(step(*s))
    except OSError as e:
        answers.append(errno.errorcode.get(e.errno, str(e.errno)))
print(json.dumps(answers))
`

// What an image holds in the end, as root sees it through the host's
// read-only loop mount: each file's mode, owner, xattrs, flags, project ID
// and, on btrfs, whether it is a subvolume.
const IMAGE_STATE = String.raw`
import errno, fcntl, json, os, stat, struct, sys

GETFLAGS, FSGETXATTR = 0x80086601, 0x801c581f
top, kind = sys.argv[1:3]

${VALUE}
def attempt(f):
    try:
        return f()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))

def ioctl(fd, cmd, size, fmt):
    return struct.unpack(fmt, fcntl.ioctl(fd, cmd, bytes(size)))

state = {}
def walk(rel):
    p = os.path.join(top, rel)
    st = os.lstat(p)
    e = {'mode': oct(st.st_mode), 'owner': '%d:%d' % (st.st_uid, st.st_gid)}
    e['xattrs'] = attempt(lambda: {n: value(os.getxattr(p, n, follow_symlinks=False))
                                   for n in sorted(os.listxattr(p, follow_symlinks=False))})
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            e['flags'] = attempt(lambda: hex(ioctl(fd, GETFLAGS, 8, 'i4x')[0]))
            e['fsx'] = attempt(lambda: 'xflags %#x projid %d' %
                               ioctl(fd, FSGETXATTR, 28, '5I8x')[0:4:3])
        finally:
            os.close(fd)
    if kind == 'btrfs' and stat.S_ISDIR(st.st_mode):
        e['subvolume'] = st.st_ino == 256
    state[rel or '.'] = e
    if stat.S_ISDIR(st.st_mode):
        for name in sorted(os.listdir(p)):
            walk(os.path.join(rel, name))

walk('')
print(json.dumps(state))
`

/**
 * What root puts in the image (on the loop mount @mnt) for @user: files
 * of each owner, with xattrs of every namespace.
 */
function populate(mnt, user) {
  const p = name => join(mnt, name)
  const mine = `${user.uid}:${user.gid}`
  const file = (name, owner, mode, xattrs = {}) => {
    fs.writeFileSync(p(name), `${name}\n`)
    run('chown', [owner, p(name)])
    fs.chmodSync(p(name), mode)
    for (const [k, v] of Object.entries(xattrs))
      run('setfattr', ['-n', k, '-v', v, p(name)])
  }
  const dir = (name, owner, mode) => {
    fs.mkdirSync(p(name))
    run('chown', [owner, p(name)])
    fs.chmodSync(p(name), mode)
  }
  fs.chmodSync(mnt, 0o755)
  file('own', mine, 0o644, { 'user.u': 'uv', 'security.s': 'sv', 'trusted.t': 'tv' })
  fs.writeFileSync(p('own-empty'), '')
  run('chown', [mine, p('own-empty')])
  // Set-group-ID, of a group the user is not in, and of its own.
  file('sgid-other', `${user.uid}:0`, 0o2775)
  file('sgid-mine', mine, 0o2775)
  file('suid-own', mine, 0o4755)
  file('root-file', '0:0', 0o644, { 'user.r': 'rv', 'trusted.t': 'tv' })
  file('root-secret', '0:0', 0o600, { 'user.p': 'pv' })
  dir('own-dir', mine, 0o755)
  dir('own-sticky', mine, 0o1777)
  dir('root-dir', '0:0', 0o755)
  dir('sticky', '0:0', 0o1777)
  run('mkfifo', [p('fifo')])
  run('chown', [mine, p('fifo')])
  fs.symlinkSync('own', p('sym'))
  run('chown', ['-h', mine, p('sym')])
}

// In a private mount, a step whose answer there the host kernel alone
// decides, so it is left out: whether its FUSE applies a sticky
// directory's rule for user.* without default_permissions (6.18's lets
// the mounter write, its loop mount does not).
const PRIVATE = 'private'

/**
 * The user's steps: [step, { private, lklfuse }] where private is the
 * answer in a private mount, the mounter's (PRIVATE: left out there),
 * and lklfuse the answer lklfuse gives instead of the loop mount's, and
 * why.
 */
function userSteps(kind) {
  const steps = [
    // No trusted.* names for the user on ext4 and XFS (btrfs lists them).
    [['list', 'own']],
    [['list', 'root-file']],
    [['llist', 'sym']],
    [['get', 'own', 'trusted.t']],
    [['get', 'own', 'security.s']],
    [['get', 'own', 'user.u']],
    [['get', 'root-file', 'user.r']],
    [['run', 'getfattr', '-d', '-m', '-', 'own']],
    [['set', 'own', 'trusted.x', '1']],
    [['remove', 'own', 'trusted.t']],
    [['set', 'own', 'security.x', '1']],
    [['remove', 'own', 'security.s']],
    [['set', 'own', 'security.capability', FILE_CAP]],
    [['set', 'own', 'user.x', '1']],
    [['get', 'own', 'user.x']],
    [['remove', 'own', 'user.x']],
    [['get', 'own', 'user.x']],
    [['set', 'own', 'other.x', '1']],
    [['set', 'fifo', 'user.x', '1']],
    [['get', 'fifo', 'user.x']],
    [['lset', 'sym', 'user.x', '1']],
    [['set', 'own-dir', 'user.x', '1']],
    [['set', 'own-sticky', 'user.x', '1']],
    [['set', 'sticky', 'user.x', '1'], { private: PRIVATE }],
    [['set', 'root-file', 'user.x', '1'], { private: 'ok' }],
    [['get', 'root-secret', 'user.p'], { private: 'pv' }],
    // ACLs: the owner's to set; outside the file's group, without
    // CAP_FSETID, that takes the set-group-ID bit away.
    [['run', 'setfacl', '-m', 'u:0:r', 'own']],
    [['run', 'getfacl', '-n', '--omit-header', 'own']],
    [['run', 'setfacl', '-m', 'u:0:r', 'root-file']],
    [['run', 'setfacl', '-m', 'u:0:r', 'sgid-other']],
    [['mode', 'sgid-other']],
    [['run', 'setfacl', '-m', 'u:0:r', 'sgid-mine']],
    [['mode', 'sgid-mine']],
    [['run', 'setfacl', '-x', 'u:0', 'own']],
    [['list', 'own']],
    // Flags: immutable and append-only need CAP_LINUX_IMMUTABLE.
    [['run', 'chattr', '+i', 'own']],
    [['run', 'chattr', '+a', 'own']],
    [['run', 'chattr', '+A', 'own']],
    [['run', 'lsattr', '-d', 'own']],
    [['run', 'chattr', '-A', 'own']],
    [['run', 'chattr', '+A', 'root-file']],
    [['fsx', 'own']],
    // fstrim: CAP_SYS_ADMIN, which the filesystem checks.
    [['run', 'fstrim', '.']],
  ]
  if (kind === 'ext4') {
    // Data journalling: CAP_SYS_RESOURCE, which ext4 itself checks.
    steps.push([['run', 'chattr', '+j', 'own']], [['run', 'lsattr', '-d', 'own']])
  }
  if (kind === 'btrfs') {
    steps.push(
      [['run', 'chattr', '+C', 'own-empty']],
      [['run', 'chattr', '+c', 'own']],
      [['run', 'lsattr', '-d', 'own', 'own-empty']],
      [['run', 'chattr', '-c', 'own']],
      [['run', 'chattr', '+c', 'own-dir']],
      // The user's, where it may write; of its umask.
      [['subvol', 'own-dir', 'sv']],
      [['owner', 'own-dir/sv']],
      [['mode', 'own-dir/sv']],
      [['subvol2', 'own-dir', 'sv2']],
      [['owner', 'own-dir/sv2']],
      [['subvol', '.', 'sv-top']],
      [['subvol', 'own-dir', 'sv']],
      [['snapshot', 'own-dir', 'snap', 'own-dir/sv'], {
        lklfuse: ['ENOTTY', 'a snapshot\'s source is a descriptor of the caller\'s'],
      }],
      [['run', 'rmdir', 'own-dir/sv2']],
    )
  }
  if (kind === 'xfs') {
    // Project IDs (xfs_io's chproj): the owner's to change; without
    // CAP_FSETID, that takes set-user-ID and set-group-ID bits away.
    steps.push(
      [['chproj', 'own', '42']],
      [['fsx', 'own']],
      [['chproj', 'suid-own', '5']],
      [['mode', 'suid-own']],
      [['chproj', 'root-file', '42']],
      [['chproj', 'own', '0']],
    )
  }
  return steps
}

function rootSteps(kind) {
  const steps = [
    [['list', 'own']],
    [['get', 'own', 'trusted.t']],
    [['set', 'own', 'trusted.y', '2']],
    [['get', 'own', 'trusted.y']],
    [['remove', 'own', 'trusted.y']],
    [['set', 'own', 'security.x', '1']],
    [['remove', 'own', 'security.x']],
    [['set', 'own', 'security.capability', FILE_CAP]],
    [['get', 'own', 'security.capability']],
    [['run', 'getfattr', '-d', '-m', '-', 'own', 'root-file']],
    [['run', 'setfacl', '-m', 'u:0:rw', 'root-file']],
    [['list', 'root-file']],
    [['set', 'sticky', 'user.x', '1']],
    [['run', 'chattr', '+i', 'own']],
    [['set', 'own', 'user.z', '1']],
    [['run', 'chattr', '-i', 'own']],
    [['run', 'chattr', '+a', 'own']],
    [['run', 'lsattr', '-d', 'own']],
    [['set', 'own', 'user.z', '1']],
    [['run', 'chattr', '-a', 'own']],
    // Left for the image to keep.
    [['run', 'chattr', '+a', 'root-file']],
    [['run', 'fstrim', '.']],
  ]
  // Whether root may depends on its capabilities here: both must agree.
  if (kind === 'ext4')
    steps.push([['run', 'chattr', '+j', 'own']], [['run', 'chattr', '-j', 'own']])
  if (kind === 'btrfs') {
    steps.push(
      [['subvol', '.', 'sv-root']],
      [['owner', 'sv-root']],
      [['mode', 'sv-root']],
    )
  }
  if (kind === 'xfs')
    steps.push([['chproj', 'root-file', '7']], [['fsx', 'root-file']])
  return steps
}

/** The answers to @steps in @mnt, as @user (a name) or root (undefined). */
function answers(t, steps, mnt, user) {
  // Into the mount as the user: root may not enter the user's own.
  const args = ['-c', STEPS, JSON.stringify(steps.map(([s]) => s)), mnt]
  const r = user ?
    runAs(user, 'python3', args, { cwd: '/' }) :
    spawnSync('python3', args, { cwd: '/', encoding: 'utf8' })
  try {
    return JSON.parse(r.stdout)
  } catch {
    t.fail(`the steps ran in ${mnt}`, { status: r.status, output: r.output ?? `${r.stdout}${r.stderr}` })
    return steps.map(() => 'no answer')
  }
}

function fsck(t, c, image) {
  const r = spawnSync(c.fsck[0], [...c.fsck[1], image], { encoding: 'utf8' })
  t.equal(r.status, 0, `${c.fsck[0]} ${c.fsck[1].join(' ')} finds the image clean`,
    { output: `${r.stdout}${r.stderr}` })
}

/**
 * fusermount3 -u @mnt, as @user (a name) or root; again for a few
 * seconds while the mount is busy (a process of the machine's that
 * looks at every mount may be in it for a moment).  Its status.
 */
async function fuseUnmount(t, mnt, user) {
  let r
  for (let i = 0; i < 20; i++) {
    r = user ? runAs(user, 'fusermount3', ['-u', mnt]) : tryRun('fusermount3', ['-u', mnt])
    if (r.status === 0 || !/busy/i.test(r.output))
      break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  t.equal(r.status, 0, `fusermount3 -u${user ? ` as ${user}` : ''}`, { output: r.output })
  return r.status
}

/**
 * What @image holds (IMAGE_STATE), read through a read-only loop mount
 * on @mnt: { path: { mode, owner, xattrs, flags, fsx, subvolume } }.
 */
function imageState(t, image, mnt, kind) {
  run('mount', ['-o', 'loop,ro', image, mnt])
  try {
    return JSON.parse(run('python3', ['-c', IMAGE_STATE, mnt, kind]))
  } finally {
    run('umount', [mnt])
  }
}

/** Loop-mount @image on @mnt until the returned function unmounts it. */
function loopMount(t, image, mnt) {
  run('mount', ['-o', 'loop', image, mnt])
  let mounted = true
  const unmount = () => {
    if (!mounted)
      return
    mounted = false
    if (spawnSync('umount', [mnt]).status !== 0)
      run('umount', ['-l', mnt])
  }
  undoAtEnd(t, `the loop mount ${mnt}`, unmount)
  return unmount
}

/**
 * @steps' answers here (@found) against the loop mount's (@wanted), one
 * assertion each, as @who; @mode: 'shared' or 'private'.
 */
function compare(t, steps, found, wanted, who, mode) {
  steps.forEach(([step, how = {}], i) => {
    const what = `${who}: ${step.join(' ')}`
    if (mode === 'private' && how.private !== undefined) {
      if (how.private !== PRIVATE)
        t.equal(found[i], how.private, `${what}: the mounter's, as every file of its image is`)
      return
    }
    if (how.lklfuse) {
      t.equal(wanted[i], 'ok', `${what}: the loop mount does it`)
      t.equal(found[i], how.lklfuse[0], `${what}: ${how.lklfuse[0]} through lklfuse (${how.lklfuse[1]})`)
      return
    }
    t.equal(found[i], wanted[i], `${what}: as on the loop mount`)
  })
}

async function main() {
  const user = ensureUser(t, 'lkl-xattr')
  const repo = repoForUsers(t, ROOT)
  const lkl = join(repo, 'bin', 'lkl')
  grantAccess(t, '/dev/fuse', user.uid)
  const dir = tempDir(t, 'lklfuse-xattr-', '/tmp')
  fs.chmodSync(dir, 0o755)
  const mnt = join(dir, 'mnt')
  fs.mkdirSync(mnt)

  for (const c of FILESYSTEMS) {
    if (!hostCanMount(c.fs)) {
      t.comment(`${c.fs} left out: the host kernel has no ${c.fs} to compare with`)
      continue
    }
    const pristine = join(dir, `${c.fs}.img`)
    run('truncate', ['-s', c.size, pristine])
    run(c.mkfs[0], [...c.mkfs[1], pristine])
    const unmount = loopMount(t, pristine, mnt)
    populate(mnt, user)
    unmount()
    const copy = name => {
      const image = join(dir, `${c.fs}-${name}.img`)
      fs.copyFileSync(pristine, image)
      return image
    }
    const uSteps = userSteps(c.fs)
    const rSteps = rootSteps(c.fs)
    let loopUser, loopRoot, loopState

    await t.test(`${c.fs}: the host kernel's loop mount, as ${user.name} and as root`, async t => {
      const image = copy('loop')
      const unmount = loopMount(t, image, mnt)
      loopUser = answers(t, uSteps, mnt, user.name)
      loopRoot = answers(t, rSteps, mnt)
      // What the comparisons stand on.
      t.equal(loopUser[0], c.fs === 'btrfs' ? 'security.s trusted.t user.u' : 'security.s user.u',
        `${user.name} lists trusted.* names ${c.fs === 'btrfs' ? 'on btrfs' : 'on no filesystem but btrfs'}`)
      t.match(loopRoot[0], /(^| )trusted\.t( |$)/, 'root lists them')
      unmount()
      fsck(t, c, image)
      loopState = imageState(t, image, mnt, c.fs)
    })

    await t.test(`${c.fs}: lkl lklfuse -o allow_other by root, as ${user.name} and as root`, async t => {
      const image = copy('shared')
      t.teardown(() => cleanUp(mnt, image))
      // Without the NODE_OPTIONS tap gives every child.
      const m = spawnSync('env', ['-u', 'NODE_OPTIONS', NODE, lkl, 'lklfuse', image, mnt,
        '-o', 'allow_other'], { encoding: 'utf8' })
      t.equal(m.status, 0, 'mounted', { output: `${m.stdout}${m.stderr}` })
      t.match(mountLine(mnt), /[,]default_permissions/, 'with default_permissions')
      if (!mountLine(mnt))
        return
      compare(t, uSteps, answers(t, uSteps, mnt, user.name), loopUser, user.name, 'shared')
      compare(t, rSteps, answers(t, rSteps, mnt), loopRoot, 'root', 'shared')
      if (await fuseUnmount(t, mnt) !== 0 || !t.ok(await released(image),
        'the server writes the image back and ends'))
        return
      fsck(t, c, image)
      // Everything reached the image, as the loop mount's: flags, ACLs,
      // xattrs, project IDs, subvolumes (but the snapshot, not carried).
      const wanted = { ...loopState }
      delete wanted['own-dir/snap']
      t.same(imageState(t, image, mnt, c.fs), wanted,
        'the image holds what the loop mount\'s does, file by file')
    })

    await t.test(`${c.fs}: lkl lklfuse by ${user.name}, as ${user.name}`, async t => {
      const image = copy('private')
      fs.chownSync(image, user.uid, user.gid)
      fs.chownSync(mnt, user.uid, user.gid)
      t.teardown(async () => {
        await cleanUp(mnt, image)
        fs.chownSync(mnt, 0, 0)
      })
      const m = runAs(user.name, NODE, [lkl, 'lklfuse', image, mnt], { cwd: repo })
      t.equal(m.status, 0, 'mounted', { output: m.output })
      if (!mountLine(mnt))
        return
      const found = answers(t, uSteps, mnt, user.name)
      t.equal(found[0], loopUser[0], `${user.name} lists the trusted.* names the loop mount lists`)
      if (c.fs !== 'btrfs') {
        const dump = uSteps.findIndex(([s]) => s[1] === 'getfattr')
        t.notMatch(found[dump], /trusted/, 'getfattr -d -m - meets no trusted.* name it cannot read')
      }
      compare(t, uSteps, found, loopUser, user.name, 'private')
      if (await fuseUnmount(t, mnt, user.name) === 0 && t.ok(await released(image),
        'the server writes the image back and ends'))
        fsck(t, c, image)
    })

    if (c.fs === 'ext4') {
      await t.test('ext4: a caller outside the server\'s PID namespace counts as having ' +
        'no capabilities but those the host kernel checked', async t => {
        await unknownCaller(t, copy('pidns'), mnt, lkl, c)
      })
    }
  }
}

/**
 * The server in a PID namespace of its own, root outside it: FUSE gives
 * the server PID 0 for such a caller, whose capabilities it then cannot
 * know.  Whatever the host kernel checked stays allowed; whatever only
 * the filesystem decides, it decides for a caller without capabilities.
 */
async function unknownCaller(t, image, mnt, lkl, c) {
  const server = spawn('unshare', ['--pid', '--fork', '--kill-child', 'env', '-u', 'NODE_OPTIONS',
    NODE, lkl, 'lklfuse', '-f', image, mnt], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  server.stdout.on('data', d => (output += d))
  server.stderr.on('data', d => (output += d))
  const exited = new Promise(resolve => server.on('close', resolve))
  t.teardown(async () => {
    await cleanUp(mnt, image)
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL')
      await exited
    }
  })
  for (let i = 0; i < 600 && !mountLine(mnt) && server.exitCode === null; i++)
    await new Promise(resolve => setTimeout(resolve, 100))
  if (!t.ok(mountLine(mnt), 'mounted from a PID namespace of its own', { output }))
    return
  const steps = [
    [['list', 'own']],
    [['get', 'own', 'trusted.t']],
    [['set', 'own', 'trusted.n', '1']],
    [['run', 'fstrim', '.']],
  ]
  t.same(answers(t, steps, mnt), [
    'security.s user.u',
    'tv',
    'ok',
    '1 fstrim: .: FITRIM ioctl failed: Operation not permitted',
  ], 'root lists no trusted.* names and may not trim, but reads and writes them, as the host lets it')
  if (await fuseUnmount(t, mnt) === 0) {
    t.equal(await exited, 0, 'the server ends with status 0', { output })
    fsck(t, c, image)
  }
}

const why = process.getuid() !== 0 ? 'needs root, to make a user and loop-mount' :
  !fs.existsSync('/dev/loop-control') ? 'no loop devices, for the host kernel\'s own mounts' :
    cannotRun()
if (why)
  t.plan(0, why)
else
  await main()
