// SPDX-License-Identifier: GPL-2.0
//
// iproute2 and ping, hijacked: `ip` talks netlink to the library kernel
// and shows what the configuration made (interfaces, addresses, policy
// routing tables, rules, neighbours); the host's own `ip` shows the tap;
// a hijacked ping reaches the host's side of the tap, over IPv4 and IPv6.
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { repoForUsers } from '../helpers/machine.mjs'
import {
  HOST_IP, HOST_IP6, KERNEL_IP, KERNEL_IP6, KERNEL_MAC,
  REPO, cannotRun, hijacked, namespace, tapConfig,
} from './netns.mjs'

t.setTimeout(5 * 60 * 1000)

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  t.test('ip shows what the configuration made', async t => {
    const ns = namespace(t)
    const config = ns.config(tapConfig({ gateway: HOST_IP, gateway6: HOST_IP6 }, {
      ifgateway: HOST_IP,
      ifgateway6: HOST_IP6,
      neigh: `10.213.0.9|02:00:00:00:00:09;fd00:213::9|02:00:00:00:00:0a`,
    }))
    const ip = (...args) => {
      const r = ns.exec(...hijacked(config, 'ip', args))
      t.equal(r.status, 0, `hijacked ip ${args.join(' ')} exits 0`, { output: r.output })
      return r.stdout
    }

    const addr = ip('addr', 'show')
    t.match(addr, /\d+: lo: <LOOPBACK,UP,LOWER_UP>/, 'lo is up')
    t.match(addr, /2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500/, 'eth0 is up, MTU 1500')
    t.match(addr, `link/ether ${KERNEL_MAC}`, 'eth0 has the configured MAC')
    t.match(addr, `inet ${KERNEL_IP}/24`, 'eth0 has the IPv4 address')
    t.match(addr, `inet6 ${KERNEL_IP6}/64`, 'eth0 has the IPv6 address')
    t.notMatch(addr, /tap0/, 'the host\'s tap is not among them')

    t.match(ip('route', 'show'), `default via ${HOST_IP}`, 'the main table\'s default route')
    t.match(ip('-6', 'route', 'show'), `default via ${HOST_IP6}`, 'and the IPv6 one')
    t.match(ip('route', 'show', 'table', '4'), `default via ${HOST_IP} dev eth0`,
      'table 4 (2 x ifindex 2) has the interface\'s gateway')
    t.match(ip('-6', 'route', 'show', 'table', '5'), `default via ${HOST_IP6} dev eth0`,
      'table 5 has the IPv6 gateway')
    t.match(ip('rule', 'show'), `from ${KERNEL_IP} lookup 4`, 'a rule sends the address to table 4')
    t.match(ip('-6', 'rule', 'show'), `from ${KERNEL_IP6} lookup 5`, 'and the IPv6 one to table 5')
    const neigh = ip('neigh', 'show')
    t.match(neigh, '10.213.0.9 dev eth0 lladdr 02:00:00:00:00:09 PERMANENT', 'the IPv4 neighbour')
    t.match(neigh, 'fd00:213::9 dev eth0 lladdr 02:00:00:00:00:0a PERMANENT', 'the IPv6 neighbour')

    const host = ns.exec('ip', ['addr', 'show', 'tap0'])
    t.match(host.stdout, `inet ${HOST_IP}/24`, 'the host\'s ip shows the tap with its address')
  })

  t.test('ping reaches the host side of the tap', async t => {
    const ns = namespace(t)
    const config = ns.config(tapConfig())
    for (const [flag, to] of [['-4', HOST_IP], ['-6', HOST_IP6]]) {
      const r = ns.exec(...hijacked(config, 'ping', [flag, '-c', '3', '-W', '5', to]))
      t.equal(r.status, 0, `hijacked ping ${flag} ${to} exits 0`, { output: r.output })
      t.match(r.stdout, /3 packets transmitted, 3 received/, 'three answers')
    }
    // And the other way: the host pings the library kernel, which only
    // answers while a hijacked program runs.
    const sleeper = ns.spawn(...hijacked(config, 'sleep', ['30']))
    t.teardown(() => sleeper.kill('SIGKILL'))
    let r
    for (let i = 0; i < 50; i++) {
      r = ns.exec('ping', ['-c', '1', '-W', '1', KERNEL_IP])
      if (r.status === 0)
        break
    }
    t.equal(r.status, 0, 'the host\'s ping reaches the library kernel', { output: r.output })
  })

  t.test('no root at run time: a user with a tap of its own', async t => {
    const ns = namespace(t)
    const tap = ns.exec('ip', ['tuntap', 'add', 'dev', 'tapu', 'mode', 'tap', 'user', 'nobody'])
    t.equal(tap.status, 0, 'a tap for nobody', { output: tap.output })
    for (const args of [['addr', 'add', '10.213.1.1/24', 'dev', 'tapu'], ['link', 'set', 'tapu', 'up']])
      ns.exec('ip', args)
    // Where nobody can read them: the library, and the configuration.
    const library = join(repoForUsers(t, REPO), 'build/native/liblkl-hijack.so')
    fs.chmodSync(ns.dir, 0o755)
    const config = ns.config({ interfaces: [{ type: 'tap', param: 'tapu', ip: '10.213.1.2' }] })
    fs.chmodSync(config, 0o644)
    const r = ns.exec('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups',
      ...hijacked(config, 'ping', ['-c', '2', '-W', '5', '10.213.1.1'], { LD_PRELOAD: library }).flat()])
    t.equal(r.status, 0, 'nobody\'s hijacked ping exits 0', { output: r.output })
    t.match(r.stdout, /2 packets transmitted, 2 received/, 'two answers')
  })
}
