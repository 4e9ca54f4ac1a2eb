#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel library: overlay our port (linux/arch/lkl, patches) on
# Debian's linux-source-6.12 and produce
#   build/lkl.o              one relocatable, position-independent object
#                            whose only global symbols are the lkl_ API
#   build/include/lkl/...    the uapi headers, renamed (LKL_*, lkl_*)
#
# By default the kernel is built for this machine with its own gcc.  With
# LKL_ARCH=x64 or LKL_ARCH=arm64 it is built for that architecture, with
# the Debian cross toolchain (x86_64-linux-gnu-*, aarch64-linux-gnu-*)
# when it is not this machine's, into build/$LKL_ARCH/ instead (lkl.o,
# include/), from an object directory of its own.
#
# A finished build is cached outside the clone, keyed by the content of
# linux/, the kernel package version and the compiler's target, so a
# fresh clone of the same sources gets it in seconds.  Compilation goes
# through ccache if present.
#
# With LKL_VARIANT=net, the network build for liblkl-hijack.so:
# lkl.config plus lkl-net.config, into build/net/ (or build/$LKL_ARCH/net/),
# from an object directory of its own and cached under a key of its own.
# The copy tools keep the filesystem-only kernel (docs/hijack.md says why).
#
# Environment: LKL_ARCH, LKL_VARIANT, LKL_CACHE_DIR (default ~/.cache/lkl),
# LKL_JOBS, V=1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
work="$top/build/kernel"
cache="${LKL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lkl}"
tarball=/usr/src/linux-source-6.12.tar.xz
pkg=linux-source-6.12
jobs="${LKL_JOBS:-$(nproc)}"

say() { echo "build: $*" >&2; }
die() { echo "build: $*" >&2; exit 1; }

# Node's names for the architectures (process.arch), and the GNU ones.
case $(uname -m) in
x86_64) host_arch=x64 ;;
aarch64) host_arch=arm64 ;;
*) host_arch=$(uname -m) ;;
esac
if [ -z "${LKL_ARCH:-}" ]; then
	out="$top/build"
	obj="$work/obj"
	cross=
else
	case $LKL_ARCH in
	x64) triplet=x86_64-linux-gnu ;;
	arm64) triplet=aarch64-linux-gnu ;;
	*) die "LKL_ARCH=$LKL_ARCH: not x64 or arm64" ;;
	esac
	out="$top/build/$LKL_ARCH"
	obj="$work/obj-$LKL_ARCH"
	cross=
	[ "$LKL_ARCH" = "$host_arch" ] || cross=$triplet-
	command -v "${cross}gcc" >/dev/null ||
		die "no ${cross}gcc: install it with: apt-get install gcc-$triplet"
fi
config="$here/lkl.config"
case ${LKL_VARIANT:-} in
'') ;;
net)
	out="$out/net"
	obj="$obj-net"
	# Outside build/kernel, which a new unpacking replaces.
	mkdir -p "$out"
	config="$out/lkl.config"
	# A setting of lkl-net.config replaces lkl.config's (CONFIG_NET=n).
	awk -F= 'FNR == NR { if (/^CONFIG_/) net[$1] = 1; next }
		!($1 in net)' "$here/lkl-net.config" "$here/lkl.config" > "$config"
	cat "$here/lkl-net.config" >> "$config"
	;;
*) die "LKL_VARIANT=$LKL_VARIANT: not net" ;;
esac

if [ ! -f "$tarball" ]; then
	if [ "$(id -u)" = 0 ]; then
		say "installing $pkg"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q </dev/null >&2
		apt-get install -y -q --no-install-recommends "$pkg" </dev/null >&2
	fi
	[ -f "$tarball" ] || die "missing $tarball: install it with: apt-get install $pkg"
fi

version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || stat -c %Y "$tarball")
target=$("${cross}gcc" -dumpmachine)
key=$( (echo "$version"; echo "$target"; echo "${LKL_VARIANT:-}"; cd "$top" &&
	find linux -type f ! -name '*.orig' -print0 |
	LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-24)
entry="$cache/build-$key"

install_outputs() {
	mkdir -p "$out"
	rm -rf "$out/include.new"
	cp -r "$1/include" "$out/include.new"
	rm -rf "$out/include"
	mv "$out/include.new" "$out/include"
	cp "$1/lkl.o" "$out/lkl.o.new"
	mv "$out/lkl.o.new" "$out/lkl.o"
	echo "$key" > "$out/lkl.key"
}

# One build at a time in this clone, whatever the architecture: they all
# overlay the port on the same source tree.
mkdir -p "$out"
exec 9>"$top/build/.build.lock"
flock 9

if [ -f "$out/lkl.key" ] && [ "$(cat "$out/lkl.key")" = "$key" ] && [ -f "$out/lkl.o" ]; then
	say "up to date ($key)"
	exit 0
fi
if [ -f "$entry/lkl.o" ]; then
	say "from cache $entry"
	install_outputs "$entry"
	exit 0
fi

start=$(date +%s)
src="$work/linux-$version"
if [ ! -f "$src/.unpacked" ]; then
	say "unpacking $tarball"
	rm -rf "$work"
	mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	touch "$src/.unpacked"
fi

# Overlay the port; apply the generic patches once each, in order.
mkdir -p "$src/arch/lkl"
cp -a "$here/arch/lkl/." "$src/arch/lkl/"
# Files removed from linux/arch/lkl must vanish from the tree as well.
(cd "$src/arch/lkl" && find . -type f) | while read -r f; do
	[ -e "$here/arch/lkl/$f" ] || rm -f "$src/arch/lkl/$f"
done
# Each stamp is a copy of the patch as applied, so that a patch changed
# or removed since is taken out again (with its old text).
for stamp in "$src"/.patched-*.patch; do
	[ -e "$stamp" ] || continue
	[ -e "$here/patches/${stamp##*/.patched-}" ] && continue
	say "taking out ${stamp##*/.patched-}"
	patch -d "$src" -p1 -s -R < "$stamp"
	rm -f "$stamp"
done
for p in "$here"/patches/*.patch; do
	[ -e "$p" ] || continue
	stamp="$src/.patched-$(basename "$p")"
	if [ -f "$stamp" ]; then
		cmp -s "$stamp" "$p" && continue
		say "taking out the old $(basename "$p")"
		patch -d "$src" -p1 -s -R < "$stamp"
		rm -f "$stamp"
	fi
	say "applying $(basename "$p")"
	patch -d "$src" -p1 -s --forward < "$p"
	cp "$p" "$stamp"
done

cc=${cross}gcc
if command -v ccache >/dev/null; then
	cc="ccache $cc"
	# Paths inside the tree are relative, so clones share the cache.
	export CCACHE_BASEDIR="$work" CCACHE_NOHASHDIR=1
	export CCACHE_DIR="${CCACHE_DIR:-$cache/ccache}"
	export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"
fi
# Kbuild's dependency files cannot see a header that starts (or stops)
# shadowing another -- an arch asm/ header replacing a generated
# asm-generic wrapper, say -- so when the port's set of files changes,
# the objects are rebuilt from scratch (through ccache: mostly hits).
files=$(cd "$here" && find arch -type f | LC_ALL=C sort | sha256sum | cut -c1-24)
if [ -d "$obj" ] && [ "$(cat "$obj/.lkl.files" 2>/dev/null)" != "$files" ]; then
	say "the port's files changed: rebuilding from scratch"
	rm -rf "$obj"
fi
mkdir -p "$obj"
echo "$files" > "$obj/.lkl.files"
mk=(make -C "$src" O="$obj" ARCH=lkl ${cross:+CROSS_COMPILE=$cross} "CC=$cc" HOSTCC=gcc
	-j"$jobs" ${V:+V=$V})

# Configure: allnoconfig, plus our fragment.
if ! cmp -s "$config" "$obj/.lkl.config" || [ ! -f "$obj/.config" ]; then
	say "configuring"
	KCONFIG_ALLCONFIG="$config" "${mk[@]}" -s allnoconfig
	cp "$config" "$obj/.lkl.config"
	# A setting the fragment asks for but Kconfig refused is a build error.
	refused=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$config" | while IFS= read -r line; do
		name=${line%%=*}
		if [ "${line#*=}" = n ]; then
			! grep -q "^$name=" "$obj/.config" || echo "$line"
		else
			grep -qxF "$line" "$obj/.config" || echo "$line"
		fi
	done | tr '\n' ' ')
	if [ -n "$refused" ]; then
		rm -f "$obj/.lkl.config"
		die "Kconfig refused: $refused(check their dependencies)"
	fi
fi

say "compiling with $jobs jobs"
"${mk[@]}" -s vmlinux
"${mk[@]}" -s headers_install INSTALL_HDR_PATH="$work/uapi"

# Keep only the entry points declared in host_ops.h global.
#
# RO_DATA() gathers into .rodata what a position-independent kernel
# writes: pointers the host's dynamic linker relocates (.data.rel.ro) and
# __ro_after_init variables, written at boot.  Left named .rodata, the
# host's link would put this writable section with its read-only data:
# where code shares that segment (aarch64's linkers do not separate code
# by default), the text segment becomes writable and executable.  Named
# .data.*, it goes with the host's writable data (not its RELRO, which is
# read-only once relocated).
stage="$work/stage"
rm -rf "$stage"
mkdir -p "$stage/include"
sed -n 's/^[a-z].*[ *]\(lkl_[a-z_]*\)(.*/\1/p' \
	"$here/arch/lkl/include/uapi/asm/host_ops.h" > "$work/exports.txt"
"${cross}objcopy" --keep-global-symbols="$work/exports.txt" \
	--rename-section .rodata=.data..lkl_rodata \
	--add-section .note.GNU-stack=/dev/null \
	--remove-section=.comment "$obj/vmlinux" "$stage/lkl.o"

undefined=$("${cross}nm" -u "$stage/lkl.o" | awk '$2 != "_GLOBAL_OFFSET_TABLE_" {print $2}' | tr '\n' ' ')
[ -z "$undefined" ] || die "lkl.o needs symbols from outside: $undefined"
foreign=$("${cross}nm" -g --defined-only "$stage/lkl.o" | awk '$3 !~ /^lkl_/ {print $3}' | tr '\n' ' ')
[ -z "$foreign" ] || die "lkl.o exports non-lkl_ symbols: $foreign"

node "$here/scripts/gen-uapi-headers.mjs" "$work/uapi/include" "$stage/include" \
	asm/unistd.h linux/stat.h linux/fcntl.h linux/errno.h linux/xattr.h \
	linux/fs.h linux/mount.h linux/falloc.h linux/reboot.h linux/utsname.h \
	asm/stat.h asm/statfs.h linux/time_types.h linux/types.h \
	linux/openat2.h linux/magic.h linux/limits.h
cp "$here/arch/lkl/include/uapi/asm/host_ops.h" "$stage/include/lkl/host_ops.h"

mkdir -p "$cache"
rm -rf "$entry.tmp"
cp -r "$stage" "$entry.tmp"
rm -rf "$entry"
mv "$entry.tmp" "$entry"
install_outputs "$entry"
say "built in $(( $(date +%s) - start ))s ($key)"
