// A program outside the repository that depends on the package: it imports
// { Kernel } from 'lkl', is type-checked by tsc, then boots, mounts an ext4
// image it made, lists a directory, reads a file and halts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { tempDir } from '../helpers/tree.mjs';

t.setTimeout(120_000);

const repo = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempDir(t, 'lkl-consumer-');

// Installed as `npm install <path>` installs a local package: a link.
mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
symlinkSync(repo, join(dir, 'node_modules', 'lkl'));
symlinkSync(join(repo, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
	compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', types: ['node'], outDir: 'out' },
	include: ['main.ts'],
}));
writeFileSync(join(dir, 'main.ts'), `
import { Kernel } from 'lkl';

const kernel = Kernel.boot();
const disk = await kernel.addDisk(process.argv[2], { readOnly: true });
const mount = await kernel.mount(disk);
const names: string[] = await mount.readdir('/');
const text: string = await mount.readFile('hello.txt', 'utf8');
console.log(JSON.stringify({ names: names.sort(), text, fsType: mount.fsType }));
await kernel.halt();
`);

mkdirSync(join(dir, 'tree'));
writeFileSync(join(dir, 'tree', 'hello.txt'), 'hello, image\n');
execFileSync('truncate', ['-s', '32M', join(dir, 'x.img')]);
execFileSync('mkfs.ext4', ['-q', '-d', join(dir, 'tree'), join(dir, 'x.img')]);

const tsc = spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
t.equal(tsc.status, 0, 'tsc type-checks the consumer', { output: tsc.stdout + tsc.stderr });

const run = spawnSync(process.execPath, [join(dir, 'out', 'main.js'), join(dir, 'x.img')], { encoding: 'utf8', cwd: dir });
t.equal(run.status, 0, 'it runs', { stderr: run.stderr });
t.same(JSON.parse(run.stdout), { names: ['hello.txt', 'lost+found'], text: 'hello, image\n', fsType: 'ext4' });
