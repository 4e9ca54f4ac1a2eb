#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the Node addon against build/lkl.o and the host library, and put it
# where node-gyp-build looks first: build/Release/lkl.node (a development
# build; scripts/build-prebuilds.sh makes the shipped ones).  node-gyp works
# in native/addon/build, so it never cleans the kernel outputs in build/.
set -euo pipefail
cd "$(dirname "$0")"
gyp=(../../node_modules/.bin/node-gyp)
# Build against the headers of the Node that runs us when they are
# installed with it: this machine cannot download them.
nodedir=${npm_config_nodedir:-$(npm config get nodedir 2>/dev/null || true)}
if [ -z "$nodedir" ] || [ "$nodedir" = undefined ]; then
	prefix=$(dirname "$(dirname "$(command -v node)")")
	[ -f "$prefix/include/node/node_api.h" ] && nodedir=$prefix
fi
[ -n "$nodedir" ] && [ "$nodedir" != undefined ] && gyp+=(--nodedir="$nodedir")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The static inputs (lkl.o, libnative.a) are not make dependencies of the
# addon: relink every time, which takes a second.
rm -f build/Release/lkl.node build/Release/obj.target/lkl.node
if ! { [ -f build/Makefile ] || "${gyp[@]}" configure; } >"$log" 2>&1 ||
   ! "${gyp[@]}" build >>"$log" 2>&1; then
	cat "$log" >&2
	exit 1
fi
mkdir -p ../../build/Release
cp build/Release/lkl.node ../../build/Release/lkl.node.new
mv ../../build/Release/lkl.node.new ../../build/Release/lkl.node
# The server beside the addon, as in prebuilds/<platform>-<arch>/, where
# src/lkl/binaries.ts looks for it; a link, so that it is never stale.
ln -sfn ../native/lklfuse-server ../../build/Release/lklfuse-server
