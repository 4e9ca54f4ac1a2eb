// SPDX-License-Identifier: GPL-2.0
//
// lklfuse-server lets the host cache writes (FUSE_CAP_WRITEBACK_CACHE) on
// read-write mounts.  The host then reads a page before it fills part of
// it, even for a write-only descriptor, and writes back whole pages at
// offsets of its own, even for O_APPEND: the server opens write-only files
// read-write and drops O_APPEND (ops.c's open_flags()).  Here, on files
// an earlier mount wrote (none of their pages cached): partial pages
// written through write-only descriptors, O_APPEND from two descriptors
// at once, a write past the end, all checked through the mount, then
// after a remount (what the image holds), and by e2fsck.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { cannotRun, run, tryRun, whileServing } from './server.mjs'
import { tempDir } from '../helpers/tree.mjs'

t.setTimeout(5 * 60 * 1000)

const BASE = Buffer.alloc(3 * 4096 + 100, 'a')

function expected() {
  const w = Buffer.from(BASE)
  w.write('XY', 5000)
  w.write('Z', BASE.length - 1)
  const sparse = Buffer.alloc(70000)
  sparse.write('end', 69997)
  return { w, appended: 'zero\none\ntwo\nthree\nfour\n', sparse }
}

// Before: files on the image, so that the next mount has none of their
// pages in the host's cache.
function prepare(mnt) {
  fs.writeFileSync(join(mnt, 'w'), BASE)
  fs.writeFileSync(join(mnt, 'log'), 'zero\n')
}

function change(mnt) {
  // Write-only, into the middle of a page and at the last byte.
  let fd = fs.openSync(join(mnt, 'w'), fs.constants.O_WRONLY)
  fs.writeSync(fd, 'XY', 5000, 'latin1')
  fs.writeSync(fd, 'Z', BASE.length - 1, 'latin1')
  fs.closeSync(fd)
  // O_APPEND from two descriptors, interleaved.
  const a = fs.openSync(join(mnt, 'log'), 'a')
  const b = fs.openSync(join(mnt, 'log'), 'a')
  fs.writeSync(a, 'one\n')
  fs.writeSync(b, 'two\n')
  fs.writeSync(a, 'three\n')
  fs.writeSync(b, 'four\n')
  fs.closeSync(a)
  fs.closeSync(b)
  // Write-only, past the end of an empty file.
  fd = fs.openSync(join(mnt, 'sparse'), fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644)
  fs.writeSync(fd, 'end', 69997, 'latin1')
  fs.closeSync(fd)
}

function check(t, mnt, when) {
  const e = expected()
  t.ok(fs.readFileSync(join(mnt, 'w')).equals(e.w), `${when}: partial pages written write-only`)
  t.equal(fs.readFileSync(join(mnt, 'log'), 'utf8'), e.appended, `${when}: O_APPEND from two descriptors`)
  t.ok(fs.readFileSync(join(mnt, 'sparse')).equals(e.sparse), `${when}: a write past the end`)
}

async function main() {
  const dir = tempDir(t, 'lklfuse-writeback-')
  const mnt = join(dir, 'mnt')
  const img = join(dir, 'wb.img')
  fs.mkdirSync(mnt)
  run('truncate', ['-s', '32M', img])
  run('mkfs.ext4', ['-q', '-F', img])

  await t.test('files to change', async t => {
    await whileServing(t, img, mnt, () => prepare(mnt))
  })

  await t.test('writes through the host cache', async t => {
    const served = await whileServing(t, img, mnt, () => {
      change(mnt)
      check(t, mnt, 'mounted')
    })
    if (!served)
      return
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds the image clean', { output: fsck.output })
  })

  await t.test('what the image holds', async t => {
    await whileServing(t, img, mnt, () => check(t, mnt, 'remounted'),
      { args: ['-o', 'ro'], ready: 'mounted again, read-only' })
  })
}

const why = cannotRun()
if (why)
  t.plan(0, why)
else
  await main()
