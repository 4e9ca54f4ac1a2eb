// A short run of the hostile-image fuzzer (scripts/fuzz-images.mjs, see
// docs/fuzzing.md): a few fixed seeds per filesystem, each image's
// metadata damaged and fed to fs2tar, cpfromfs, an lklfuse walk and
// cptofs.  None may crash, hang, fail without one clear line, change its
// input or write outside its destination.  The long runs are by hand.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/tree.mjs';
import { REPO } from '../helpers/cli.mjs';

t.setTimeout(600_000);

const CASES = 3;
const dir = tempDir(t, 'lkl-fuzz-');
const out = join(dir, 'out');

t.test(`${CASES} damaged images of each filesystem`, async (t) => {
	// Without the loader hooks tap adds to NODE_OPTIONS (as helpers/cli.mjs runs lkl).
	const r = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, join(REPO, 'scripts/fuzz-images.mjs'),
		'--cases', String(CASES), '--seed', '1', '--out', out, '--work', dir, '--limit', '60'], { encoding: 'utf8' });
	const lines = r.stdout.trim().split('\n');
	for (const kind of ['ext4', 'btrfs', 'xfs', 'vfat']) {
		const summary = lines.find((l) => l.startsWith(`${kind}: `));
		t.match(summary, new RegExp(`^${kind}: ${CASES} cases, ${CASES} ok, failures: none `), `${kind}: every case ok\n${r.stdout}${r.stderr}`);
	}
	t.equal(r.status, 0, 'the fuzzer exits 0');
	const saved = fs.readdirSync(out).filter((n) => /^[a-z0-9]+-\d+$/.test(n));
	t.same(saved, [], 'no failing case saved');
});
