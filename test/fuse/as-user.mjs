// SPDX-License-Identifier: GPL-2.0
//
// users.test.mjs runs this as a non-root user (runuser):
//
//   node as-user.mjs OP JSON
//
// It does OP through plain node:fs (and python3 or setfattr for what
// node:fs lacks) on a mounted tree, as that user, and prints one JSON
// object on stdout, { checks, results, error }, for the test to assert:
// each check is { name, ok } or { name, found, wanted }.  Not a test
// file itself: it has no tap of its own.
//
//   compare { src, mnt, options, expect } compareTrees as the user sees
//           it: the differences must be @expect's (default none)
//   change  { mnt, posix, xattr, uid } the changes a user makes
//   verify  { mnt, tree, posix, xattr, uid }
//   try     { steps: [[what, path]] } each step's outcome: "ok" or its
//           error code, and what it read (readdir, read)
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { pattern } from '../helpers/tree.mjs'
import { compareTrees } from './server.mjs'

const checks = []
const results = []
const t = {
  ok: (ok, name, diag) => checks.push({ name, ok: Boolean(ok), ...(diag ? { diag } : {}) }),
  equal: (found, wanted, name) => checks.push({ name, found, wanted }),
  same: (found, wanted, name) => checks.push({ name, found, wanted }),
  throws: (fn, code, name) => {
    try {
      fn()
      checks.push({ name, found: 'no error', wanted: code })
    } catch (e) {
      checks.push({ name, found: e.code ?? String(e), wanted: code })
    }
  },
}

const BIG = pattern(3 * 1024 * 1024 + 123, 7)

// renameat2(2) with flags, as python3 ctypes can call it.
const RENAMEAT2 = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), int(sys.argv[3]))
print(os.strerror(ctypes.get_errno()) if r else 'ok')
`

function tool(cmd, ...args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return { status: r.status, output: `${r.error ?? ''}${r.stdout}${r.stderr}`, stdout: r.stdout }
}

function change({ mnt, posix, xattr, uid }) {
  const p = (...names) => join(mnt, ...names)

  fs.mkdirSync(p('work'), { mode: 0o750 })
  fs.writeFileSync(p('work', 'small.txt'), 'hello\n')
  fs.appendFileSync(p('work', 'small.txt'), 'more\n')
  fs.writeFileSync(p('work', 'big.bin'), BIG)
  t.ok(fs.readFileSync(p('work', 'big.bin')).equals(BIG), 'a 3 MiB file reads back')

  fs.writeFileSync(p('work', 'trunc.bin'), pattern(10000, 1))
  fs.truncateSync(p('work', 'trunc.bin'), 100)
  fs.truncateSync(p('work', 'trunc.bin'), 5000)

  fs.renameSync(p('hello.txt'), p('work', 'renamed.txt'))
  fs.writeFileSync(p('work', 'victim'), 'to be replaced\n')
  fs.renameSync(p('odd-size.bin'), p('work', 'victim'))

  fs.writeFileSync(p('work', 'x'), 'x\n')
  fs.writeFileSync(p('work', 'y'), 'y\n')
  t.equal(tool('python3', '-c', RENAMEAT2, p('work', 'x'), p('work', 'y'), '2').output.trim(),
    'ok', 'renameat2 RENAME_EXCHANGE succeeds')
  t.equal(tool('python3', '-c', RENAMEAT2, p('work', 'x'), p('work', 'y'), '1').output.trim(),
    'File exists', 'RENAME_NOREPLACE onto a name fails with EEXIST')

  fs.mkdirSync(p('work', 'tmpdir'))
  fs.writeFileSync(p('work', 'tmpdir', 'f'), 'f\n')
  t.throws(() => fs.rmdirSync(p('work', 'tmpdir')), 'ENOTEMPTY', 'rmdir of a full directory')
  fs.unlinkSync(p('work', 'tmpdir', 'f'))
  fs.rmdirSync(p('work', 'tmpdir'))
  fs.rmSync(p('dir', 'sub'), { recursive: true })
  fs.unlinkSync(p('empty'))

  if (posix) {
    fs.linkSync(p('work', 'small.txt'), p('work', 'small-link'))
    fs.symlinkSync('small.txt', p('work', 'sym'))
    fs.chmodSync(p('work', 'small.txt'), 0o604)
    t.equal(fs.statSync(p('work', 'small.txt')).uid, uid, 'a new file belongs to its maker')
  }
  if (xattr) {
    const set = (...args) => tool('setfattr', ...args)
    t.equal(set('-n', 'user.color', '-v', 'blue', p('work', 'small.txt')).status, 0,
      'setfattr user.color')
    t.equal(set('-n', 'user.gone', '-v', 'soon', p('work', 'small.txt')).status, 0,
      'setfattr user.gone')
    t.equal(set('-x', 'user.gone', p('work', 'small.txt')).status, 0, 'setfattr -x user.gone')
    t.equal(set('-n', 'user.dir', '-v', 'yes', p('work')).status, 0, 'an xattr on a directory')
  }
}

function verify({ mnt, tree, posix, xattr, uid }) {
  const p = (...names) => join(mnt, ...names)
  const st = name => fs.lstatSync(p(...name.split('/')))
  const exists = name => fs.existsSync(p(...name.split('/')))

  t.equal(fs.readFileSync(p('work', 'small.txt'), 'utf8'), 'hello\nmore\n', 'write + append')
  t.ok(fs.readFileSync(p('work', 'big.bin')).equals(BIG), 'the 3 MiB file')
  const trunc = fs.readFileSync(p('work', 'trunc.bin'))
  t.ok(trunc.length === 5000 && trunc.subarray(0, 100).equals(pattern(100, 1)) &&
    trunc.subarray(100).equals(Buffer.alloc(4900)), 'truncate down, then up with zeros')
  t.equal(fs.readFileSync(p('work', 'renamed.txt'), 'utf8'), 'Hello, world!\n', 'rename')
  t.equal(exists('hello.txt'), false, 'the old name is gone')
  if (tree)
    t.ok(fs.readFileSync(p('work', 'victim')).equals(fs.readFileSync(join(tree, 'odd-size.bin'))),
      'rename over an existing file')
  t.equal(exists('odd-size.bin'), false, 'the renamed file left its name')
  t.equal(fs.readFileSync(p('work', 'x'), 'utf8'), 'y\n', 'exchanged: x has y')
  t.equal(fs.readFileSync(p('work', 'y'), 'utf8'), 'x\n', 'exchanged: y has x')
  t.equal(exists('work/tmpdir'), false, 'rmdir')
  t.equal(exists('dir/sub'), false, 'recursive removal')
  t.equal(exists('empty'), false, 'unlink')
  t.ok(fs.readdirSync(p('dir')).includes('a.txt'), 'the rest of dir/ stays')
  t.same(fs.readdirSync(p('work')).sort(), [
    'big.bin', 'renamed.txt', 'small.txt', 'trunc.bin', 'victim', 'x', 'y',
    ...posix ? ['small-link', 'sym'] : [],
  ].sort(), 'work/ has what was made there, nothing more')

  if (posix) {
    t.equal(st('work/small-link').ino, st('work/small.txt').ino, 'hard link: one inode')
    t.equal(st('work/small.txt').nlink, 2, 'hard link: nlink 2')
    t.equal(fs.readlinkSync(p('work', 'sym')), 'small.txt', 'symlink')
    t.equal(fs.readFileSync(p('work', 'sym'), 'utf8'), 'hello\nmore\n', 'through the symlink')
    t.equal(st('work').mode & 0o7777, 0o750, 'mkdir mode')
    t.equal(st('work/small.txt').mode & 0o7777, 0o604, 'chmod')
    t.equal(`${st('work').uid} ${st('work/big.bin').uid} ${st('work/sym').uid}`,
      `${uid} ${uid} ${uid}`, 'what the user made is the user\'s (directory, file, symlink)')
  } else {
    // No owners in the filesystem (vfat): all of it is the mounter's.
    t.equal(`${st('.').uid} ${st('dir').uid} ${st('dir/a.txt').uid} ${st('work/big.bin').uid}`,
      `${uid} ${uid} ${uid} ${uid}`, 'without owners in the filesystem, all is the user\'s')
  }
  if (xattr) {
    const get = (...args) => tool('getfattr', ...args)
    t.equal(get('--only-values', '-n', 'user.color', p('work', 'small.txt')).stdout, 'blue',
      'getxattr')
    const list = get('-d', '-m', '-', p('work', 'small.txt')).stdout
    t.ok(/user\.color="blue"/.test(list), 'listxattr lists user.color', { list })
    t.ok(!/user\.gone/.test(list), 'removexattr', { list })
    t.equal(get('--only-values', '-n', 'user.dir', p('work')).stdout, 'yes', 'xattr on the directory')
  }
}

// Each step: "ok" or the error's code, and for readdir/read what came.
function attempt({ steps }) {
  for (const [what, path] of steps) {
    try {
      let value
      if (what === 'readdir')
        value = fs.readdirSync(path).sort()
      else if (what === 'stat')
        fs.statSync(path)
      else if (what === 'read')
        value = fs.readFileSync(path, 'utf8')
      else if (what === 'create')
        fs.writeFileSync(path, 'by another user\n', { flag: 'wx' })
      else if (what === 'append')
        fs.appendFileSync(path, 'by another user\n')
      else if (what === 'unlink')
        fs.unlinkSync(path)
      else if (what === 'mkdir')
        fs.mkdirSync(path)
      else
        throw new Error(`unknown step ${what}`)
      results.push({ what, path, code: 'ok', value })
    } catch (e) {
      results.push({ what, path, code: e.code ?? String(e) })
    }
  }
}

const [op, json] = process.argv.slice(2)
let error = null
try {
  const args = JSON.parse(json)
  if (op === 'compare') {
    const options = { ...args.options }
    if (options.mtimeGranNs !== undefined)
      options.mtimeGranNs = BigInt(options.mtimeGranNs)
    const diffs = compareTrees(args.src, args.mnt, options)
    t.same(diffs, args.expect ?? [], 'the mounted tree matches its source')
  } else if (op === 'change') {
    change(args)
  } else if (op === 'verify') {
    verify(args)
  } else if (op === 'try') {
    attempt(args)
  } else {
    throw new Error(`unknown operation ${op}`)
  }
} catch (e) {
  error = e.stack ?? String(e)
}
process.stdout.write(JSON.stringify({ checks, results, error }))
