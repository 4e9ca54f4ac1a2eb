// The published types: a usage file must compile under strict settings.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

t.setTimeout(120_000);

const project = fileURLToPath(new URL('./types/tsconfig.json', import.meta.url));
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
const r = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
t.equal(r.status, 0, 'test/api/types/usage.ts compiles', { output: r.stdout + r.stderr });
