// SPDX-License-Identifier: GPL-2.0
//
// The C unit tests (host services, disk backend, directory scan; built
// with the sanitizers) and the kernel's smoke test, as native/Makefile's
// "check" makes and runs them: one assertion per program, its output
// shown when it fails.  Each runs with TMPDIR set to a directory of this
// test's, removed at its end, so that a failing program leaves nothing.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '../helpers/tree.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const native = join(root, 'native')

// Building them with the sanitizers takes seconds on a slow machine; the
// programs themselves run in about one each.
const timeout = 5 * 60 * 1000
t.setTimeout(timeout)

// Synchronous: the programs run one at a time anyway, and the test's
// assertions then all come before tap's automatic end.
const make = (target, env = process.env) => {
  const r = spawnSync('make', ['-s', '-C', native, target], {
    env,
    encoding: 'utf8',
    timeout,
  })
  return {
    code: r.status ?? `signal ${r.signal}`,
    output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`,
  }
}

const built = make('check-build')
t.equal(built.code, 0, 'make check-build builds the C tests', {
  output: built.output,
})

const list = make('check-list')
const programs = list.output.trim().split(/\s+/).filter(Boolean)
t.ok(programs.length >= 4, 'make check-list names the C tests', {
  output: list.output,
})

if (built.code === 0) {
  const env = { ...process.env, TMPDIR: tempDir(t, 'lkl-c-units-') }
  for (const name of programs) {
    const r = make(`check-${name}`, env)
    t.equal(r.code, 0, `${name} passes`, { output: r.output })
  }
}
