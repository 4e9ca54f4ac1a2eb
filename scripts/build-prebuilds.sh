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
# Built from the kernel library and host library that npm run build made
# (build/lkl.o, build/native), through prebuildify (stripped, N-API).
# Skipped when its inputs have not changed since the last run.
#
# Usage: scripts/build-prebuilds.sh     (the host's architecture)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

say() { echo "prebuilds: $*" >&2; }
die() { echo "prebuilds: $*" >&2; exit 1; }

case "$(uname -m)" in
x86_64) arch=x64 ;;
aarch64) arch=arm64 ;;
*) die "no prebuilt binaries for $(uname -m)" ;;
esac
out="prebuilds/linux-$arch"
server=build/native/lklfuse-server

for f in build/lkl.o build/lkl.key build/native/liblklhost.a "$server"; do
	[ -f "$f" ] || die "$f is missing: run npm run build first"
done

# Everything that goes into the two files.
stamp=$( (cat build/lkl.key
	sha256sum build/native/liblklhost.a "$server" package.json
	find native/addon -maxdepth 1 -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	node -p process.versions.node) | sha256sum | cut -c1-24)
stampfile=build/prebuilds-linux-$arch.stamp
if [ -f "$stampfile" ] && [ "$(cat "$stampfile")" = "$stamp" ] &&
   [ -f "$out/lkl.glibc.node" ] && [ -f "$out/lklfuse-server" ]; then
	say "up to date ($out)"
	exit 0
fi

# Headers of the Node that runs us, installed with it: nothing is
# downloaded (node-gyp would fetch them for the --target otherwise).
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
if [ -z "$nodedir" ] || [ "$nodedir" = undefined ]; then
	prefix=$(dirname "$(dirname "$(command -v node)")")
	[ -f "$prefix/include/node/node_api.h" ] || die "no Node headers in $prefix/include/node"
	nodedir=$prefix
fi

say "building $out"
rm -rf "$out" "$stampfile"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! npm_config_nodedir=$nodedir node_modules/.bin/prebuildify --cwd native/addon --out "$top" \
	--name lkl --napi --strip --tag-libc -t "$(node -p process.versions.node)" >"$log" 2>&1; then
	cat "$log" >&2
	die "prebuildify failed"
fi
# prebuildify's node-gyp rebuild left native/addon/build configured for
# itself; the development build reconfigures from scratch next time.
rm -rf native/addon/build
[ -f "$out/lkl.glibc.node" ] || die "prebuildify made no $out/lkl.glibc.node"
install -m 0755 "$server" "$out/lklfuse-server"
strip "$out/lklfuse-server"

# The newest glibc symbol version either file needs is the oldest glibc
# they run on.
glibc=$(objdump -T "$out/lkl.glibc.node" "$out/lklfuse-server" |
	grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
kernel=$(dpkg-query -W -f='${Package} ${Version}' linux-source-6.12)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- linux native 2>/dev/null | head -1 || true)
cat > "$out/build-info.json" <<EOF
{
  "platform": "linux-$arch",
  "kernelSource": "$kernel (Debian), with linux/arch/lkl and linux/lkl.config of this package",
  "kernelBuildKey": "$(cat build/lkl.key)",
  "commit": "$commit${dirty:+ (with uncommitted changes to linux/ or native/)}",
  "compiler": "$(gcc -dumpfullversion) ($(gcc --version | head -1))",
  "glibc": "$glibc",
  "libfuse": "$(pkg-config --modversion fuse3)",
  "nodeApi": 8
}
EOF
echo "$stamp" > "$stampfile"
say "$(du -sh "$out" | cut -f1) in $out (needs glibc $glibc or newer)"
