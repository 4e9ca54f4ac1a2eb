// SPDX-License-Identifier: GPL-2.0
//
// Helpers for the lklfuse-server tests: start the server on an image with
// the readiness descriptor the JavaScript launcher will use, stop it as a
// user would (fusermount3 -u), and compare a mounted tree with its source
// through plain node:fs.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir, testUser } from '../helpers/machine.mjs'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const SERVER = join(ROOT, 'build', 'native', 'lklfuse-server')
export const MAKE_TREE = join(ROOT, 'test', 'fixtures', 'make-tree.sh')
export const MAKE_IMAGES = join(ROOT, 'test', 'fixtures', 'make-images.sh')

process.env.PATH = `${process.env.PATH}:/usr/sbin:/sbin`

/** Why these tests cannot run here, or undefined. */
export function cannotRun() {
  if (!fs.existsSync(SERVER))
    return `${SERVER} is not built (npm run build:native)`
  try {
    fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK)
  } catch {
    return 'no usable /dev/fuse'
  }
  if (spawnSync('fusermount3', ['-V']).status !== 0)
    return 'no fusermount3'
  return undefined
}

/** Run a tool; its output, or a throw with the output. */
export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options })
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')}: ${r.error ?? `status ${r.status ?? r.signal}`}\n${r.stdout}${r.stderr}`,
    )
  return r.stdout
}

/** Run a tool: { status, output }. */
export function tryRun(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options })
  return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` }
}

export function sha256(path) {
  return createHash('sha256').update(fs.readFileSync(path)).digest('hex')
}

/**
 * Start lklfuse-server IMAGE MNT -f ...args with LKLFUSE_READY_FD=3.
 * Resolves once it says "ready" or "error: ..." or exits:
 * { child, line, exited, stderr() }.  A teardown on @t unmounts lazily
 * and kills the server if a test left it running.
 */
export async function startServer(t, image, mnt, args = [], timeoutMs = 60000) {
  const child = spawn(SERVER, [image, mnt, '-f', ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, LKLFUSE_READY_FD: '3' },
  })
  let stderr = ''
  child.stdout.on('data', d => (stderr += d))
  child.stderr.on('data', d => (stderr += d))
  const exited = new Promise(resolve =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      spawnSync('fusermount3', ['-u', '-z', mnt])
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
      await exited
      clearTimeout(timer)
    }
  })
  const line = await new Promise(resolve => {
    let text = ''
    const timer = setTimeout(() => resolve('timeout'), timeoutMs)
    child.stdio[3].on('data', d => {
      text += d
      if (text.includes('\n')) {
        clearTimeout(timer)
        resolve(text.slice(0, text.indexOf('\n')))
      }
    })
    child.stdio[3].on('end', () => {
      clearTimeout(timer)
      resolve(text.includes('\n') ? text.slice(0, text.indexOf('\n')) : `closed: "${text}"`)
    })
  })
  return { child, line, exited, stderr: () => stderr }
}

/** fusermount3 -u, then the server's exit: { umount, code, signal }. */
export async function stopServer(srv, mnt, timeoutMs = 60000) {
  const umount = tryRun('fusermount3', ['-u', mnt])
  let timer
  const timeout = new Promise(resolve => {
    timer = setTimeout(() => resolve({ code: 'timeout' }), timeoutMs)
  })
  const r = await Promise.race([srv.exited, timeout])
  clearTimeout(timer)
  return { umount, ...r }
}

/**
 * Serves @image at @mnt while @body(srv) runs, then unmounts: asserts that
 * the server came up (@ready says so) and exited 0.  @body does not run if
 * it never came up; false then.
 */
export async function whileServing(t, image, mnt, body, { args = [], ready = 'the server is ready' } = {}) {
  const srv = await startServer(t, image, mnt, args)
  t.equal(srv.line, 'ready', ready, { stderr: srv.stderr() })
  if (srv.line !== 'ready')
    return false
  await body(srv)
  const r = await stopServer(srv, mnt)
  t.equal(r.code, 0, 'the server exits 0', { stderr: srv.stderr() })
  return true
}

/**
 * Compare the tree under @mnt with the source @src (lstat, readdir,
 * contents, symlinks, modes, owners, nanosecond mtimes, link counts).
 * Returns a list of differences.  @skip: top-level names only in @mnt.
 */
export function compareTrees(src, mnt, {
  posix = true, hardlinks = true, mtime = true, skip = [], mtimeGranNs = 1n,
} = {}) {
  const diffs = []
  const inodes = new Map() // source ino -> mounted ino
  const walk = rel => {
    const s = join(src, rel)
    const m = join(mnt, rel)
    const ss = fs.lstatSync(s, { bigint: true })
    let ms
    try {
      ms = fs.lstatSync(m, { bigint: true })
    } catch (e) {
      diffs.push(`${rel}: ${e.code}`)
      return
    }
    const type = st => (st.mode & 0o170000n).toString(8)
    if (type(ss) !== type(ms)) {
      diffs.push(`${rel}: type ${type(ms)}, source ${type(ss)}`)
      return
    }
    if (posix) {
      if (!ss.isSymbolicLink() && (ss.mode & 0o7777n) !== (ms.mode & 0o7777n))
        diffs.push(`${rel}: mode ${(ms.mode & 0o7777n).toString(8)}, source ${(ss.mode & 0o7777n).toString(8)}`)
      if (ss.uid !== ms.uid || ss.gid !== ms.gid)
        diffs.push(`${rel}: owner ${ms.uid}:${ms.gid}, source ${ss.uid}:${ss.gid}`)
    }
    // The root's times are mkfs's own.
    if (mtime && rel !== '' && !ss.isSymbolicLink() && ss.mtimeNs / mtimeGranNs !== ms.mtimeNs / mtimeGranNs)
      diffs.push(`${rel}: mtime ${ms.mtimeNs}, source ${ss.mtimeNs}`)
    if (ss.isDirectory()) {
      const want = fs.readdirSync(s).sort()
      const got = fs.readdirSync(m).filter(n => rel !== '' || !skip.includes(n)).sort()
      if (want.join('\0') !== got.join('\0'))
        diffs.push(`${rel}/: entries [${got.join(', ')}], source [${want.join(', ')}]`)
      for (const name of want)
        if (got.includes(name))
          walk(join(rel, name))
      return
    }
    if (posix && hardlinks && !ss.isSymbolicLink()) {
      if (ss.nlink !== ms.nlink)
        diffs.push(`${rel}: nlink ${ms.nlink}, source ${ss.nlink}`)
      const seen = inodes.get(ss.ino)
      if (seen !== undefined && seen !== ms.ino)
        diffs.push(`${rel}: a hard link in the source, inode ${ms.ino} not ${seen}`)
      inodes.set(ss.ino, ms.ino)
    }
    if (ss.isSymbolicLink()) {
      const want = fs.readlinkSync(s)
      const got = fs.readlinkSync(m)
      if (want !== got)
        diffs.push(`${rel}: symlink to ${got}, source ${want}`)
    } else if (ss.isFile()) {
      if (ss.size !== ms.size)
        diffs.push(`${rel}: size ${ms.size}, source ${ss.size}`)
      else if (!fs.readFileSync(s).equals(fs.readFileSync(m)))
        diffs.push(`${rel}: contents differ`)
    }
  }
  walk('')
  return diffs
}

// ---------------------------------------------------------------------
// Real users and the launcher, for users.test.mjs and launcher.test.mjs.

export const LKL = join(ROOT, 'bin', 'lkl')

/** A user's PATH: the system's directories, none of root's own. */
export const USER_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin'

/**
 * A user for the test @t alone, removed (with its group) when @t ends:
 * @base and this process's id, so that no other test file shares it (see
 * test/helpers/machine.mjs).  { name, uid, gid }.
 */
export function ensureUser(t, base) {
  if (typeof t === 'string')
    throw new TypeError('ensureUser(t, base): pass the test, whose end removes the user')
  return testUser(t, base)
}

/**
 * Run @cmd as the user @name (runuser, then env -i: a user's PATH and
 * nothing of our environment, not even the NODE_OPTIONS that tap adds to
 * every child): { status, signal, stdout, stderr, output }.
 */
export function runAs(name, cmd, args, options = {}) {
  const r = spawnSync('runuser', [
    '-u', name, '--', 'env', '-i', `PATH=${USER_PATH}`, 'LANG=C.UTF-8', `USER=${name}`,
    `LOGNAME=${name}`, 'HOME=/nonexistent', cmd, ...args,
  ], { encoding: 'utf8', ...options })
  return {
    status: r.status ?? -1,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    output: `${r.error ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}`,
  }
}

/** The line of /proc/mounts for @mnt, or undefined. */
export function mountLine(mnt) {
  return fs.readFileSync('/proc/mounts', 'utf8').split('\n')
    .find(l => l.split(' ')[1] === mnt)
}

/**
 * The processes that have the file @path open, as fuser(1) tells (a
 * zombie has nothing open): their pids.
 */
export function openers(path) {
  const want = fs.realpathSync(path)
  const pids = []
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid))
      continue
    let fds
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue // gone, or a kernel thread
    }
    for (const fd of fds) {
      let target
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      if (target === want) {
        pids.push(Number(pid))
        break
      }
    }
  }
  return pids
}

/**
 * Wait until nothing has @image open: after fusermount3 -u the server
 * still writes the image back and halts its kernel (FUSE's unmount does
 * not wait for the server), and only then may a checker read it.  True
 * once released, false after @timeoutMs.
 */
export async function released(image, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (openers(image).length === 0)
      return true
    if (Date.now() > end)
      return false
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** The uid a process runs as (its real uid), or undefined. */
export function processUid(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/^Uid:\s+(\d+)/m.exec(status)[1])
  } catch {
    return undefined
  }
}

/**
 * For a teardown: unmount @mnt lazily if a test left it mounted, then
 * wait for the server of @image to end, killing it after 20 s.
 */
export async function cleanUp(mnt, image) {
  if (mountLine(mnt))
    tryRun('fusermount3', ['-u', '-z', mnt])
  if (!fs.existsSync(image) || await released(image, 20000))
    return
  for (const pid of openers(image)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  await released(image, 5000)
}

// Processes in other mount namespaces that still have @mnt mounted (a
// copy made by unshare -m while it was mounted): while they live, the
// unmount does not end the FUSE connection, nor the server.
export function holders(mnt) {
  const found = []
  const ours = fs.readlinkSync('/proc/self/ns/mnt')
  for (const p of fs.readdirSync('/proc').filter(n => /^\d+$/.test(n))) {
    try {
      if (fs.readlinkSync(`/proc/${p}/ns/mnt`) === ours)
        continue
      if (fs.readFileSync(`/proc/${p}/mountinfo`, 'utf8').split('\n').some(l => l.split(' ')[4] === mnt))
        found.push(`${p} ${fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ')}`)
    } catch {}
  }
  return found
}

/**
 * A scratch directory under /tmp (removed with `t`) holding a mount point
 * and `<name>.img`, a fresh ext4 image of `mib` MiB: { dir, mnt, img }.
 * `shared` opens the directory and the mount point to every user, for a
 * test that runs something as another one.
 */
export function ext4Scratch(t, name, { mib = 32, shared = false } = {}) {
  const dir = tempDir(t, `lklfuse-${name}-`, '/tmp')
  if (shared)
    fs.chmodSync(dir, 0o755)
  const mnt = join(dir, 'mnt')
  const img = join(dir, `${name}.img`)
  fs.mkdirSync(mnt, { mode: shared ? 0o755 : 0o777 })
  run('truncate', ['-s', `${mib}M`, img])
  run('mkfs.ext4', ['-q', '-F', img])
  return { dir, mnt, img }
}
