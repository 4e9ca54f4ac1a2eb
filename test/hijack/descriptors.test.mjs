// SPDX-License-Identifier: GPL-2.0
//
// One descriptor space and mixed waits, from inside a hijacked program
// (descriptors.c, on the library kernel's own loopback): poll, select and
// epoll over a kernel socket and a host pipe together; kernel and host
// descriptors above 512 and 1024 each reaching their own side; fork(),
// whose child cannot use the parent's kernel; exec, which boots a kernel
// of its own.
import t from 'tap'
import { KERNEL_IP, cannotRun, compile, hijacked, namespace, tapConfig } from './netns.mjs'

t.setTimeout(3 * 60 * 1000)

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  t.test('descriptors and waits', async t => {
    const ns = namespace(t)
    const prog = compile(ns.dir, 'descriptors')
    // No interfaces: the configuration is an empty object.
    const config = ns.config({})
    const r = ns.exec(...hijacked(config, prog), { cwd: ns.dir })
    for (const line of r.stdout.split('\n').filter((l) => /^(ok|FAIL) /.test(l)))
      t.ok(line.startsWith('ok '), line.replace(/^(ok|FAIL) /, ''))
    t.equal(r.status, 0, 'descriptors exits 0', { output: r.output })
    t.match(r.stderr, /^lkl-hijack: pid \d+: the library kernel's sockets stay with pid \d+ after fork\(\)/m,
      'the child is told, in one line')
  })

  t.test('exec boots a kernel of its own', async t => {
    const ns = namespace(t)
    const config = ns.config(tapConfig())
    const show = 'ip -4 addr show dev eth0'
    const r = ns.exec(...hijacked(config, 'sh', ['-c', `exec ${show}`]))
    t.equal(r.status, 0, 'exec in place: the new program runs', { output: r.output })
    t.match(r.stdout, `inet ${KERNEL_IP}/24`, 'on a kernel configured as the first was')
    // A child that execs while its parent holds the tap cannot have it.
    const c = ns.exec(...hijacked(config, 'sh', ['-c', `${show}; echo "child: $?"`]))
    t.match(c.stdout, /^child: 1$/m, 'a child of a running hijacked program stops with status 1')
    t.match(c.stderr, /^lkl-hijack: \S+: interfaces\[0\]: tap "tap0": Device or resource busy$/m,
      'after one line naming the interface')
  })
}
