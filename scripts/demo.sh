#!/usr/bin/env bash
# The README's first command, after set-up: make a small ext4 image from a
# sample tree with mkfs.ext4 -d, then boot the kernel in this process and
# list the image through it.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/tree/etc" "$work/tree/home/user/docs"
echo "hello from an ext4 image" > "$work/tree/home/user/docs/hello.txt"
printf 'lkl-demo\n' > "$work/tree/etc/hostname"
head -c 1048576 /dev/urandom > "$work/tree/home/user/random.bin"
ln -s docs/hello.txt "$work/tree/home/user/link"
truncate -s 32M "$work/sample.img"
mkfs.ext4 -q -I 256 -d "$work/tree" "$work/sample.img"

node scripts/demo.mjs "$work/sample.img"
