// SPDX-License-Identifier: GPL-2.0
//
// test/hijack's set-up: a network namespace the test makes and deletes,
// holding a tap (the host side, with the host's addresses) for the
// library kernel to attach to.  Nothing outside the namespace is touched
// and no address outside it is used: 10.213.0.0/24 and fd00:213::/64
// exist only in there.  Programs run in it with `ip netns exec`.
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { undoAtEnd, tempDir } from '../helpers/machine.mjs'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const LIBRARY = join(REPO, 'build/native/liblkl-hijack.so')
export const LKL = join(REPO, 'bin/lkl')

export const HOST_IP = '10.213.0.1'
export const KERNEL_IP = '10.213.0.2'
export const HOST_IP6 = 'fd00:213::1'
export const KERNEL_IP6 = 'fd00:213::2'
export const KERNEL_MAC = '02:00:00:00:02:13'

/** Why the hijack tests cannot run here, or undefined. */
export function cannotRun () {
  if (process.getuid?.() !== 0)
    return 'needs root, for network namespaces'
  if (!fs.existsSync('/dev/net/tun'))
    return 'no /dev/net/tun'
  if (!fs.existsSync(LIBRARY))
    return `no ${LIBRARY}: npm run build makes it`
  for (const tool of ['ip', 'ping'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `no ${tool}: scripts/setup.sh installs it`
  return undefined
}

export function run (cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 120_000, killSignal: 'SIGKILL', ...options })
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', output: `${r.error ?? ''}${r.stdout ?? ''}${r.stderr ?? ''}` }
}

function must (cmd, args) {
  const r = run(cmd, args)
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')}: ${r.status ?? r.signal}\n${r.output}`)
  return r.stdout
}

let serial = 0

/**
 * A namespace with lo up and a tap `tap0` holding HOST_IP/24 and
 * HOST_IP6/64 (no DAD), deleted with everything in it when `t` ends.
 * Returns { name, dir, exec(cmd, args, opts), spawn(cmd, args, opts),
 * config(object) } where config() writes a configuration file and
 * returns its path.
 */
export function namespace (t) {
  const name = `lkl-hijack-${process.pid}-${++serial}`
  must('ip', ['netns', 'add', name])
  undoAtEnd(t, `network namespace ${name}`, () => {
    spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout
      ?.split('\n').filter(Boolean).forEach((pid) => { try { process.kill(Number(pid), 'SIGKILL') } catch {} })
    spawnSync('ip', ['netns', 'del', name])
  })
  const inNs = (args) => must('ip', ['-n', name, ...args])
  inNs(['link', 'set', 'lo', 'up'])
  inNs(['tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'])
  inNs(['addr', 'add', `${HOST_IP}/24`, 'dev', 'tap0'])
  inNs(['addr', 'add', `${HOST_IP6}/64`, 'dev', 'tap0', 'nodad'])
  inNs(['link', 'set', 'tap0', 'up'])
  const dir = tempDir(t, 'lkl-hijack-')
  let configs = 0
  return {
    name,
    dir,
    exec: (cmd, args = [], opts = {}) => run('ip', ['netns', 'exec', name, cmd, ...args], opts),
    spawn: (cmd, args = [], opts = {}) => spawn('ip', ['netns', 'exec', name, cmd, ...args], opts),
    config: (obj) => {
      const path = join(dir, `config-${++configs}.json`)
      fs.writeFileSync(path, typeof obj === 'string' ? obj : JSON.stringify(obj, null, 2))
      return path
    },
  }
}

/**
 * `env` arguments that run `cmd` hijacked with `config` (inside the
 * namespace: `ip netns exec` itself must not be).
 */
export function hijacked (config, cmd, args = [], vars = {}) {
  const assignments = Object.entries({ LD_PRELOAD: LIBRARY, LKL_HIJACK_CONFIG_FILE: config, ...vars })
    .map(([k, v]) => `${k}=${v}`)
  return ['env', [...assignments, cmd, ...args]]
}

/** The usual configuration: one tap, both address families. */
export function tapConfig (more = {}, iface = {}) {
  return {
    interfaces: [{
      type: 'tap',
      param: 'tap0',
      ip: KERNEL_IP,
      masklen: '24',
      ipv6: KERNEL_IP6,
      masklen6: '64',
      mac: KERNEL_MAC,
      ...iface,
    }],
    ...more,
  }
}

/** Compiles test/hijack/`name`.c into `dir`; returns the program's path. */
export function compile (dir, name) {
  const prog = join(dir, name)
  must('gcc', ['-O2', '-Wall', '-pthread', '-o', prog, join(REPO, 'test/hijack', `${name}.c`)])
  return prog
}
