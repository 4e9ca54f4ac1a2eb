// Images that shrink: the blocks a filesystem frees become holes in the
// image file (the disk backend punches what the kernel discards), through
// Mount.trim() (FITRIM), `cptofs --trim` and `lklfuse -o discard`; without
// them, deleting leaves the image's allocated size as it was.  Measured
// as a user would: the image file's allocated bytes (du), and the
// filesystem's own fsck after.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../dist/src/index.js';
import { IMAGE_MIB, fsck, pattern, run, tempDir } from '../helpers/tree.mjs';
import { lklOk } from '../helpers/cli.mjs';

t.setTimeout(600_000);

const BIG = 24 << 20;
const dir = tempDir(t, 'lkl-trim-');
const allocated = (img) => fs.statSync(img).blocks * 512;
const MKFS = {
	ext4: (img) => run('mkfs.ext4', ['-q', '-F', img]),
	btrfs: (img) => run('mkfs.btrfs', ['-q', '-f', img]),
	xfs: (img) => run('mkfs.xfs', ['-q', '-f', img]),
	vfat: (img) => run('mkfs.vfat', [img]),
};
const big = join(dir, 'big');
fs.writeFileSync(big, pattern(BIG));

function image(kind, name) {
	const img = join(dir, `${kind}-${name}.img`);
	run('truncate', ['-s', `${IMAGE_MIB[kind]}M`, img]);
	MKFS[kind](img);
	lklOk(['cptofs', '-i', img, big, '/']);
	return img;
}

const kernel = Kernel.boot({ memoryMiB: 64 });
t.teardown(() => kernel.halt());

// Runs `body` on a mount of `img` through the API.
async function withMount(img, body) {
	const disk = await kernel.addDisk(img);
	const mount = await kernel.mount(disk);
	try {
		return await body(mount);
	} finally {
		await mount.unmount();
		await kernel.removeDisk(disk);
	}
}

const small = join(dir, 'small');
fs.writeFileSync(small, 'small\n');

for (const kind of ['ext4', 'btrfs', 'xfs', 'vfat']) {
	t.test(kind, async (t) => {
		const img = image(kind, 'cli');
		const full = allocated(img);
		t.ok(full > BIG, `the image holds the file: ${full} bytes allocated`);
		await withMount(img, (mount) => mount.rm('big'));
		t.ok(allocated(img) > full - BIG / 2, `deleting without a trim leaves the image as large: ${allocated(img)}`);
		t.ok(fsck(kind, img).ok, 'fsck clean');
		lklOk(['cptofs', '--trim', '-i', img, small, '/']);
		t.ok(allocated(img) < full - BIG * 0.9, `cptofs --trim punched the freed blocks out: ${full} -> ${allocated(img)}`);
		let check = fsck(kind, img);
		t.ok(check.ok, 'fsck clean after cptofs --trim', { output: check.output });

		// Deleted in an earlier mount: xfs frees a deleted file's blocks in
		// the background (deferred inode inactivation), so a trim at once
		// after the rm may find them still in use, on the host's kernel too.
		const api = image(kind, 'api');
		const before = allocated(api);
		await withMount(api, (mount) => mount.rm('big'));
		const trimmed = await withMount(api, (mount) => mount.trim());
		t.ok(allocated(api) < before - BIG * 0.9, `Mount.trim(): ${before} -> ${allocated(api)} (FITRIM counted ${trimmed})`);
		t.ok(fsck(kind, api).ok, 'fsck clean after Mount.trim()');

		const fuse = image(kind, 'fuse');
		const mnt = join(dir, `${kind}-mnt`);
		fs.mkdirSync(mnt);
		const mounted = allocated(fuse);
		lklOk(['lklfuse', '-o', 'discard', fuse, mnt]);
		try {
			fs.rmSync(join(mnt, 'big'));
		} finally {
			lklOk(['unmount', mnt]);
		}
		// Online discard gives back what each journal commit frees: on ext4
		// not all of it (the host kernel's own ext4 -o discard on a loop
		// device gave back 6 of this file's 24 MiB).
		t.ok(allocated(fuse) < mounted - BIG / 5, `lklfuse -o discard: rm shrank the image: ${mounted} -> ${allocated(fuse)}`);
		check = fsck(kind, fuse);
		t.ok(check.ok, 'fsck clean after lklfuse -o discard', { output: check.output });
	});
}
