#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0
//
// TCP throughput and request latency of a program on the library kernel's
// stack (liblkl-hijack.so over a tap), against the same program on the
// host's stack over a veth, in one run, for docs/benchmarks.md.  Not a
// test (times are never asserted).  As root, after npm run build:
//
//   node bench/hijack.mjs [--reps N] [--mib M] [--count C]
//
// Two network namespaces, made and deleted here: A holds the tap (host
// side 10.213.0.1, the library kernel 10.213.0.2) and one end of a veth
// (10.213.1.1); B holds the veth's other end (10.213.1.2).  The client
// always runs on the host's stack in A; the server runs hijacked on the
// tap (with and without offloads), or on the host's stack in B.  Each
// crosses one virtual link.  test/hijack/tcp-stream.c is the program:
// M MiB each way (throughput: 2 M MiB over the connection's seconds), and
// C request/response pairs of 64 bytes (latency: seconds / C); the data
// is zeros, unchecked (its fast- mode), so the stacks set the pace.  The runs
// of the set-ups take turns; medians are printed.
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const LIBRARY = join(REPO, 'build/native/liblkl-hijack.so')

const args = process.argv.slice(2)
const opt = (name, def) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : def
}
const reps = opt('--reps', 5)
const mib = opt('--mib', 512)
const count = opt('--count', 20000)

function must (cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' })
  if (r.status !== 0)
    throw new Error(`${cmd} ${argv.join(' ')}: ${r.status ?? r.signal}\n${r.stderr}`)
  return r.stdout
}

const A = `lkl-bench-a-${process.pid}`
const B = `lkl-bench-b-${process.pid}`
const work = fs.mkdtempSync(join(tmpdir(), 'lkl-bench-hijack-'))
function cleanup () {
  spawnSync('ip', ['netns', 'del', A])
  spawnSync('ip', ['netns', 'del', B])
  fs.rmSync(work, { recursive: true, force: true })
}
process.on('exit', cleanup)
for (const s of ['SIGINT', 'SIGTERM'])
  process.on(s, () => process.exit(1))

must('ip', ['netns', 'add', A])
must('ip', ['netns', 'add', B])
for (const cmd of [
  [A, 'link', 'set', 'lo', 'up'],
  [B, 'link', 'set', 'lo', 'up'],
  [A, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'],
  [A, 'addr', 'add', '10.213.0.1/24', 'dev', 'tap0'],
  [A, 'link', 'set', 'tap0', 'up'],
  [A, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', B],
  [A, 'addr', 'add', '10.213.1.1/24', 'dev', 'va'],
  [A, 'link', 'set', 'va', 'up'],
  [B, 'addr', 'add', '10.213.1.2/24', 'dev', 'vb'],
  [B, 'link', 'set', 'vb', 'up'],
])
  must('ip', ['-n', cmd[0], ...cmd.slice(1)])

const prog = join(work, 'tcp-stream')
must('gcc', ['-O2', '-o', prog, join(REPO, 'test/hijack/tcp-stream.c')])
const config = (offload) => {
  const path = join(work, `hijack-${offload}.json`)
  fs.writeFileSync(path, JSON.stringify({
    interfaces: [{ type: 'tap', param: 'tap0', ip: '10.213.0.2', masklen: '24', offload }],
  }))
  return path
}

const SETUPS = [
  { name: 'hijacked, tap, offload 0xc803', ns: A, addr: '10.213.0.2', env: ['env', `LD_PRELOAD=${LIBRARY}`, `LKL_HIJACK_CONFIG_FILE=${config('0xc803')}`] },
  { name: 'hijacked, tap, no offload', ns: A, addr: '10.213.0.2', env: ['env', `LD_PRELOAD=${LIBRARY}`, `LKL_HIJACK_CONFIG_FILE=${config('0')}`] },
  { name: 'host stack, veth', ns: B, addr: '10.213.1.2', env: [] },
]

/** One run: server started, client timed by tcp-stream itself. */
async function once (setup, mode, amount) {
  const server = spawn('ip', ['netns', 'exec', setup.ns, ...setup.env, prog, `${mode}serve`, '0.0.0.0', '5201', String(amount)],
    { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  server.stdout.setEncoding('utf8').on('data', (d) => { out += d })
  while (!out.includes('listening'))
    await new Promise((resolve) => setTimeout(resolve, 20))
  const r = spawnSync('ip', ['netns', 'exec', A, prog, `${mode}connect`, setup.addr, '5201', String(amount)], { encoding: 'utf8' })
  await new Promise((resolve) => server.on('exit', resolve))
  if (r.status !== 0)
    throw new Error(`${setup.name}: ${r.stderr}`)
  return Number(r.stdout.trim().split(' ').pop())
}

const results = SETUPS.map(() => ({ mbps: [], rtt: [] }))
for (let i = 0; i < reps; i++) {
  for (const [j, setup] of SETUPS.entries()) {
    const s = await once(setup, 'fast-', mib << 20)
    results[j].mbps.push(2 * mib * 1048576 * 8 / s / 1e6)
    const l = await once(setup, 'rr-', count)
    results[j].rtt.push(l / count * 1e6)
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`| set-up | TCP throughput, Mbit/s (median of ${reps}) | request/response of 64 bytes, µs (median of ${reps}) |`)
console.log('| --- | ---: | ---: |')
for (const [j, setup] of SETUPS.entries())
  console.log(`| ${setup.name} | ${median(results[j].mbps).toFixed(0)} | ${median(results[j].rtt).toFixed(1)} |`)
console.log(`\n${mib} MiB each way per throughput run, ${count} round trips per latency run; runs: ` +
  JSON.stringify(results.map((r) => ({ mbps: r.mbps.map((x) => Math.round(x)), rtt: r.rtt.map((x) => +x.toFixed(1)) }))))
