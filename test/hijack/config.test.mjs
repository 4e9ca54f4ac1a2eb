// SPDX-License-Identifier: GPL-2.0
//
// The classic configuration's keys, each seen from inside the hijacked
// program through netlink (ip, tc) or its kernel's console; and a bad
// configuration: one line naming the key, a non-zero status, and the
// program never started.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { HOST_IP, LKL, REPO, cannotRun, hijacked, namespace, tapConfig } from './netns.mjs'

t.setTimeout(5 * 60 * 1000)

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  t.test('mtu, mac, qdisc and sysctl', async t => {
    const ns = namespace(t)
    const config = ns.config(tapConfig({
      sysctl: 'net.ipv4.conf.eth0.rp_filter=2;net.ipv4.conf.eth0.forwarding=1',
    }, { mtu: '1400', mac: '02:12:34:56:78:9a', qdisc: 'root|fq' }))
    const run = (cmd, args) => {
      const r = ns.exec(...hijacked(config, cmd, args))
      t.equal(r.status, 0, `hijacked ${cmd} ${args.join(' ')} exits 0`, { output: r.output })
      return r.stdout
    }
    const link = run('ip', ['link', 'show', 'eth0'])
    t.match(link, /mtu 1400 /, 'the MTU')
    t.match(link, 'link/ether 02:12:34:56:78:9a', 'the MAC')
    t.match(run('tc', ['qdisc', 'show', 'dev', 'eth0']), /qdisc fq \w+: root/, 'fq is the root qdisc')
    const netconf = run('ip', ['-4', 'netconf', 'show', 'dev', 'eth0'])
    t.match(netconf, /forwarding on/, 'sysctl forwarding=1')
    t.match(netconf, /rp_filter loose/, 'sysctl rp_filter=2')

    const fqc = ns.config(tapConfig({}, { qdisc: 'root|fq_codel' }))
    const r = ns.exec(...hijacked(fqc, 'tc', ['qdisc', 'show', 'dev', 'eth0']))
    t.match(r.stdout, /qdisc fq_codel \w+: root/, 'fq_codel is the root qdisc')
  })

  t.test('the LKL_HIJACK_* variables, and a file winning over them', async t => {
    const ns = namespace(t)
    const vars = {
      LKL_HIJACK_NET_IFTYPE: 'tap',
      LKL_HIJACK_NET_IFPARAMS: 'tap0',
      LKL_HIJACK_NET_IP: '10.213.0.3',
      LKL_HIJACK_NET_NETMASK_LEN: '24',
      LKL_HIJACK_NET_MTU: '1280',
    }
    const [cmd, args] = hijacked('', 'ip', ['-4', 'addr', 'show', 'dev', 'eth0'], vars)
    const r = ns.exec(cmd, args, { cwd: ns.dir })
    t.equal(r.status, 0, 'hijacked ip exits 0', { output: r.output })
    t.match(r.stdout, /mtu 1280 /, 'LKL_HIJACK_NET_MTU')
    t.match(r.stdout, 'inet 10.213.0.3/24', 'LKL_HIJACK_NET_IP and _NETMASK_LEN')

    const file = ns.config(tapConfig())
    const w = ns.exec(...hijacked(file, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0'], vars))
    t.match(w.stdout, 'inet 10.213.0.2/24', 'with a file, the file\'s address')
    t.notMatch(w.stdout, /mtu 1280 /, 'and none of the variables')
  })

  t.test('boot_cmdline mem=', async t => {
    const ns = namespace(t)
    const config = ns.config(tapConfig({ boot_cmdline: 'mem=200M', debug: '1' }))
    const r = ns.exec(...hijacked(config, 'true'))
    t.equal(r.status, 0, 'the program ran', { output: r.output })
    const m = /Memory: \d+K\/(\d+)K available/.exec(r.stderr)
    t.ok(m, 'the kernel\'s console says how much memory it has', { output: r.stderr })
    // The kernel's pages: the 200 MiB asked for, less what alignment takes.
    const kib = Number(m?.[1])
    t.ok(kib <= 200 * 1024 && kib > 196 * 1024, `the 200 MiB asked for (${kib} KiB)`)
  })

  t.test('boot_cmdline ip=dhcp', async t => {
    const ns = namespace(t)
    // A DHCP server on the tap's host side, for one lease.
    const server = ns.spawn('python3', [join(REPO, 'test/hijack/dhcp-server.py'), 'tap0', HOST_IP, '10.213.0.77', HOST_IP],
      { stdio: ['ignore', 'pipe', 'inherit'] })
    t.teardown(() => server.kill('SIGKILL'))
    let said = ''
    server.stdout.setEncoding('utf8').on('data', (d) => { said += d })
    const ended = once(server, 'exit')
    while (!said.includes('listening') && server.exitCode === null)
      await new Promise((resolve) => setTimeout(resolve, 20))
    const config = ns.config({ interfaces: [{ type: 'tap', param: 'tap0' }], boot_cmdline: 'ip=dhcp' })
    const run = (args) => ns.exec(...hijacked(config, 'ip', args), { timeout: 60_000 })
    const r = run(['-4', 'addr', 'show', 'dev', 'eth0'])
    t.equal(r.status, 0, 'hijacked ip exits 0', { output: r.output })
    t.match(r.stdout, 'inet 10.213.0.77/24', 'eth0 has the address the DHCP server offered')
    await ended
    t.match(said, /acked/, 'the server acknowledged the request')
  })

  t.test('a bad configuration', async t => {
    const ns = namespace(t)
    const cases = [
      [{ interfaces: [{ type: 'tap', param: 'tap0', mtu: '9x' }] },
        /^lkl-hijack: \S+: interfaces\[0\]\.mtu: "9x" is not from 68 to 65535$/],
      [{ gatway: '10.213.0.1' }, /^lkl-hijack: \S+: gatway: unknown key$/],
      [{ interfaces: [{ type: 'tap', param: 'tap0', ip: '10.213.0.300' }] },
        /^lkl-hijack: \S+: interfaces\[0\]\.ip: "10.213.0.300" is not an IPv4 address$/],
      [{ interfaces: [{ type: 'tap', param: 'no-such-tap0' }] },
        /^lkl-hijack: \S+: interfaces\[0\]: tap "no-such-tap0": /],
      ['{ "debug": "1", }', /^lkl-hijack: \S+: line 1: expected a key in quotes$/],
    ]
    for (const [content, line] of cases) {
      const config = ns.config(content)
      const r = ns.exec(...hijacked(config, 'echo', ['started']))
      t.not(r.status, 0, 'a non-zero status')
      t.equal(r.stdout, '', 'the program did not start')
      t.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line', { output: r.stderr })
      t.match(r.stderr.trim(), line, 'naming the key and the cause')
    }
    const missing = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, LKL, 'hijack', '-c', `${ns.dir}/none.json`, '--', 'true'], { encoding: 'utf8' })
    t.equal(missing.status, 1, 'lkl hijack -c with no such file: status 1')
    t.match(missing.stderr, /none\.json: no such file or directory/, 'naming the file')
  })
}
