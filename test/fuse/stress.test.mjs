// SPDX-License-Identifier: GPL-2.0
//
// stress-ng's filesystem stressors, one after another, in a directory of
// an ext4 image mounted through lklfuse-server; none may fail.  Then the
// unmount, the server's exit status, its kernel log and e2fsck.
//
// Each stressor was run alone on this mount and on a loop mount of the
// same kind of image (stress-ng --NAME 1 --timeout 3 --temp-path DIR -v):
// those left out below cannot run here for a reason outside lklfuse (the
// host kernel, FUSE itself, stress-ng), and every other one must run, not
// skip.
import t from 'tap'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import { join } from 'node:path'
import {
  cannotRun, holders, run, startServer, stopServer, tryRun,
} from './server.mjs'
import { tempDir } from '../helpers/tree.mjs'

t.setTimeout(8 * 60 * 1000)

const EXCLUDED = {
  'bind-mount': 'stress-ng disables it itself unless --pathological: it bind-mounts / ' +
    'onto a directory here over and over, in user and mount namespaces of its own, ' +
    'which can take all the host\'s memory',
  binderfs: 'it mounts binderfs on a directory here, and the host kernel has no binderfs: ' +
    'ENODEV, the same on a loop mount, and stress-ng exits 3 (no resource)',
  fiemap: 'FS_IOC_FIEMAP: the kernel\'s FUSE client has no fiemap, the ioctl fails with ' +
    'EOPNOTSUPP and stress-ng skips the stressor (on a loop mount it runs)',
  procfs: 'it reads the host\'s /proc, not the mount, and its read of /proc/kmsg ' +
    'waits until the host kernel logs something: on a quiet host it never ends (seen ' +
    'on 2026-12-07, stress-ng-procfs stuck in syslog_print)',
  verity: 'fs-verity: neither the host kernel (no CONFIG_FS_VERITY: stress-ng skips it on ' +
    'a loop mount of an image made with -O verity too) nor ours ("fsverity=no") has it, ' +
    'and lklfuse-server passes on only the ioctls of chattr and lsattr',
}

// Failures that are the documented price of the host's writeback cache on
// read-write mounts (docs/commands.md: as on NFS, a write's error may show
// only at fsync() or syncfs()), not defects: another stressor's data,
// accepted into the host's cache, failed on its way to the image (iomix
// makes a file immutable while its pages are dirty: EPERM; seen too:
// ESTALE after dirmany, EINTR, EIO), and the io stressor's syncfs() reports
// that error of the filesystem's, as the kernel's syncfs reports any
// writeback error since the caller opened its file.  On a loop mount the
// write() itself fails instead.  Only this line, and only from syncfs.
const WRITEBACK_REPORTS = /^stress-ng: fail: +\[\d+\] io: syncfs failed, errno=\d+/

const STRESS_SECONDS = 3
// stress-ng takes about 140 s here; past this it is stuck, and the test
// fails with what each of its processes waits on and the server's
// threads.  (copy-file's rmdir once hung this way: a server thread looped
// in shrink_dcache_parent()'s cond_resched() with the tick pending, until
// linux/arch/lkl/include/asm/preempt.h made a pending interrupt a reason
// to reschedule.)
const DEADLINE_MS = 240 * 1000

// The filesystem class of this stress-ng.
function filesystemClass() {
  const out = run('stress-ng', ['--class', 'filesystem?'])
  const m = out.match(/class 'filesystem' stressors: (.*)/)
  return m ? m[1].trim().split(/\s+/) : []
}

function readOr(path, otherwise = '') {
  try {
    return fs.readFileSync(path, 'utf8')
  } catch {
    return otherwise
  }
}

// The fields of a /proc stat file after the command name: state first.
function statFields(path) {
  const stat = readOr(path)
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

// A thread's kernel stack on one line, innermost first, without offsets
// or the system call entry.
function kernelStack(taskDir) {
  return readOr(`${taskDir}/stack`).split('\n')
    .filter(l => l && !/entry_SYSCALL|do_syscall_64/.test(l))
    .map(l => l.replace(/^\[<0>\] /, '').replace(/\+0x.*/, ''))
    .join(' < ')
}

function tasks(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/task`)
  } catch {
    return []
  }
}

// What the processes of a run that went past its deadline wait on:
// @pid and its descendants, each thread with its state and kernel stack
// (a stressor's main thread often only waits for its own threads), and
// their pids.
function stuck(pid) {
  const parent = new Map()
  for (const p of fs.readdirSync('/proc').filter(n => /^\d+$/.test(n)))
    parent.set(p, statFields(`/proc/${p}/stat`)[1])
  const mine = p => p === String(pid) || (parent.has(p) && p !== '1' && mine(parent.get(p)))
  const lines = []
  const pids = []
  for (const p of parent.keys()) {
    if (!mine(p))
      continue
    pids.push(p)
    const cmd = readOr(`/proc/${p}/cmdline`).replace(/[\0\s]+/g, ' ').trim()
    lines.push(`${p} ${cmd.length > 160 ? `${cmd.slice(0, 160)}...` : cmd}`)
    for (const tid of tasks(p)) {
      const dir = `/proc/${p}/task/${tid}`
      lines.push(`  ${tid} ${statFields(`${dir}/stat`)[0]} ${kernelStack(dir)}`)
    }
  }
  return { text: lines.join('\n'), pids }
}

// The server's threads: id, state, CPU ticks, where each waits in the
// host (gdb says where in our kernel: backtraces()).  A thread that runs on and on while the others wait is the kernel
// spinning.
function threads(pid) {
  return tasks(pid).map(tid => {
    const dir = `/proc/${pid}/task/${tid}`
    const f = statFields(`${dir}/stat`)
    return `${tid} ${f[0]} ${Number(f[11]) + Number(f[12])} ${kernelStack(dir).split(' < ')[0]}`
  }).join('\n')
}

// Where each of the server's threads is, our kernel's functions included,
// when gdb is there to say: a thread waiting in the kernel library on a
// lock shows whose.
function backtraces(pid) {
  const r = tryRun('gdb', ['-p', String(pid), '-batch', '-nx', '-ex', 'thread apply all bt 24'])
  if (!/^Thread /m.test(r.output))
    return `gdb: ${r.output.trim().split('\n').pop() ?? r.status}`
  const out = []
  for (const block of r.output.split(/\n(?=Thread )/)) {
    const head = block.match(/^Thread \d+ \(Thread \S+ \(LWP (\d+)\)/)
    if (!head)
      continue
    const frames = [...block.matchAll(/^#\d+\s+(?:0x\S+ in )?(\S+) \(/gm)].map(m => m[1])
      .filter(f => !/futex|pthread_cond|^start_thread$|^clone3?$/.test(f))
    out.push(`${head[1]} ${frames.join(' < ')}`)
  }
  return out.join('\n')
}

// How many of @mnt's requests the host waits on (fusectl's count: sent to
// the server or queued for it, not yet answered).  Nonzero with every
// server thread idle would mean a request lost between the host and us.
function fuseWaiting(mnt) {
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .find(l => l.split(' ')[4] === mnt)
  const minor = line?.split(' ')[2].split(':')[1]
  if (minor === undefined)
    return 'not mounted'
  const r = tryRun('unshare', ['--mount', 'sh', '-c',
    'mount -t fusectl none /sys/fs/fuse/connections && cat "/sys/fs/fuse/connections/$1/waiting"',
    'sh', minor])
  return r.output.trim()
}

// stress-ng runs alone with our mount.  Its fanotify stressor watches
// every mount it can see, and each event it has yet to read holds the
// file's mount: another test's FUSE mount, busy with reads, then fails to
// unmount (EBUSY).  Its procfs stressor reads /proc/PID/... of whatever
// processes it finds, other tests' included, and opens their cwd and fd
// links, which reach into any mount.  So stress-ng runs in a PID namespace
// with a /proc of its own, and a mount namespace without the other FUSE
// mounts (private: the ones made later stay out too).  $1 is our mount.
const ALONE = `
keep=$1; shift
awk -v keep="$keep" '$3 ~ /^fuse(blk)?([.]|$)/ && $2 != keep { print $2 }' /proc/self/mounts |
while read -r m; do umount -l "$m"; done
exec stress-ng "$@"
`

// Run stress-ng, alone with @mnt, in @cwd (some stressors make files
// there too), killed past the deadline:
// { code, signal, output, timedOut, stuck }.
function stress(mnt, cwd, args) {
  return new Promise(resolve => {
    // Killing unshare kills its child, stress-ng's first process, and with
    // it the whole PID namespace.
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork',
      '--mount-proc', '--kill-child', 'sh', '-c', ALONE, 'sh', mnt, ...args],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let timedOut = false
    let where = { text: '', pids: [] }
    child.stdout.on('data', d => (output += d))
    child.stderr.on('data', d => (output += d))
    const timer = setTimeout(() => {
      timedOut = true
      where = stuck(child.pid)
      child.kill('SIGKILL')
    }, DEADLINE_MS)
    const done = (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output, timedOut, stuck: where })
    }
    child.on('close', done)
    child.on('exit', (code, signal) => {
      if (!timedOut)
        return
      // A stressor that even SIGKILL cannot end keeps our end of its
      // output open, and this process alive.
      child.stdout.destroy()
      child.stderr.destroy()
      done(code, signal)
    })
  })
}

async function main() {
  // Removed at the end, a mount left in it unmounted first.
  const dir = tempDir(t, 'lklfuse-stress-')
  const mnt = join(dir, 'mnt')
  const img = join(dir, 'stress.img')
  const log = join(dir, 'kernel.log')
  fs.mkdirSync(mnt)
  // iomix fallocates 1 GiB; the file stays sparse.
  run('truncate', ['-s', '4G', img])
  run('mkfs.ext4', ['-q', '-F', '-L', 'stress', img])

  const all = filesystemClass()
  for (const [name, why] of Object.entries(EXCLUDED))
    t.comment(`excluded: ${name}: ${why}`)
  t.same(Object.keys(EXCLUDED).filter(n => !all.includes(n)), [],
    'every excluded stressor is in this stress-ng\'s filesystem class')
  const included = all.filter(n => !(n in EXCLUDED))
  t.ok(included.length >= 40, `${included.length} stressors to run`)

  await t.test('stress-ng --class filesystem in the mount', async t => {
    const srv = await startServer(t, img, mnt, ['-o', `log=${log}`])
    t.equal(srv.line, 'ready', 'mounted', { stderr: srv.stderr() })
    if (srv.line !== 'ready')
      return
    const work = join(mnt, 'stress')
    fs.mkdirSync(work)

    const started = Date.now()
    const r = await stress(mnt, work, [
      '--class', 'filesystem', '--sequential', '1', '--timeout', String(STRESS_SECONDS),
      '--temp-path', work, '--exclude', Object.keys(EXCLUDED).join(','),
      '--verify', '--metrics-brief',
    ])
    t.comment(`stress-ng ran ${Math.round((Date.now() - started) / 1000)} s`)
    if (r.timedOut) {
      t.fail(`stress-ng is stuck after ${DEADLINE_MS / 1000} s`,
        {
          waiting: fuseWaiting(mnt), stuck: r.stuck.text,
          serverThreads: threads(srv.child.pid), serverStacks: backtraces(srv.child.pid),
          output: r.output,
        })
      // Abort the FUSE connection, which frees whoever waits on it.  What
      // still lives after that waited on something other than our mount.
      srv.child.kill('SIGKILL')
      await new Promise(resolve => setTimeout(resolve, 3000))
      const left = r.stuck.pids.filter(p => fs.existsSync(`/proc/${p}`))
      t.comment(`alive 3 s after the server was killed: ${left.join(' ') || 'none'}`)
      return
    }
    t.equal(r.code, 0, 'stress-ng exits 0', { output: r.output })
    t.match(r.output, /successful run completed/, 'stress-ng: successful run completed')
    const failures = r.output.split('\n')
      .filter(l => /^stress-ng: fail:|FAILED|unsuccessful/.test(l) && !WRITEBACK_REPORTS.test(l))
    t.same(failures, [], 'no failures reported', { output: r.output })
    const skips = r.output.split('\n')
      .filter(l => /skipping|not supported|aborted early|out of system resources/.test(l))
    t.same(skips, [], 'no stressor skipped or gave up')
    const ran = new Set([...r.output.matchAll(/^stress-ng: metrc: \[\d+\] (\S+)\s+\d+/gm)].map(m => m[1]))
    t.same(included.filter(n => !ran.has(n)), [], 'every included stressor ran (has its metrics line)')

    const stopped = await stopServer(srv, mnt)
    t.equal(stopped.umount.status, 0, 'fusermount3 -u', { output: stopped.umount.output })
    t.equal(stopped.code, 0, 'the server exits 0',
      { stderr: srv.stderr(), heldBy: stopped.code === 'timeout' ? holders(mnt) : undefined })
    const klog = fs.readFileSync(log, 'utf8')
    const alarms = klog.split('\n').filter(l => /\b(WARNING|BUG|Oops)\b|EXT4-fs error|Call Trace|I\/O error/.test(l))
    t.same(alarms, [], 'the kernel log has no warnings or errors')
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
  })
}

const why = cannotRun() ??
  (tryRun('stress-ng', ['--version']).status !== 0 ? 'no stress-ng' : undefined)
if (why)
  t.plan(0, why)
else
  await main()
