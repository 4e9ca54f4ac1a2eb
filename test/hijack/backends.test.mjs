// SPDX-License-Identifier: GPL-2.0
//
// The raw and macvtap backends, on a veth pair inside the test's
// namespace: the host's end holds 10.213.2.1; the library kernel sits on
// the other end through a packet socket (raw) or a macvtap on it, and a
// hijacked ping reaches the host's end.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { cannotRun, hijacked, namespace } from './netns.mjs'

t.setTimeout(3 * 60 * 1000)

const HOST = '10.213.2.1'
const KERNEL = '10.213.2.2'

function veth (t, ns) {
  for (const args of [
    ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb'],
    ['addr', 'add', `${HOST}/24`, 'dev', 'va'],
    ['link', 'set', 'va', 'up'],
    ['link', 'set', 'vb', 'up'],
  ]) {
    const r = ns.exec('ip', args)
    if (r.status !== 0)
      throw new Error(`ip ${args.join(' ')}: ${r.output}`)
  }
}

function ping (t, ns, config) {
  const r = ns.exec(...hijacked(config, 'ping', ['-c', '3', '-W', '5', HOST]))
  t.equal(r.status, 0, 'hijacked ping exits 0', { output: r.output })
  t.match(r.stdout, /3 packets transmitted, 3 received/, 'three answers')
}

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  t.test('raw: a packet socket on the veth', async t => {
    const ns = namespace(t)
    veth(t, ns)
    ping(t, ns, ns.config({
      interfaces: [{ type: 'raw', param: 'vb', ip: KERNEL, masklen: '24', mac: '02:00:00:00:02:22' }],
    }))
  })

  t.test('macvtap on the veth', async t => {
    const ns = namespace(t)
    veth(t, ns)
    const made = ns.exec('ip', ['link', 'add', 'link', 'vb', 'name', 'mvt0', 'type', 'macvtap', 'mode', 'bridge'])
    if (made.status !== 0) {
      t.skip(`no macvtap here: ${made.output.trim()}`)
      return
    }
    ns.exec('ip', ['link', 'set', 'mvt0', 'up'])
    // Its character device, made here: udev (which would make
    // /dev/tapN) may not run, and /dev is not the test's.
    const ifindex = ns.exec('cat', ['/sys/class/net/mvt0/ifindex']).stdout.trim()
    const dev = ns.exec('cat', [`/sys/class/net/mvt0/macvtap/tap${ifindex}/dev`]).stdout.trim()
    const mac = ns.exec('cat', ['/sys/class/net/mvt0/address']).stdout.trim()
    const [major, minor] = dev.split(':')
    const node = join(ns.dir, `tap${ifindex}`)
    const mk = ns.exec('mknod', [node, 'c', major, minor])
    t.equal(mk.status, 0, 'the macvtap\'s device node', { output: mk.output })
    t.ok(fs.existsSync(node), 'is there')
    ping(t, ns, ns.config({
      interfaces: [{ type: 'macvtap', param: node, ip: KERNEL, masklen: '24', mac, offload: '0xc803' }],
    }))
  })
}
