#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the Node addon against build/lkl.o and the host library, and put it
# where node-gyp-build looks first: build/Release/lkl.node.  node-gyp works
# in native/addon/build, so it never cleans the kernel outputs in build/.
set -euo pipefail
cd "$(dirname "$0")"
gyp="../../node_modules/.bin/node-gyp"
[ -f build/Makefile ] || "$gyp" configure >/dev/null
"$gyp" build >/dev/null
mkdir -p ../../build/Release
cp build/Release/lkl.node ../../build/Release/lkl.node.new
mv ../../build/Release/lkl.node.new ../../build/Release/lkl.node
