#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The binaries the npm package ships, so that installing it needs no
# compiler, no kernel source and no root:
#   prebuilds/linux-<arch>/lkl.glibc.node   the addon, the kernel linked in
#   prebuilds/linux-<arch>/lklfuse-server   the FUSE server (needs libfuse3)
#   prebuilds/linux-<arch>/build-info.json  what they were built from
# node-gyp-build picks the addon by platform at run time (src/lkl/binaries.ts).
#
# For this machine's architecture they are made from what npm run build
# made (build/lkl.o, build/native).  arm64 is cross-compiled on x86-64
# (Debian's aarch64-linux-gnu toolchain and libfuse3-dev:arm64, which
# scripts/check-arm64.sh installs): the kernel and host library first,
# into build/arm64 (LKL_ARCH=arm64), then the addon.  The addon goes
# through prebuildify (N-API, stripped), in a copy of native/addon under
# build/, so that the development build in native/addon/build stays.
# Skipped when the inputs have not changed since the last run.
#
# Usage: scripts/build-prebuilds.sh [x64|arm64]    (default: this machine's)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

say() { echo "prebuilds: $*" >&2; }
die() { echo "prebuilds: $*" >&2; exit 1; }

case "$(uname -m)" in
x86_64) host=x64 ;;
aarch64) host=arm64 ;;
*) host=$(uname -m) ;;
esac
arch=${1:-$host}
case "$arch" in
x64) triplet=x86_64-linux-gnu ;;
arm64) triplet=aarch64-linux-gnu ;;
*) die "no prebuilt binaries for $arch (x64 or arm64)" ;;
esac

if [ "$arch" = "$host" ]; then
	from=build
	tools=
	for f in build/lkl.o build/lkl.key build/native/libnative.a build/native/lklfuse-server; do
		[ -f "$f" ] || die "$f is missing: run npm run build first"
	done
else
	from=build/$arch
	tools=$triplet-
	command -v "${tools}gcc" >/dev/null ||
		die "no ${tools}gcc: bash scripts/check-arm64.sh installs the cross toolchain"
	LKL_ARCH=$arch bash linux/build.sh
	make -s -C native LKL_ARCH="$arch"
fi
out=prebuilds/linux-$arch
server=$from/native/lklfuse-server
stampfile=build/prebuilds-linux-$arch.stamp

# Everything that goes into the two files.
stamp=$( (cat "$from/lkl.key"
	sha256sum "$from/native/libnative.a" "$server" package.json
	find native/addon -maxdepth 1 -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	node -p process.versions.node) | sha256sum | cut -c1-24)
if [ -f "$stampfile" ] && [ "$(cat "$stampfile")" = "$stamp" ] &&
   [ -f "$out/lkl.glibc.node" ] && [ -f "$out/lklfuse-server" ]; then
	say "up to date ($out)"
	exit 0
fi

# Headers of the Node that runs us, installed with it: nothing is
# downloaded (node-gyp would fetch them for the --target otherwise).
# An addon of N-API 8 runs on any Node from 20 on, whatever its build.
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
if [ -z "$nodedir" ] || [ "$nodedir" = undefined ]; then
	prefix=$(dirname "$(dirname "$(command -v node)")")
	[ -f "$prefix/include/node/node_api.h" ] || die "no Node headers in $prefix/include/node"
	nodedir=$prefix
fi

# The addon's sources include ../lib/...: a copy of native/addon beside
# links to the rest of native/.
stage=build/prebuild-$arch
rm -rf "$stage" "$out" "$stampfile"
mkdir -p "$stage/native/addon"
cp native/addon/*.cc native/addon/*.h native/addon/binding.gyp "$stage/native/addon/"
for d in native/*/; do
	d=$(basename "$d")
	[ "$d" = addon ] || ln -s "$top/native/$d" "$stage/native/$d"
done

say "building $out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
B=$top/$from
if ! env npm_config_nodedir="$nodedir" \
	GYP_DEFINES="lkl_include=$B/include lkl_native_lib=$B/native/libnative.a lkl_o=$B/lkl.o" \
	${tools:+CC=${tools}gcc CXX=${tools}g++ LINK=${tools}g++ AR=${tools}ar} \
	node_modules/.bin/prebuildify --cwd "$stage/native/addon" --out "$top" --arch "$arch" \
	--name lkl --napi --strip --strip-bin "${tools}strip" --tag-libc \
	-t "$(node -p process.versions.node)" >"$log" 2>&1; then
	cat "$log" >&2
	die "prebuildify failed"
fi
[ -f "$out/lkl.glibc.node" ] || die "prebuildify made no $out/lkl.glibc.node"
"${tools}readelf" -h "$out/lkl.glibc.node" | grep -q "Machine:.*$( [ "$arch" = arm64 ] && echo AArch64 || echo X86-64)" ||
	die "$out/lkl.glibc.node is not an $arch object"
install -m 0755 "$server" "$out/lklfuse-server"
"${tools}strip" "$out/lklfuse-server"
rm -rf "$stage"

# The newest glibc symbol version either file needs is the oldest glibc
# they run on.
glibc=$("${tools}objdump" -T "$out/lkl.glibc.node" "$out/lklfuse-server" |
	grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
libfuse=$(dpkg-query -W -f='${Version}' "libfuse3-dev:$( [ "$arch" = arm64 ] && echo arm64 || echo amd64)" 2>/dev/null ||
	echo unknown)
kernel=$(dpkg-query -W -f='${Package} ${Version}' linux-source-6.12)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- linux native 2>/dev/null | head -1 || true)
cat > "$out/build-info.json" <<EOF
{
  "platform": "linux-$arch",
  "kernelSource": "$kernel (Debian), with linux/arch/lkl and linux/lkl.config of this package",
  "kernelBuildKey": "$(cat "$from/lkl.key")",
  "commit": "$commit${dirty:+ (with uncommitted changes to linux/ or native/)}",
  "compiler": "$("${tools}gcc" --version | head -1)",
  "glibc": "$glibc",
  "libfuse": "$libfuse (Debian libfuse3-dev)",
  "nodeApi": 8
}
EOF
echo "$stamp" > "$stampfile"
say "$(du -sh "$out" | cut -f1) in $out (needs glibc $glibc or newer)"
