// SPDX-License-Identifier: GPL-2.0
//
// `lkl hijack`: runs the program with the library, passes its exit
// status on, and says in one line what is wrong before starting it.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { KERNEL_IP, LKL, cannotRun, namespace, tapConfig } from './netns.mjs'

t.setTimeout(3 * 60 * 1000)

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  const lkl = (ns, args) => ns.exec('env', ['-u', 'NODE_OPTIONS', process.execPath, LKL, 'hijack', ...args], { cwd: ns.dir })

  t.test('lkl hijack runs the program on the library kernel', async t => {
    const ns = namespace(t)
    const config = ns.config(tapConfig())
    const r = lkl(ns, ['-c', config, '--', 'ip', '-4', 'addr', 'show', 'dev', 'eth0'])
    t.equal(r.status, 0, 'exits 0', { output: r.output })
    t.match(r.stdout, `inet ${KERNEL_IP}/24`, 'the program saw the kernel\'s eth0')

    const s = lkl(ns, ['-c', config, '--', 'sh', '-c', 'exit 7'])
    t.equal(s.status, 7, 'the program\'s exit status is lkl\'s', { output: s.output })

    const none = lkl(ns, ['-c', config, '--', 'no-such-program-here'])
    t.equal(none.status, 127, 'no such program: 127')
    t.match(none.stderr, /^lkl: cannot run no-such-program-here: no such program$/m, 'in one line')
  })

  t.test('lkl hijack --help', async t => {
    const r = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, LKL, 'hijack', '--help'], { encoding: 'utf8' })
    t.equal(r.status, 0, 'exits 0')
    t.match(r.stdout, /Usage: lkl hijack \[options\] <program\.\.\.>/, 'usage')
    t.match(r.stdout, /Examples:/, 'with examples')
  })
}
