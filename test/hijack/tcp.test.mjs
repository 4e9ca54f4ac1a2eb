// SPDX-License-Identifier: GPL-2.0
//
// TCP through the library kernel: a hijacked server and a client on the
// host's stack, then the other way round, over IPv4 and IPv6, each moving
// 100 MiB each way through the tap; both sides' checksums must match.
// tcp-stream waits in poll() on its socket and stdin together, so every
// wait is a set that mixes a host descriptor and a kernel one.
import t from 'tap'
import { once } from 'node:events'
import {
  HOST_IP, HOST_IP6, KERNEL_IP, KERNEL_IP6,
  cannotRun, compile, hijacked, namespace, tapConfig,
} from './netns.mjs'

t.setTimeout(10 * 60 * 1000)

const BYTES = String(100 << 20)
const PORT = '5201'

/** Starts `serve` and waits for its "listening" line. */
async function startServer (t, ns, argv) {
  const server = ns.spawn(...argv, { stdio: ['pipe', 'pipe', 'pipe'] })
  t.teardown(() => server.kill('SIGKILL'))
  let out = ''
  let err = ''
  server.stdout.setEncoding('utf8').on('data', (d) => { out += d })
  server.stderr.setEncoding('utf8').on('data', (d) => { err += d })
  const exited = once(server, 'exit')
  while (!out.includes('listening\n')) {
    const r = await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))])
    if (r)
      throw new Error(`the server exited before listening: ${r}\n${err}`)
  }
  return { done: exited.then(([code]) => ({ code, out, err })) }
}

/** "sent A received B N" of each side: the client's sent is the server's received. */
function parse (line) {
  const m = /sent (\w+) received (\w+) (\d+)/.exec(line)
  return m ? { sent: m[1], received: m[2], count: Number(m[3]) } : undefined
}

const why = cannotRun()
if (why) {
  t.skip(why)
} else {
  t.test('100 MiB each way', async t => {
    const ns = namespace(t)
    const prog = compile(ns.dir, 'tcp-stream')
    const offload = ns.config(tapConfig({}, { offload: '0xc803' }))
    const plain = ns.config(tapConfig())
    const cases = [
      ['IPv4, hijacked server', KERNEL_IP, true, offload],
      ['IPv4, hijacked client', HOST_IP, false, offload],
      ['IPv6, hijacked server', KERNEL_IP6, true, offload],
      ['IPv6, hijacked client', HOST_IP6, false, offload],
      // Plain frames: every checksum and segment made by the kernels.
      ['IPv4, hijacked server, no offloads', KERNEL_IP, true, plain],
      ['IPv6, hijacked client, no offloads', HOST_IP6, false, plain],
    ]
    for (const [name, addr, kernelServes, config] of cases) {
      await t.test(name, async t => {
        const onKernel = (args) => hijacked(config, prog, args)
        const onHost = (args) => [prog, args]
        const bind = addr.includes(':') ? '::' : '0.0.0.0'
        const server = await startServer(t, ns, (kernelServes ? onKernel : onHost)(['serve', bind, PORT, BYTES]))
        const client = ns.exec(...(kernelServes ? onHost : onKernel)(['connect', addr, PORT, BYTES]), { timeout: 5 * 60 * 1000 })
        t.equal(client.status, 0, 'the client exits 0', { output: client.output })
        const s = await server.done
        t.equal(s.code, 0, 'the server exits 0', { output: s.err })
        const c = parse(client.stdout)
        const v = parse(s.out)
        t.ok(c && v, 'both sides report', { client: client.stdout, server: s.out })
        t.equal(v?.count, 100 << 20, 'the server received 100 MiB')
        t.equal(c?.count, 100 << 20, 'the client received 100 MiB')
        t.equal(v?.received, c?.sent, 'what the server received is what the client sent')
        t.equal(c?.received, v?.sent, 'what the client received is what the server sent')
      })
    }
  })
}
