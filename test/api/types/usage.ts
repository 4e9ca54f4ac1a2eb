// Compiled, never run, by types.test.mjs: the overloads must give these
// exact types, so that callers need no casts.
import { Kernel, type Dirent, type Stats, type BigIntStats, type StatFs } from '../../../dist/src/index.js';
const k = Kernel.boot();
const m = await k.mount(await k.addDisk('x'));
const a: string[] = await m.readdir('/');
const b: Buffer[] = await m.readdir('/', { encoding: 'buffer' });
const b2: Buffer[] = await m.readdir('/', 'buffer');
const c: Dirent[] = await m.readdir('/', { withFileTypes: true });
const c2: Dirent<Buffer>[] = await m.readdir('/', { withFileTypes: true, encoding: 'buffer' });
const c3: string = c[0]!.name;
const d: Stats = await m.stat('x');
const e: BigIntStats = await m.lstat('x', { bigint: true });
const f: string = await m.readFile('x', 'utf8');
const g: Buffer = await m.readFile('x');
const h: string = await m.readlink('x');
const i: Buffer = await m.readlink('x', { encoding: 'buffer' });
const j: string | undefined = await m.mkdir('x', { recursive: true });
const l: undefined = await m.mkdir('x');
const s: StatFs<number> = await m.statfs();
const s2: StatFs<bigint> = await m.statfs('/', { bigint: true });
const fh = await m.open('x', 'r+');
const r = await fh.read(Buffer.alloc(1), 0, 1, 0);
const n: number = r.bytesRead;
const rs: string = await fh.readFile('utf8');
const ns: bigint = (await fh.stat({ bigint: true })).mtimeNs;
const sync: string[] = m.readdirSync('/');
const syncb: Buffer = m.readFileSync('x');
const syncs: string = m.readFileSync('x', 'utf8');
// @ts-expect-error: not a path
await m.stat(42);
// @ts-expect-error: the root's descriptor is internal (src/lkl/copy-calls.ts)
void m.rootFd;
void [a, b, b2, c, c2, c3, d, e, f, g, h, i, j, l, s, s2, n, rs, ns, sync, syncb, syncs];
