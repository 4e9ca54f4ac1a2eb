// SPDX-License-Identifier: GPL-2.0
//
// The boot test: make the fixture images (test/fixtures/make-images.sh) in
// a temporary directory, then run build/native/boot_test on them.  Its TAP
// output is this test's subtest, so each of its failures shows up here.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from './helpers/tree.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const makeImages = join(root, 'test', 'fixtures', 'make-images.sh')
const bootTest = join(root, 'build', 'native', 'boot_test')

// Making the images and one full run take seconds; leave room for a slow
// machine.  boot_test gives up on its own after 600 s.
t.setTimeout(15 * 60 * 1000)

const run = (cmd, args) =>
  new Promise(resolve => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', d => (output += d))
    child.stderr.on('data', d => (output += d))
    child.on('error', err => resolve({ code: -1, output: String(err) }))
    child.on('close', (code, signal) =>
      resolve({ code: code ?? `signal ${signal}`, output }),
    )
  })

const dir = tempDir(t, 'lkl-boot-test-')

const made = await run('bash', [makeImages, dir])
t.equal(made.code, 0, 'make-images.sh builds the fixture images', {
  output: made.output,
})
t.ok(existsSync(bootTest), `${bootTest} is built (npm run build:native)`)

if (made.code === 0 && existsSync(bootTest)) {
  await t.spawn(bootTest, [dir], { cwd: dir }, 'boot_test')
}
