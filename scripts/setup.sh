#!/usr/bin/env bash
# Prepare a machine to build and test lkl: Debian packages, npm packages,
# then the build.  Idempotent: a second run installs nothing and leaves
# the (incremental) build to decide what is out of date.
#
# Meant for a fresh Debian 12 machine, run as root with node and npm
# present.  Needs no terminal and reads nothing from stdin.
set -euo pipefail

cd "$(dirname "$0")/.."

say() { echo "setup: $*" >&2; }
. scripts/debian-packages.sh

# Kernel build (linux-source-6.12 and its tools; patch for linux/patches), the addon (gcc, g++,
# python3, pkg-config), the tools the tests use to make and check
# filesystem images, and gdb, with which a test that finds the FUSE server
# stuck reports where each of its threads waits in our kernel.
packages=(
	linux-source-6.12 bc flex bison libelf-dev libssl-dev make gcc g++ patch
	python3 e2fsprogs btrfs-progs xfsprogs dosfstools mtools ccache fuse3
	libfuse3-dev fdisk gdisk attr acl xz-utils pkg-config tar gzip zstd
	stress-ng gdb rsync libcap2-bin
	# mkimage --reproducible: libfaketime runs the mkfs programs with a
	# stopped clock and a seeded getrandom()
	libfaketime
	# test/filesystems: the tools that make and check the other filesystems
	# (Debian 12 has no mkfs.hfsplus: xorriso makes the HFS+ side of an ISO)
	exfatprogs f2fs-tools erofs-utils squashfs-tools xorriso genisoimage
	udftools ntfs-3g jfsutils
	# test/containers: podman with runc, --init (catatonit), rootless (uidmap,
	# slirp4netns); debootstrap for their images (scripts/container-image.sh)
	podman runc catatonit uidmap slirp4netns debootstrap
	# test/hijack: network namespaces, taps and veths (ip), and the
	# programs run on the library kernel's stack (ip, tc, ping)
	iproute2 iputils-ping
)

debian_missing "${packages[@]}"

if ((${#missing[@]})); then
	if ((EUID != 0)); then
		echo "setup: missing Debian packages; as root run: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	say "installing ${missing[*]}"
	debian_install "${missing[@]}"
else
	say "Debian packages present"
fi

# npm ci when node_modules is absent or older than the lock file.  The
# published package has no lock file (npm never ships one): there, npm
# install, to rebuild its binaries from the sources it carries.
if [[ ! -f package-lock.json ]]; then
	if [[ ! -d node_modules/typescript ]]; then
		say "npm install (no package-lock.json)"
		npm install --no-audit --no-fund --include=dev </dev/null >&2
	fi
elif [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
	say "npm ci"
	npm ci --no-audit --no-fund </dev/null >&2
	touch node_modules # npm ci may keep an older mtime; mark it current
else
	say "node_modules up to date"
fi

say "npm run build"
npm run build </dev/null >&2
say "done"
