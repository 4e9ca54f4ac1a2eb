// SPDX-License-Identifier: GPL-2.0
//
// lklfuse-server killed with SIGKILL in the middle of writes: a writer
// process keeps creating and appending files through the mount, and a
// file is written and fsync'd (with its directory) while it runs.  The
// ext4 image left behind must need recovery; a read-only mount shows the
// recovered tree without changing a byte of the image; a read-write mount
// replays the journal: the fsync'd file is whole, every other file is
// absent or holds what was written (or zeros, past what reached the disk),
// and e2fsck finds the image clean after the unmount.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import { join } from 'node:path'
import {
  cannotRun, holders, run, startServer, stopServer, tryRun,
} from './server.mjs'
import { tempDir } from '../helpers/tree.mjs'

t.setTimeout(5 * 60 * 1000)

// What the writer puts in file number @i, and line @i of its log.
const content = i => Buffer.from(`file ${i}\n`.repeat(1 + (i % 13) * 250))
const logLine = i => `${String(i).padStart(6, '0')} ${'.'.repeat(i % 61)}\n`

// The writer: until an error (the mount dies under it), step i creates
// w/d-NN/f-I with content(i), up to MAX_FILES files, and appends
// logLine(i) to w/append.log; "N\n" on stdout after each 50 steps.  A
// millisecond's pause per step keeps it near 1000 files a second: some
// 16000 to 32000 files on the mount, the server's kernel fails to grow
// its descriptor table (ENOMEM), which is not what this test is about.
const MAX_FILES = 10000
const WRITER = `
const fs = require('node:fs')
const { join } = require('node:path')
const content = ${content.toString()}
const logLine = ${logLine.toString()}
const w = process.argv[1]
const pause = new Int32Array(new SharedArrayBuffer(4))
let i = 0
try {
  fs.mkdirSync(w)
  const log = fs.openSync(join(w, 'append.log'), 'a')
  for (;; i++) {
    if (i < ${MAX_FILES}) {
      const d = join(w, 'd-' + String(Math.floor(i / 100)).padStart(2, '0'))
      if (i % 100 === 0)
        fs.mkdirSync(d)
      fs.writeFileSync(join(d, 'f-' + i), content(i))
    }
    fs.writeSync(log, logLine(i))
    if ((i + 1) % 50 === 0)
      process.stdout.write((i + 1) + '\\n')
    Atomics.wait(pause, 0, 0, 1)
  }
} catch (e) {
  process.stderr.write('stopped after ' + i + ' steps: ' + e.code + '\\n')
}
`

// 4 MiB in which every 16-byte line differs.
const DURABLE = Buffer.alloc(4 * 1024 * 1024)
for (let i = 0; i < DURABLE.length / 16; i++)
  DURABLE.write(`${String(i).padStart(15, '0')}\n`, i * 16, 'latin1')

// sha256sum's, as the image is too big for a Buffer.
const sha256 = path => run('sha256sum', [path]).split(' ')[0]

// Every regular file under @root: relative name -> sha256.
function snapshot(root) {
  const files = {}
  const walk = rel => {
    for (const e of fs.readdirSync(join(root, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory())
        walk(name)
      else
        files[name] = createHash('sha256').update(fs.readFileSync(join(root, name))).digest('hex')
    }
  }
  walk('')
  return files
}

// Is @got what the writer wrote, @want, as far as it goes?  ext4's
// data=ordered promise after a crash: never data that was not written
// there (another file's, or stale blocks), though a size that made it to
// the journal may run past the data that made it to the disk: there the
// file reads zeros (an append into an allocated block journals the new
// size at once; a block still unwritten reads zeros).
function writtenOrZero(got, want) {
  if (got.length > want.length)
    return false
  for (let k = 0; k < got.length; k++)
    if (got[k] !== want[k] && got[k] !== 0)
      return false
  return true
}

// What a user sees of the writer's work after recovery: the files
// created before the fsync are there (the fsync committed their
// creation), and each file and the log hold only what was written.
function checkWriterFiles(t, mnt, createdBeforeSync) {
  const w = join(mnt, 'w')
  const bad = []
  let present = 0
  let full = 0
  const names = new Set()
  for (const d of fs.readdirSync(w)) {
    if (d === 'append.log')
      continue
    for (const f of fs.readdirSync(join(w, d))) {
      const i = Number(f.slice(2))
      names.add(i)
      const got = fs.readFileSync(join(w, d, f))
      const want = content(i)
      if (!f.startsWith('f-') || d !== `d-${String(Math.floor(i / 100)).padStart(2, '0')}`)
        bad.push(`${d}/${f}: not a name the writer made`)
      else if (!writtenOrZero(got, want))
        bad.push(`${d}/${f}: ${got.length} bytes, not what was written (${want.length} bytes)`)
      present++
      if (got.equals(want))
        full++
    }
  }
  const missing = []
  for (let i = 0; i < createdBeforeSync; i++)
    if (!names.has(i))
      missing.push(i)
  t.same(missing, [], `the ${createdBeforeSync} files created before the fsync are all there`)
  t.same(bad, [], `each of the ${present} files holds what was written or zeros`)
  t.comment(`${present} of the writer's files survived, ${full} of them whole`)

  const log = fs.readFileSync(join(w, 'append.log'))
  let want = ''
  for (let i = 0; want.length < log.length; i++)
    want += logLine(i)
  t.ok(writtenOrZero(log, Buffer.from(want)),
    `append.log (${log.length} bytes) holds what was appended or zeros`)
}

async function main() {
  // Removed at the end, a mount left in it unmounted first.
  const dir = tempDir(t, 'lklfuse-crash-')
  const mnt = join(dir, 'mnt')
  const img = join(dir, 'crash.img')
  fs.mkdirSync(mnt)
  run('truncate', ['-s', '1G', img])
  run('mkfs.ext4', ['-q', '-F', img])

  let createdBeforeSync = 0
  let roSnapshot

  await t.test('SIGKILL during writes', async t => {
    const srv = await startServer(t, img, mnt)
    t.equal(srv.line, 'ready', 'mounted read-write', { stderr: srv.stderr() })
    if (srv.line !== 'ready')
      return

    const writer = spawn(process.execPath, ['-e', WRITER, join(mnt, 'w')],
      { stdio: ['ignore', 'pipe', 'pipe'] })
    let made = 0
    let writerErr = ''
    writer.stdout.on('data', d => {
      for (const n of d.toString().split('\n'))
        if (n)
          made = Number(n)
    })
    writer.stderr.on('data', d => (writerErr += d))
    const writerDone = new Promise(resolve => writer.on('close', resolve))
    const until = async (cond, ms) => {
      for (const end = Date.now() + ms; !cond() && Date.now() < end;)
        await new Promise(resolve => setTimeout(resolve, 20))
      return cond()
    }

    t.ok(await until(() => made >= 300, 60000), 'the writer is under way', { made, writerErr })
    createdBeforeSync = Math.min(made, MAX_FILES)
    const fd = fs.openSync(join(mnt, 'durable.bin'), 'w')
    fs.writeSync(fd, DURABLE)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    const dfd = fs.openSync(mnt, 'r')
    fs.fsyncSync(dfd)
    fs.closeSync(dfd)
    // Past ext4's 5 s commit interval, so that some of the writer's files
    // are in the journal without an fsync, and some are not.
    const afterSync = made
    const syncedAt = Date.now()
    t.ok(await until(() => made >= afterSync + 300 && Date.now() - syncedAt > 6000, 60000),
      'the writer goes on after the fsync', { made, afterSync, writerErr })

    srv.child.kill('SIGKILL')
    const r = await srv.exited
    t.equal(r.signal, 'SIGKILL', 'the server is killed')
    const w = await Promise.race([writerDone, new Promise(resolve => setTimeout(resolve, 20000, 'timeout'))])
    if (w === 'timeout')
      writer.kill('SIGKILL')
    // ENOTCONN or ECONNABORTED from a request the dead server cannot
    // answer; EIO from the host's writeback cache, when a step writes to a
    // page it holds, or closes a file whose pages it can no longer write.
    t.match(writerErr, /stopped after \d+ steps: (ENOTCONN|ECONNABORTED|EIO)/,
      'the writer gets an error from the dead mount and stops')
    t.comment(`killed after ${made} steps; ${createdBeforeSync} files before the fsync`)
    const u = tryRun('fusermount3', ['-u', '-z', mnt])
    t.equal(u.status, 0, 'fusermount3 -u -z clears the dead mount', { output: u.output })

    const sb = run('dumpe2fs', ['-h', img])
    t.match(sb, /^Filesystem features:.*\bneeds_recovery\b/m,
      'dumpe2fs -h: the image needs recovery')
  })

  await t.test('-o ro shows the recovered tree, the image stays as it is', async t => {
    const before = sha256(img)
    const log = join(dir, 'ro.log')
    const srv = await startServer(t, img, mnt, ['-o', `ro,log=${log}`])
    t.equal(srv.line, 'ready', 'mounted read-only', { stderr: srv.stderr() })
    if (srv.line !== 'ready')
      return
    t.ok(fs.readFileSync(join(mnt, 'durable.bin')).equals(DURABLE), 'the fsync\'d file is whole')
    checkWriterFiles(t, mnt, createdBeforeSync)
    roSnapshot = snapshot(mnt)
    t.throws(() => fs.writeFileSync(join(mnt, 'x'), 'x'), { code: 'EROFS' }, 'and read-only')
    const r = await stopServer(srv, mnt)
    t.equal(r.umount.status, 0, 'fusermount3 -u', { output: r.umount.output })
    t.equal(r.code, 0, 'the server exits 0',
      { stderr: srv.stderr(), heldBy: r.code === 'timeout' ? holders(mnt) : undefined })
    t.match(fs.readFileSync(log, 'utf8'),
      /EXT4-fs .*recovery required on readonly filesystem[^]*EXT4-fs .*recovery complete/,
      'the kernel log: the journal replayed, into the copy-on-write layer')
    t.equal(sha256(img), before, 'the image is unchanged (sha256)')
    t.match(run('dumpe2fs', ['-h', img]), /^Filesystem features:.*\bneeds_recovery\b/m,
      'it still needs recovery')
  })

  await t.test('a read-write mount replays the journal', async t => {
    const log = join(dir, 'rw.log')
    const srv = await startServer(t, img, mnt, ['-o', `log=${log}`])
    t.equal(srv.line, 'ready', 'mounted read-write', { stderr: srv.stderr() })
    if (srv.line !== 'ready')
      return
    t.match(fs.readFileSync(log, 'utf8'), /EXT4-fs.*recovery complete/, 'the kernel log: recovery complete')
    t.ok(fs.readFileSync(join(mnt, 'durable.bin')).equals(DURABLE), 'the fsync\'d file is whole')
    checkWriterFiles(t, mnt, createdBeforeSync)
    if (roSnapshot)
      t.same(snapshot(mnt), roSnapshot, 'the same files and contents as the read-only mount showed')
    // The filesystem goes on working after the recovery.
    fs.writeFileSync(join(mnt, 'after.txt'), 'after\n')
    fs.rmSync(join(mnt, 'w'), { recursive: true })
    const r = await stopServer(srv, mnt)
    t.equal(r.umount.status, 0, 'fusermount3 -u', { output: r.umount.output })
    t.equal(r.code, 0, 'the server exits 0',
      { stderr: srv.stderr(), heldBy: r.code === 'timeout' ? holders(mnt) : undefined })
    t.notMatch(run('dumpe2fs', ['-h', img]), /needs_recovery/, 'no longer needs recovery')
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
    t.equal(run('debugfs', ['-R', 'cat /after.txt', img]), 'after\n',
      'debugfs reads the file written after the recovery')
  })
}

const why = cannotRun()
if (why)
  t.plan(0, why)
else
  await main()
