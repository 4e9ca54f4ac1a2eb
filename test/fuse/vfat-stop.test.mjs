// SPDX-License-Identifier: GPL-2.0
//
// A stop signal while a read-write vfat mount is busy forgetting.  Past
// 4,096 open node descriptors the server asks the host to forget idle
// names (native/fuse/forget.c), and the host's FUSE_NOTIFY_INVAL_ENTRY
// waits for the directory's lock, which a lookup in that directory holds
// until the server answers it.  On SIGTERM, SIGINT or SIGHUP the server
// lets the forgetting finish before it stops serving (native/fuse/loop.c).
// Before, libfuse's signal handler marked the session ended at once and
// the pool stopped, dropping the next request it read: the lookups were
// never answered, the notification waited for them forever and the
// server never exited, nor could SIGKILL end it until the connection was
// aborted.  This test saw that in each of its three rounds.  Now each
// signal ends the server with status 0, the image written back and clean.
import t from 'tap'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { cannotRun, run, startServer, tryRun } from './server.mjs'
import { tempDir } from '../helpers/tree.mjs'

t.setTimeout(10 * 60 * 1000)

const DIRS = 6
const FILES = 1000
// Long enough for a stuck server; a healthy one exits in a second or two.
const EXIT_MS = 60 * 1000

// Children that look names up in every directory, in a loop, until
// killed: names that exist (their nodes are what the server asks the
// host to forget) and names that never do, whose lookups each hold the
// directory's lock until the server answers.  Children, so that this
// process stays free to time the server even if their lookups never come
// back.
const LOOKER = `
const fs = require('node:fs')
const [mnt, dirs, files, seed] = process.argv.slice(1).map((a, i) => i ? Number(a) : a)
let n = seed
const next = () => (n = (n * 1103515245 + 12345) % 2147483648)
for (;;) {
  try { fs.statSync(mnt + '/d' + (next() % dirs) + '/f' + (next() % files)) } catch {}
  for (let i = 0; i < 3; i++)
    try { fs.statSync(mnt + '/d' + (next() % dirs) + '/none' + next()) } catch {}
}
`

// And one that looks up every file in turn, again and again: more nodes
// than the server keeps descriptors for, so that it asks the host to
// forget names all along.
const WALKER = `
const fs = require('node:fs')
const [mnt, dirs, files] = process.argv.slice(1).map((a, i) => i ? Number(a) : a)
for (;;) {
  for (let d = 0; d < dirs; d++)
    for (let f = 0; f < files; f++)
      try { fs.statSync(mnt + '/d' + d + '/f' + f) } catch {}
}
`

function startLookers(mnt, count) {
  const args = [mnt, String(DIRS), String(FILES)]
  return [
    spawn(process.execPath, ['-e', WALKER, ...args], { stdio: 'ignore' }),
    ...Array.from({ length: count }, (_, i) =>
      spawn(process.execPath, ['-e', LOOKER, ...args, String(i * 7919 + 1)], { stdio: 'ignore' })),
  ]
}

function stopLookers(children) {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null)
      c.kill('SIGKILL')
  }
}

// The server's forget thread (native/fuse/forget.c names it); all its
// threads for a server that names none.
function forgetThreads(pid) {
  try {
    const all = fs.readdirSync(`/proc/${pid}/task`)
    const named = all.filter(tid =>
      fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'lklfuse-forget')
    return named.length ? named : all
  } catch {
    return []
  }
}

// Until the forget thread waits inside a notification for a directory's
// lock (its kernel stack says so: root may read it), for at most @ms:
// whether it did.  That is when a stop signal used to hang the server.
async function untilNotifying(pid, ms) {
  const stacks = forgetThreads(pid).map(tid => `/proc/${pid}/task/${tid}/stack`)
  const end = Date.now() + ms
  while (Date.now() < end) {
    for (const stack of stacks) {
      try {
        if (fs.readFileSync(stack, 'utf8').includes('fuse_reverse_inval_entry'))
          return true
      } catch {}
    }
    await new Promise(resolve => setImmediate(resolve))
  }
  return false
}

// The host's FUSE connection number of the mount at @mnt (its device's
// minor), or undefined.
function connection(mnt) {
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .find(l => l.split(' ')[4] === mnt)
  return line?.split(' ')[2].split(':')[1]
}

// Abort a FUSE connection (fusectl), which ends every request and wait on
// it: a server stuck in a notification cannot even be killed otherwise.
function abortConnection(conn) {
  return tryRun('unshare', ['--mount', 'sh', '-c',
    'mount -t fusectl none /sys/fs/fuse/connections && echo 1 > "/sys/fs/fuse/connections/$1/abort"',
    'sh', conn])
}

async function exitWithin(srv, ms) {
  let timer
  const r = await Promise.race([
    srv.exited,
    new Promise(resolve => { timer = setTimeout(() => resolve({ code: 'timeout' }), ms) }),
  ])
  clearTimeout(timer)
  return r
}

const why = cannotRun()
t.test('a stop signal while the server asks the host to forget names', { skip: why }, async t => {
  const dir = tempDir(t, 'lkl-vfat-stop-')
  const img = join(dir, 'img')
  const mnt = join(dir, 'mnt')
  fs.mkdirSync(mnt)
  fs.writeFileSync(img, '')
  fs.truncateSync(img, 256 * 1024 * 1024)
  run('mkfs.vfat', ['-F', '32', img])

  let first = true
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    await t.test(signal, async t => {
      const srv = await startServer(t, img, mnt)
      t.equal(srv.line, 'ready', 'mounted read-write', { stderr: srv.stderr() })
      if (srv.line !== 'ready')
        return
      if (first) {
        for (let d = 0; d < DIRS; d++) {
          fs.mkdirSync(join(mnt, `d${d}`))
          for (let f = 0; f < FILES; f++)
            fs.writeFileSync(join(mnt, `d${d}`, `f${f}`), `${d}/${f}\n`)
        }
        t.pass(`${DIRS * FILES} files made, more than the server keeps descriptors for`)
        first = false
      }
      const conn = connection(mnt)
      const lookers = startLookers(mnt, 4)
      t.teardown(() => stopLookers(lookers))
      // The signal comes while a notification waits for a lookup, if
      // one is seen.
      const seen = await untilNotifying(srv.child.pid, 30000)
      t.comment(seen ? `${signal} while a notification waits for a directory's lock`
        : `no notification seen waiting: ${signal} anyway`)
      srv.child.kill(signal)
      const r = await exitWithin(srv, EXIT_MS)
      stopLookers(lookers)
      if (r.code === 'timeout') {
        t.fail(`the server has not exited ${EXIT_MS / 1000} s after ${signal}`, { stderr: srv.stderr() })
        // Free the server and the lookups, for the next round.
        if (conn !== undefined)
          abortConnection(conn)
        srv.child.kill('SIGKILL')
        tryRun('fusermount3', ['-u', '-z', mnt])
        await srv.exited
        return
      }
      t.same(r, { code: 0, signal: null }, `${signal} ends the server with status 0`, { stderr: srv.stderr() })
      const fsck = tryRun('fsck.vfat', ['-n', img])
      t.equal(fsck.status, 0, 'fsck.vfat -n finds the image clean', { output: fsck.output })
    })
  }
})
