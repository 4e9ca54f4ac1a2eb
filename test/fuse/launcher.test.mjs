// SPDX-License-Identifier: GPL-2.0
//
// The launcher, lklfuse-server itself (native/fuse/launch.c), as a user
// meets it through `lkl lklfuse` (src/commands/lklfuse.ts) and the
// classic `lklfuse` (bin/lklfuse, no Node): in the background it returns
// 0 only once the mount serves; an error before then is exit status 1
// and one line naming the file and the cause, the same from both
// commands; a stop signal before then stops the mount for good; in the
// foreground (-f) SIGTERM and SIGINT, even a Ctrl-C pressed again and
// again, end it cleanly, the image written back; the classic command
// line takes its options anywhere and a relative mount point, and its
// remount (mount.fuse3's) changes the mount's flags.  After every write,
// e2fsck must find the image clean.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { join } from 'node:path'
import {
  LKL, ROOT, cannotRun, cleanUp, mountLine, openers, released, run, sha256, tryRun,
} from './server.mjs'
import { pattern, tempDir } from '../helpers/tree.mjs'

t.setTimeout(5 * 60 * 1000)

const NODE = process.execPath

// tap's plugins add themselves to every child's NODE_OPTIONS.
const CLEAN = ['-u', 'NODE_OPTIONS']

/** node bin/lkl ARGS, to its end: { status, stdout, stderr }. */
function lkl(args, options = {}) {
  const r = spawnSync('env', [...CLEAN, NODE, LKL, ...args], { encoding: 'utf8', ...options })
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

function e2fsck(t, image) {
  const r = tryRun('e2fsck', ['-fn', image])
  t.equal(r.status, 0, 'e2fsck -fn finds the image clean', { output: r.output })
}

// The classic command as npm installs it: a link in a bin directory on
// PATH (made in main()), run by a shell or mount.fuse3, without Node.
let classicBin

/** `lklfuse ARGS`, found on PATH, to its end: { status, stdout, stderr }. */
function classic(args, options = {}) {
  const env = { ...process.env, PATH: `${classicBin}:${process.env.PATH}` }
  const r = spawnSync('env', [...CLEAN, 'lklfuse', ...args], { encoding: 'utf8', env, ...options })
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

/** `lklfuse ARGS` or `lkl lklfuse ARGS` as a child: { child, exited, output() }. */
function started(how, args) {
  const env = { ...process.env, PATH: `${classicBin}:${process.env.PATH}` }
  const argv = how === 'lklfuse' ? ['lklfuse', ...args] : [NODE, LKL, 'lklfuse', ...args]
  const child = spawn('env', [...CLEAN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let output = ''
  child.stdout.on('data', d => (output += d))
  child.stderr.on('data', d => (output += d))
  const exited = new Promise(resolve =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )
  return { child, exited, output: () => output }
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

/** Waits until @mnt is mounted and answers; false after @timeoutMs. */
async function serving(mnt, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (mountLine(mnt)) {
      try {
        fs.statSync(join(mnt, 'hello.txt'))
        return true
      } catch {}
    }
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  return false
}

/** `lkl lklfuse -f IMAGE MNT` as a child: { child, exited, output() }. */
function foreground(image, mnt, options = {}) {
  const child = spawn('env', [...CLEAN, NODE, LKL, 'lklfuse', '-f', image, mnt], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  })
  let output = ''
  child.stdout.on('data', d => (output += d))
  child.stderr.on('data', d => (output += d))
  const exited = new Promise(resolve =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )
  return { child, exited, output: () => output }
}

/** The child's end, or { code: 'timeout' } after @timeoutMs. */
async function end(exited, timeoutMs = 60000) {
  let timer
  const timeout = new Promise(resolve => {
    timer = setTimeout(() => resolve({ code: 'timeout' }), timeoutMs)
  })
  const r = await Promise.race([exited, timeout])
  clearTimeout(timer)
  return r
}

/** Mount @image read-only in the background and check @files' contents. */
async function persisted(t, image, mnt, files) {
  const r = lkl(['lklfuse', '-o', 'ro', image, mnt])
  t.equal(r.status, 0, 'remounted read-only', { stderr: r.stderr })
  if (r.status !== 0)
    return
  for (const [name, data] of Object.entries(files))
    t.ok(fs.readFileSync(join(mnt, name)).equals(data), `${name} has what was written`)
  t.equal(tryRun('fusermount3', ['-u', mnt]).status, 0, 'fusermount3 -u')
  t.ok(await released(image), 'the server exits')
}

async function main() {
  const dir = tempDir(t, 'lklfuse-launcher-')
  const mnt = join(dir, 'mnt')
  const tree = join(dir, 'tree')
  const image = join(dir, 'test.img')
  // Before the directory goes: the server ends, writing the image back.
  t.teardown(() => cleanUp(mnt, image))
  fs.mkdirSync(mnt)
  fs.mkdirSync(join(tree, 'dir'), { recursive: true })
  fs.writeFileSync(join(tree, 'hello.txt'), 'Hello, world!\n')
  fs.writeFileSync(join(tree, 'dir', 'a.txt'), 'a is for apple\n')
  run('truncate', ['-s', '64M', image])
  run('mkfs.ext4', ['-q', '-F', '-d', tree, image])
  classicBin = join(dir, 'bin')
  fs.mkdirSync(classicBin)
  fs.symlinkSync(join(ROOT, 'bin', 'lklfuse'), join(classicBin, 'lklfuse'))

  await t.test('lkl lklfuse IMAGE MNT returns 0 once the mount serves, and leaves it serving', async t => {
    t.teardown(() => cleanUp(mnt, image))
    const written = {}
    for (let i = 0; i < 3; i++) {
      const r = lkl(['lklfuse', image, mnt])
      t.equal(r.status, 0, `mount ${i + 1}: exit status 0`, { stderr: r.stderr })
      t.equal(r.stdout + r.stderr, '', 'nothing said')
      // At once, no waiting: the mount must already serve.
      let st
      try {
        st = fs.statSync(join(mnt, 'hello.txt'))
      } catch (e) {
        t.fail(`a stat right after the launcher returned: ${e.code}`)
        return
      }
      t.equal(st.size, 14, 'a stat inside works right after it returns')
      t.equal(fs.readFileSync(join(mnt, 'dir', 'a.txt'), 'utf8'), 'a is for apple\n', 'and a read')
      t.match(mountLine(mnt), new RegExp(`^${image} ${mnt} fuse\\.ext4 rw,`), 'in /proc/mounts')
      t.equal(openers(image).length, 1, 'one server holds the image, the launcher gone')
      for (const [name, data] of Object.entries(written))
        t.ok(fs.readFileSync(join(mnt, name)).equals(data), `${name}, from an earlier mount`)
      const name = `file-${i}`
      written[name] = pattern(1000000 + i, i)
      fs.writeFileSync(join(mnt, name), written[name])
      const u = tryRun('fusermount3', ['-u', mnt])
      t.equal(u.status, 0, 'fusermount3 -u', { output: u.output })
      t.ok(await released(image), 'the server writes the image back and exits')
      e2fsck(t, image)
    }
  })

  await t.test('an error before the mount is ready: exit status 1, one line naming the file and the cause', async t => {
    t.teardown(() => cleanUp(mnt, image))
    const before = sha256(image)
    const missing = join(dir, 'missing.img')
    const nodir = join(dir, 'no-such-dir')
    const cases = [
      { args: [missing, mnt], want: `^lkl: cannot open ${missing}: no such file or directory$` },
      {
        args: [image, mnt, '-o', 'type=xfs'],
        want: `^lkl: ${image}: cannot mount as xfs: not that filesystem.*Invalid superblock magic number`,
      },
      {
        args: [image, mnt, '-o', 'type=nosuchfs'],
        want: `^lkl: ${image}: cannot mount as nosuchfs: the kernel has no such filesystem type$`,
      },
      { args: [image, nodir], want: `^lkl: cannot mount on ${nodir}: no such directory$` },
      // In the foreground the server's stderr is the launcher's: still once.
      { args: ['-f', missing, mnt], want: `^lkl: cannot open ${missing}: no such file or directory$` },
      {
        args: ['-f', image, mnt, '-o', 'type=xfs'],
        want: `^lklfuse-server: ${image}: cannot mount as xfs: not that filesystem.*Invalid superblock magic number`,
      },
    ]
    for (const c of cases) {
      const r = lkl(['lklfuse', ...c.args])
      const lines = r.stderr.split('\n').filter(l => l !== '')
      t.equal(r.status, 1, `lkl lklfuse ${c.args.join(' ')}: exit status 1`)
      t.equal(lines.length, 1, 'one line on stderr', { stderr: r.stderr })
      t.match(lines[0], new RegExp(c.want), 'naming the file and the cause')
      t.equal(r.stdout, '', 'nothing on stdout')
      t.equal(mountLine(mnt), undefined, 'nothing mounted')
      t.ok(await released(image, 10000), 'no server left')
    }
    t.equal(sha256(image), before, 'the image is unchanged')
  })

  await t.test('lklfuse and lkl lklfuse: the same status and the same words', async t => {
    t.teardown(() => cleanUp(mnt, image))
    const before = sha256(image)
    const cases = [
      [join(dir, 'missing.img'), mnt],
      [image, join(dir, 'no-such-dir')],
      [image, image],
      [image, mnt, '-o', 'type=nosuchfs'],
      [image, mnt, '-o', 'uid=abc'],
      [image, mnt, '-o', 'part=abc'],
      ['-f', image, mnt, '-o', 'type=xfs'],
    ]
    for (const args of cases) {
      const a = classic(args)
      const b = lkl(['lklfuse', ...args])
      t.equal(a.status, 1, `lklfuse ${args.join(' ')}: exit status 1`)
      t.same(b, a, 'lkl lklfuse: the same status and output')
      t.equal(a.stderr.split('\n').filter(l => l !== '').length, 1, 'one line', { stderr: a.stderr })
      t.equal(mountLine(mnt), undefined, 'nothing mounted')
      t.ok(await released(image, 10000), 'no server left')
    }
    t.equal(sha256(image), before, 'the image is unchanged')
  })

  await t.test('a stop signal while the mount waits for the image: stopped, and no mount appears later', async t => {
    const waiting = join(dir, 'waiting')
    fs.mkdirSync(waiting, { recursive: true })
    t.teardown(async () => {
      await cleanUp(waiting, image)
      await cleanUp(mnt, image)
    })
    const numbers = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }
    for (const [how, sig] of [['lklfuse', 'SIGTERM'], ['lklfuse', 'SIGHUP'], ['lkl lklfuse', 'SIGINT']]) {
      // The image in use, read-write: -o wait_lock waits for its end.
      const held = lkl(['lklfuse', image, mnt])
      t.equal(held.status, 0, 'the image is mounted read-write', { stderr: held.stderr })
      if (held.status !== 0)
        return
      const w = started(how, ['-o', 'wait_lock', image, waiting])
      await sleep(1500)
      t.equal(w.child.exitCode, null, `${how} -o wait_lock waits`)
      w.child.kill(sig)
      const r = await end(w.exited)
      t.same(r, { code: 128 + numbers[sig], signal: null }, `${sig}: exit status 128 + ${numbers[sig]}`)
      t.equal(w.output(), `lkl: stopped by ${sig} before ${waiting} was mounted\n`, 'one line saying so')
      // Were its server still there, the image would be its now.
      t.equal(tryRun('fusermount3', ['-u', mnt]).status, 0, 'the image is let go of')
      t.ok(await released(image), 'its server exits')
      await sleep(500)
      t.equal(mountLine(waiting), undefined, 'and no mount appears')
      t.same(openers(image), [], 'nothing holds the image')
      e2fsck(t, image)
    }
  })

  await t.test('the classic command line: options first, a relative mount point', async t => {
    t.teardown(() => cleanUp(mnt, image))
    const r = classic(['-o', 'ro', 'test.img', 'mnt'], { cwd: dir })
    t.equal(r.status, 0, 'lklfuse -o ro test.img mnt: exit status 0', { stderr: r.stderr })
    t.equal(r.stdout + r.stderr, '', 'nothing said')
    t.match(mountLine(mnt), new RegExp(`^${image} ${mnt} fuse\\.ext4 ro,`), 'mounted read-only')
    if (!mountLine(mnt))
      return
    t.equal(fs.readFileSync(join(mnt, 'hello.txt'), 'utf8'), 'Hello, world!\n', 'serving')
    // What ps shows, and lkl unmount looks for: the image, the absolute
    // mount point, under the server's name.
    const [server] = openers(image)
    const argv = fs.readFileSync(`/proc/${server}/cmdline`, 'utf8').split('\0')
    t.same(argv.slice(1, 3), ['test.img', mnt], 'the server runs on the image and the absolute mount point')
    t.equal(fs.readFileSync(`/proc/${server}/comm`, 'utf8'), 'lklfuse-server\n', 'as lklfuse-server')
    const u = lkl(['unmount', 'mnt'], { cwd: dir })
    t.equal(u.status, 0, 'lkl unmount mnt', { stderr: u.stderr })
    t.same(openers(image), [], 'the server is gone when it returns')
  })

  await t.test('remount, as mount.fuse3 runs lklfuse for mount -o remount: the flags change, no second server', async t => {
    t.teardown(() => cleanUp(mnt, image))
    const up = classic([image, mnt])
    t.equal(up.status, 0, 'mounted read-write', { stderr: up.stderr })
    if (up.status !== 0)
      return
    const [server] = openers(image)
    const ro = classic([image, mnt, '-o', 'ro,remount'])
    t.equal(ro.status, 0, 'lklfuse IMAGE MNT -o ro,remount: exit status 0', { stderr: ro.stderr })
    t.equal(ro.stdout + ro.stderr, '', 'nothing said')
    t.match(mountLine(mnt), / ro,/, 'the mount is read-only')
    t.throws(() => fs.writeFileSync(join(mnt, 'refused'), 'no\n'), { code: 'EROFS' }, 'a write is refused')
    const rw = classic([image, mnt, '-o', 'rw,remount'])
    t.equal(rw.status, 0, 'and -o rw,remount', { stderr: rw.stderr })
    t.match(mountLine(mnt), / rw,/, 'read-write again')
    fs.writeFileSync(join(mnt, 'remounted'), 'yes\n')
    t.same(openers(image), [server], 'the one server serves it all along')
    const other = join(dir, 'tree')
    const bad = classic([image, other, '-o', 'ro,remount'])
    t.equal(bad.status, 1, 'remount of a directory that is no mount: exit status 1')
    t.match(bad.stderr, new RegExp(`^lkl: cannot remount ${other}: [^\\n]+\\n$`), 'one line says why')
    t.equal(lkl(['unmount', mnt]).status, 0, 'unmounted')
    e2fsck(t, image)
    t.match(run('debugfs', ['-R', 'ls /', image]), /remounted/, 'what was written after the remount is there')
  })

  for (const sig of ['SIGTERM', 'SIGINT']) {
    await t.test(`${sig} to lkl lklfuse -f: exit status 0, unmounted, the image clean with its data`, async t => {
      t.teardown(() => cleanUp(mnt, image))
      const fg = foreground(image, mnt)
      t.ok(await serving(mnt), 'the mount serves', { output: fg.output() })
      const data = pattern(4 * 1024 * 1024 + 5, sig.length)
      fs.writeFileSync(join(mnt, `by-${sig}`), data)
      fs.writeFileSync(join(mnt, `log-${sig}`), 'one\n')
      fs.appendFileSync(join(mnt, `log-${sig}`), 'two\n')
      fg.child.kill(sig)
      const r = await end(fg.exited)
      t.same(r, { code: 0, signal: null }, `exit status 0 after ${sig}`, { output: fg.output() })
      t.equal(fg.output(), '', 'nothing said')
      t.equal(mountLine(mnt), undefined, 'the mount is gone from /proc/mounts')
      t.same(openers(image), [], 'nothing holds the image any more')
      e2fsck(t, image)
      await persisted(t, image, mnt, {
        [`by-${sig}`]: data,
        [`log-${sig}`]: Buffer.from('one\ntwo\n'),
      })
    })
  }

  await t.test('Ctrl-C pressed again and again in the foreground: exit status 0, the image clean with its data', async t => {
    t.teardown(() => cleanUp(mnt, image))
    // A process group of its own, as a terminal's foreground job: each
    // SIGINT reaches the launcher and the server, and the launcher passes
    // it on too.  The server must finish writing the image back however
    // many come while it does; its exit status is the launcher's.  Beside
    // them, a shell sends the server SIGINTs as fast as it can until it is
    // gone: a moment without a handler, a few instructions long, once let
    // one kill it before the write-back, in about one run in ten.
    const fg = foreground(image, mnt, { detached: true })
    t.ok(await serving(mnt), 'the mount serves', { output: fg.output() })
    const [server] = openers(image)
    const data = pattern(24 * 1024 * 1024 + 3, 5)
    fs.writeFileSync(join(mnt, 'ctrl-c.bin'), data)
    const rapid = spawn('sh', ['-c', 'n=0; while kill -INT "$1" 2>/dev/null; do n=$((n+1)); done; echo $n',
      'sh', String(server)], { stdio: ['ignore', 'pipe', 'ignore'] })
    let rapidSent = ''
    rapid.stdout.on('data', d => (rapidSent += d))
    const rapidDone = new Promise(resolve => rapid.on('close', resolve))
    let sent = 0
    const flood = setInterval(() => {
      try {
        if (!/^\d+ \(.*\) [^Z]/.test(fs.readFileSync(`/proc/${server}/stat`, 'utf8')))
          throw new Error('the server has exited')
        process.kill(-fg.child.pid, 'SIGINT')
        sent++
      } catch {
        clearInterval(flood)
      }
    }, 2)
    const r = await end(fg.exited)
    clearInterval(flood)
    if ((await end(rapidDone, 10000))?.code === 'timeout')
      rapid.kill()
    t.ok(sent > 1, `SIGINT sent ${sent} times to the group`)
    t.ok(Number(rapidSent) > 1, `and ${Number(rapidSent)} times to the server alone`)
    t.same(r, { code: 0, signal: null }, 'exit status 0', { output: fg.output() })
    t.equal(mountLine(mnt), undefined, 'the mount is gone from /proc/mounts')
    t.same(openers(image), [], 'nothing holds the image any more')
    e2fsck(t, image)
    await persisted(t, image, mnt, { 'ctrl-c.bin': data })
  })

  await t.test('lkl unmount MNT returns once the image is written back', async t => {
    t.teardown(() => cleanUp(mnt, image))
    const r = lkl(['lklfuse', image, mnt])
    t.equal(r.status, 0, 'mounted', { stderr: r.stderr })
    if (r.status !== 0)
      return
    // Enough to take the server a moment to write back after the unmount
    // (and to fit beside what the tests above left in the 64 MiB image).
    const big = pattern(16 * 1024 * 1024, 3)
    fs.writeFileSync(join(mnt, 'big.bin'), big)
    for (let i = 0; i < 200; i++)
      fs.writeFileSync(join(mnt, `small-${i}`), `small ${i}\n`)
    const u = lkl(['unmount', mnt])
    t.equal(u.status, 0, 'lkl unmount: exit status 0', { stderr: u.stderr })
    t.equal(u.stdout + u.stderr, '', 'nothing said')
    // At once, no waiting: nothing may hold the image any more.
    t.same(openers(image), [], 'no process has the image open when it returns')
    t.notOk(mountLine(mnt), 'unmounted')
    e2fsck(t, image)
    await persisted(t, image, mnt, { 'big.bin': big, 'small-199': Buffer.from('small 199\n') })
    const again = lkl(['unmount', mnt])
    t.equal(again.status, 1, 'lkl unmount of what is not mounted: status 1')
    t.match(again.stderr, /^lkl: cannot unmount .*mnt: [^\n]+\n$/, 'one line naming it and the cause')
  })

  await t.test('-o uid=, gid=, umask=: what every file shows, as in libfuse; the image unchanged', async t => {
    t.teardown(() => cleanUp(mnt, image))
    const r = lkl(['lklfuse', image, mnt, '-o', 'uid=4321,gid=8765,umask=027'])
    t.equal(r.status, 0, 'mounted', { stderr: r.stderr })
    if (r.status !== 0)
      return
    const shown = name => {
      const st = fs.lstatSync(join(mnt, name))
      return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? 'dir' : 'file'}`
    }
    t.equal(shown('.'), '4321:8765 750 dir', 'the root')
    t.equal(shown('hello.txt'), '4321:8765 750 file', 'a file (0644 in the image)')
    fs.writeFileSync(join(mnt, 'made'), 'x\n', { mode: 0o600 })
    t.equal(shown('made'), '4321:8765 750 file', 'a new file')
    t.equal(lkl(['unmount', mnt]).status, 0, 'unmounted')
    const stat = run('debugfs', ['-R', 'stat /hello.txt', image])
    t.match(stat, /User:\s+0\s+Group:\s+0\s+Project:.*Size: 14/s, 'the image keeps its owner')
    t.match(stat, /Mode:\s+0644/, 'and its mode')
    t.match(run('debugfs', ['-R', 'stat /made', image]), /Mode:\s+0600/,
      'the new file has the mode it was made with')
    for (const [opt, line] of [
      ['uid=abc', /^lkl: uid=abc: not a user ID\n$/],
      ['gid=-1', /^lkl: gid=-1: not a group ID\n$/],
      ['umask=999', /^lkl: umask=999: not an octal mask up to 777\n$/],
    ]) {
      const bad = lkl(['lklfuse', image, mnt, '-o', opt])
      t.equal(bad.status, 1, `-o ${opt}: exit status 1`)
      t.match(bad.stderr, line, 'one line naming the option')
    }
    e2fsck(t, image)
  })

  await t.test('the lklfuse command of package.json: lklfuse IMAGE MNT -o type=ext4', async t => {
    t.teardown(() => cleanUp(mnt, image))
    const pkg = JSON.parse(fs.readFileSync(join(ROOT, 'package.json'), 'utf8'))
    t.equal(pkg.bin?.lklfuse, 'bin/lklfuse', 'package.json names bin/lklfuse')
    const target = join(ROOT, pkg.bin?.lklfuse ?? 'bin/lklfuse')
    t.doesNotThrow(() => fs.accessSync(target, fs.constants.X_OK), 'executable')
    // As npm installs it: a symlink in a bin directory on PATH.
    t.equal(fs.realpathSync(join(classicBin, 'lklfuse')), fs.realpathSync(target), 'linked from a bin directory')
    const r = classic([image, mnt, '-o', 'type=ext4'])
    t.equal(r.status, 0, 'exit status 0', { stderr: r.stderr })
    t.equal(`${r.stdout}${r.stderr}`, '', 'nothing said')
    t.match(mountLine(mnt), new RegExp(`^${image} ${mnt} fuse\\.ext4 rw,`), 'mounted as ext4')
    if (!mountLine(mnt))
      return
    t.equal(fs.readFileSync(join(mnt, 'hello.txt'), 'utf8').split('\n')[0], 'Hello, world!',
      'serving')
    fs.writeFileSync(join(mnt, 'classic'), 'classic\n')
    t.equal(tryRun('fusermount3', ['-u', mnt]).status, 0, 'fusermount3 -u')
    t.ok(await released(image), 'the server exits')
    e2fsck(t, image)
    const bad = classic([image, mnt, '-o', 'type=btrfs'])
    t.equal(bad.status, 1, 'a wrong -o type=: exit status 1')
    t.match(bad.stderr, new RegExp(`^lkl: ${image}: cannot mount as btrfs: [^\\n]*\\n$`),
      'one line naming the file and the cause')
    await persisted(t, image, mnt, { classic: Buffer.from('classic\n') })
  })
}

const why = cannotRun()
if (why)
  t.plan(0, why)
else
  await main()
