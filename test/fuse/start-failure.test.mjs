// SPDX-License-Identifier: GPL-2.0
//
// A mount that cannot start for a reason outside lkl says so in lkl's
// words, with what to do (native/fuse/start_failure.c), whichever command
// started it: here /dev/fuse is missing, in a mount namespace of its own
// whose /dev is a fresh tmpfs (as in a container run without --device
// /dev/fuse).  No server is left, and the image is clean (the kernel
// mounts it before FUSE: read-write, that mount alone writes to it; read-
// only, not a byte changes).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { LKL, ROOT, cannotRun, ext4Scratch, openers, sha256, tryRun } from './server.mjs'

t.setTimeout(3 * 60 * 1000)

// Runs "$@" with a /dev of a null, a zero and a urandom device only.
const NO_FUSE = 'mount -t tmpfs -o mode=0755 lkl-test /dev && ' +
  'mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 && mknod -m 666 /dev/urandom c 1 9 && ' +
  'exec env -u NODE_OPTIONS "$@"'

/** @argv run without /dev/fuse: { status, stdout, stderr }. */
function withoutFuse(argv) {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', NO_FUSE, 'sh', ...argv],
    { encoding: 'utf8', timeout: 60000 })
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

const ADVICE = 'lkl: in a container, pass the device in: --device /dev/fuse (podman run, docker run); ' +
  'on a host, load the module: modprobe fuse; lkl fs2tar, cptofs and cpfromfs need none of this\n'

const why = cannotRun() ?? (process.getuid() !== 0 ? 'needs root, for a mount namespace' : undefined)
if (why) {
  t.skip(why)
} else {
  const { mnt, img } = ext4Scratch(t, 'start-failure')
  const lklfuse = fs.realpathSync(join(ROOT, 'bin', 'lklfuse'))

  t.test('no /dev/fuse: the cause and what to do, from lklfuse and lkl lklfuse alike', async t => {
    const cases = [
      ['lklfuse', [lklfuse, img, mnt]],
      ['lkl lklfuse', [process.execPath, LKL, 'lklfuse', img, mnt]],
    ]
    for (const [name, argv] of cases) {
      const r = withoutFuse(argv)
      t.equal(r.status, 1, `${name}: exit status 1`)
      t.equal(r.stdout, '', 'nothing on stdout')
      t.equal(r.stderr, `lkl: cannot mount ${img} on ${mnt}: /dev/fuse is missing\n${ADVICE}`,
        'the cause, then what to do')
      t.same(openers(img), [], 'no server left')
    }
  })

  t.test('no /dev/fuse, in the foreground and read-only: the server\'s own line, then what to do', async t => {
    const before = sha256(img)
    const r = withoutFuse([lklfuse, '-f', '-o', 'ro', img, mnt])
    t.equal(r.status, 1, 'exit status 1')
    t.equal(r.stderr, `lklfuse-server: ${mnt}: cannot mount: device not found, try 'modprobe fuse' first\n${ADVICE}`,
      'what libfuse found, then what to do')
    t.same(openers(img), [], 'no server left')
    t.equal(sha256(img), before, 'not a byte of the image changed')
  })

  t.test('the image', async t => {
    const fsck = tryRun('e2fsck', ['-fn', img])
    t.equal(fsck.status, 0, 'e2fsck -fn finds it clean', { output: fsck.output })
  })
}
