#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The container images the container tests (test/containers) run lkl in,
# made on this machine from Debian's mirror alone: no registry is ever
# asked for anything.  Build pipelines run lkl in containers (Docker,
# Podman, GitLab CI, GitHub Actions, Kubernetes Jobs), and what a
# container lacks (devices, capabilities, a writable root, a reaping PID 1)
# only shows in a real one.
#
#   lkl-test-base  Debian 12 minbase (debootstrap) plus /usr/bin/node from
#                  this machine, nothing else: no fuse3, no npm.
#   lkl-test-fuse  the same plus Debian's fuse3 package (libfuse3.so.3 and
#                  a setuid fusermount3), installed in the root with apt in
#                  a chroot before the import.
#
# Each is a root tarball imported with `podman import`, tagged with a key
# made of what went in (the minbase root, node, this script), e.g.
# localhost/lkl-test-fuse:1a2b3c4d5e6f.  The tarballs are cached in
# ${XDG_CACHE_HOME:-$HOME/.cache}/lkl/containers/ (outside the clone), so a
# later run only imports, and only when podman lacks the image.  Images and
# tarballs of older keys are removed.
#
# The minbase root is the one scripts/fresh-check.sh caches
# (~/.cache/lkl/fresh/bookworm-minbase-amd64.tar.gz, read only) when it is
# there, else our own debootstrap of it, cached beside the images.
#
# Usage: scripts/container-image.sh [--tarballs]
#   prints one line per image, "NAME REF", e.g.
#   "lkl-test-fuse localhost/lkl-test-fuse:1a2b3c4d5e6f"; with --tarballs
#   a third field, the cached root tarball (for a rootless podman, which
#   has its own image store, to import).
#
# Runs as root (debootstrap, chroot, podman's system store).  Installs
# debootstrap, podman, runc, uidmap, slirp4netns and catatonit with apt
# when missing.  Concurrent runs (tap runs two test files at once) wait for
# each other on a lock.
set -euo pipefail

suite=bookworm
mirror=http://deb.debian.org/debian
variant=minbase
# What the fuse image adds to the base.
fuse_packages=(fuse3)
# podman and what it needs here; the tests run containers with runc (this
# machine's cgroup set-up is refused by crun), --init uses catatonit, and
# rootless podman needs newuidmap/newgidmap (uidmap) and slirp4netns.
host_packages=(debootstrap podman runc uidmap slirp4netns catatonit zstd)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/debian-packages.sh"
self="$here/$(basename "${BASH_SOURCE[0]}")"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/lkl/containers"
fresh_base="${XDG_CACHE_HOME:-$HOME/.cache}/lkl/fresh/$suite-$variant-$(dpkg --print-architecture).tar.gz"
own_base="$cache/$suite-$variant-$(dpkg --print-architecture).tar.gz"
image_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

tarballs=0
work=''          # a temporary directory, removed at exit

say() { echo "container-image: $*" >&2; }
die() { say "$*"; exit 1; }

case ${1:-} in
'') ;;
--tarballs) tarballs=1 ;;
-h | --help) sed -n '/^# Usage:/,/^#   rootless/s/^# \{0,1\}//p' "$self"; exit 0 ;;
*) die "unknown argument: $1 (try --help)" ;;
esac

((EUID == 0)) || die "run as root: debootstrap, chroot and podman's system store need it"
[[ -x /usr/bin/node ]] || die "this machine lacks /usr/bin/node, which the images get from it"

# A chroot's mounts (/proc) are unmounted before the tree goes; rm never
# crosses into another file system.
cleanup() {
	local rc=$?
	if [[ -n $work && -d $work ]]; then
		local m
		for m in $(awk -v r="$work" 'index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
			umount -l "$m" || true
		done
		rm -rf --one-file-system -- "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_host_packages() {
	local missing
	debian_missing "${host_packages[@]}"
	((${#missing[@]})) || return 0
	say "installing ${missing[*]}"
	debian_install "${missing[@]}"
}

# The pristine minbase root: fresh-check's if it made one, else ours.
base_tarball() {
	if [[ -s $fresh_base ]]; then
		echo "$fresh_base"
		return
	fi
	if [[ ! -s $own_base ]]; then
		local root="$work/debootstrap" log="$work/debootstrap.log"
		say "debootstrap $suite ($variant) from $mirror; log $log"
		if ! debootstrap --variant="$variant" "$suite" "$root" "$mirror" </dev/null >"$log" 2>&1; then
			tail -n 30 "$log" >&2
			die "debootstrap failed"
		fi
		rm -f "$root/etc/hostname" "$root/etc/resolv.conf"
		tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -czf "$own_base.tmp" .
		mv "$own_base.tmp" "$own_base"
		rm -rf --one-file-system -- "$root"
	fi
	echo "$own_base"
}

unpack() { # tarball dir
	mkdir -p "$2"
	tar -C "$2" --numeric-owner --xattrs --xattrs-include='*' -xpf "$1"
}

pack() { # dir tarball
	tar -C "$1" --numeric-owner --xattrs --xattrs-include='*' -c . | zstd -q -T0 -3 -o "$2.tmp"
	mv "$2.tmp" "$2"
}

# base: minbase + node.  Nothing else: a user's image has its own way of
# getting node (a node base image, nodesource), and the tests bring lkl.
make_base() { # tarball-out
	local root="$work/base"
	unpack "$(base_tarball)" "$root"
	install -m 755 /usr/bin/node "$root/usr/bin/node"
	# debootstrap leaves the packages it installed in apt's cache, and
	# their lists: Debian's own images do not ship them.
	rm -f "$root/etc/hostname" "$root/etc/resolv.conf" "$root/var/cache/apt/archives/"*.deb
	rm -rf "$root/var/lib/apt/lists/"*
	pack "$root" "$1"
	rm -rf --one-file-system -- "$root"
}

# fuse: base + fuse3, with apt in a chroot, as a Containerfile's RUN
# apt-get install would.
make_fuse() { # base-tarball-out fuse-tarball-out
	local root="$work/fuse"
	unpack "$1" "$root"
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	mount -t proc proc "$root/proc"
	say "apt-get install ${fuse_packages[*]} in the fuse image's root"
	chroot "$root" /usr/bin/env -i PATH="$image_path" DEBIAN_FRONTEND=noninteractive \
		sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends "$@" && apt-get clean' \
		sh "${fuse_packages[@]}" </dev/null >"$work/apt.log" 2>&1 || {
		tail -n 30 "$work/apt.log" >&2
		die "apt-get install ${fuse_packages[*]} failed in the chroot"
	}
	umount "$root/proc"
	rm -rf "$root/var/lib/apt/lists/"* "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
	[[ -u $root/usr/bin/fusermount3 ]] || die "fusermount3 in the fuse image is not setuid"
	pack "$root" "$2"
	rm -rf --one-file-system -- "$root"
}

import() { # tarball ref
	say "podman import $2"
	podman import --quiet --change "ENV PATH=$image_path" --change 'CMD ["/bin/bash"]' - "$2" <"$1" >/dev/null
}

# Older keys' images and tarballs: not used by this checkout any more.
prune() { # name key
	local ref
	for ref in $(podman images --noheading --format '{{.Repository}}:{{.Tag}}' "localhost/$1" 2>/dev/null); do
		[[ $ref == "localhost/$1:$2" ]] && continue
		podman rmi "$ref" >/dev/null 2>&1 && say "removed the older image $ref" || true
	done
	local f
	for f in "$cache/$1-"*.tar.zst; do
		[[ -e $f && $f != "$cache/$1-$2.tar.zst" ]] && rm -f "$f"
	done
	return 0
}

main() {
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	# Under the lock: two apt-get runs at once would fight over dpkg's.
	install_host_packages
	work=$(mktemp -d "$cache/work.XXXXXX")

	local base_src key_base key_fuse
	base_src=$(base_tarball)
	# What goes in: the minbase root, node, and the recipe (this script).
	key_base=$(cat <(sha256sum <"$base_src") <(sha256sum </usr/bin/node) <(sha256sum <"$self") | sha256sum | cut -c1-12)
	key_fuse=$(printf '%s %s\n' "$key_base" "${fuse_packages[*]}" | sha256sum | cut -c1-12)
	local base_tar="$cache/lkl-test-base-$key_base.tar.zst" fuse_tar="$cache/lkl-test-fuse-$key_fuse.tar.zst"
	local base_ref="localhost/lkl-test-base:$key_base" fuse_ref="localhost/lkl-test-fuse:$key_fuse"

	if [[ ! -s $base_tar ]]; then
		say "making $base_tar"
		make_base "$base_tar"
	fi
	if [[ ! -s $fuse_tar ]]; then
		say "making $fuse_tar"
		make_fuse "$base_tar" "$fuse_tar"
	fi
	podman image exists "$base_ref" || import "$base_tar" "$base_ref"
	podman image exists "$fuse_ref" || import "$fuse_tar" "$fuse_ref"
	prune lkl-test-base "$key_base"
	prune lkl-test-fuse "$key_fuse"

	if ((tarballs)); then
		echo "lkl-test-base $base_ref $base_tar"
		echo "lkl-test-fuse $fuse_ref $fuse_tar"
	else
		echo "lkl-test-base $base_ref"
		echo "lkl-test-fuse $fuse_ref"
	fi
}

main
