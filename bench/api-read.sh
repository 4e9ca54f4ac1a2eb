#!/usr/bin/env bash
# Issue 3's figures: time from Kernel.boot() to the first readdir of a
# mounted image, and reading one 1 GiB file through createReadStream,
# next to cat of the same file from the host's loop mount (root), cold
# caches for both.  Usage: bash bench/api-read.sh [workdir]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
img="$work/read.img"
if [ ! -f "$img" ]; then
	mkdir -p "$work/tree"
	head -c 1073741824 /dev/urandom > "$work/tree/big"
	truncate -s 1300M "$img"
	mkfs.ext4 -q -d "$work/tree" "$img"
	rm -rf "$work/tree"
fi
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

drop
node --input-type=module - "$img" <<'JS'
import { Kernel } from './dist/src/index.js';
const img = process.argv[2];
let t = performance.now();
const k = Kernel.boot({ memoryMiB: 256 });
const m = await k.mount(await k.addDisk(img, { readOnly: true }), { readOnly: true });
await m.readdir('/');
const first = performance.now() - t;
t = performance.now();
let n = 0;
for await (const chunk of m.createReadStream('big'))
	n += chunk.length;
const s = (performance.now() - t) / 1000;
console.log(`boot to first readdir: ${first.toFixed(1)} ms`);
console.log(`createReadStream: ${(n / 1048576).toFixed(0)} MiB in ${s.toFixed(2)} s = ${(n / 1048576 / s).toFixed(0)} MiB/s`);
await m.unmount();
await k.halt();
JS

mnt=$(mktemp -d)
mount -o loop,ro "$img" "$mnt"
drop
t0=$(date +%s.%N)
cat "$mnt/big" > /dev/null
t1=$(date +%s.%N)
umount "$mnt"
rmdir "$mnt"
echo "host loop mount, cat: $(echo "1024 / ($t1 - $t0)" | bc -l | xargs printf '%.0f') MiB/s"
