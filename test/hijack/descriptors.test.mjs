// SPDX-License-Identifier: GPL-2.0
//
// One descriptor space and mixed waits, from inside a hijacked program
// (descriptors.c, on the library kernel's own loopback): poll, select and
// epoll over a kernel socket and a host pipe together; kernel and host
// descriptors above 512 and 1024 each reaching their own side; fork(),
// whose child cannot use the parent's kernel.
import t from 'tap'
import { cannotRun, compile, hijacked, namespace } from './netns.mjs'

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
}
