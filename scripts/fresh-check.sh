#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Prove the README's promise: on a fresh Debian 12 machine, as root, with
# only Node and npm present, `npm run demo` and `npm test` work.  A machine
# we develop on has long since installed whatever setup.sh forgets, so only
# a truly fresh root shows what is missing (it once lacked rsync and setcap).
#
# What it does: debootstrap a minimal Debian 12 (cached, pristine, outside
# the clone, so later runs skip it), unpack a new copy of it for every run,
# add what this machine has beyond Debian (Node, npm, Node's headers, the
# CA bundle, npm's configuration, resolv.conf, the apt sources), clone the
# repository into it at one commit, then chroot in and run the commands as
# root with no terminal, no stdin and a clean environment.  Each command's
# output goes to a log; the summary says PASS/FAIL, durations and where the
# logs are.  Exit status: 0 when every command passed.
#
# Usage: scripts/fresh-check.sh [--keep] [--commit REV] [--work DIR]
#                               [--only demo|test] [--dir PATH]
#   --keep        leave the root in place for inspection (unmounted)
#   --commit REV  check REV instead of HEAD
#   --work DIR    where runs go (default /var/tmp/lkl-fresh)
#   --only STEP   run only `npm run demo` or only `npm test`
#   --dir PATH    where the clone goes inside the root (default /root/lkl,
#                 where root would clone it; /root is private: mode 0700)
#
# Runs as root (debootstrap, chroot and mounts need it).  Only committed
# work is checked: the clone is made from the repository, not the working
# tree.
set -euo pipefail

suite=bookworm
mirror=http://deb.debian.org/debian
# minbase (essential packages and apt) is less than any real Debian 12
# install, so whatever passes here does not lean on a package that some
# installs happen to have.
variant=minbase
# A hung test would otherwise hold the run forever; tap's own per-test
# timeouts are shorter, so this only catches what slips past them.
step_limit=2h
clean_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
repo=$(git -C "$here" rev-parse --show-toplevel)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/lkl/fresh"

keep=0
rev=HEAD
work=/var/tmp/lkl-fresh
dest=/root/lkl
steps=(demo test)

# Set once known; cleanup looks at them.
run=''
root=''
trees=()         # directories to remove at exit: the root, a debootstrap
step_pid=''      # the session running a command in the root

say() { echo "fresh-check: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
	sed -n '/^# Usage:/,/^# *where root/s/^# \{0,1\}//p' "$self"
	exit "${1:-0}"
}

parse_args() {
	while (($#)); do
		case $1 in
		--keep) keep=1 ;;
		--commit) (($# > 1)) || usage 2; rev=$2; shift ;;
		--commit=*) rev=${1#*=} ;;
		--work) (($# > 1)) || usage 2; work=$2; shift ;;
		--work=*) work=${1#*=} ;;
		--only) (($# > 1)) || usage 2; steps=("$2"); shift ;;
		--only=*) steps=("${1#*=}") ;;
		--dir) (($# > 1)) || usage 2; dest=$2; shift ;;
		--dir=*) dest=${1#*=} ;;
		-h | --help) usage 0 ;;
		*) say "unknown argument: $1"; usage 2 ;;
		esac
		shift
	done
	case ${steps[*]} in
	'demo test' | demo | test) ;;
	*) die "--only takes demo or test, not '${steps[*]}'" ;;
	esac
	[[ $dest == /?* && $dest != *[[:space:]]* ]] ||
		die "--dir takes an absolute path without white space"
}

# Mounts made here (the root's /dev, /proc, /sys, and whatever a test
# mounts) then live in a namespace of their own: they never show up in, or
# propagate to, the host's mount table, and they vanish even if this script
# is killed before its cleanup runs.
enter_mount_namespace() {
	if [[ ${LKL_FRESH_CHECK_NS:-} != 1 ]]; then
		LKL_FRESH_CHECK_NS=1 exec unshare --mount --propagation private \
			-- bash "$self" "$@"
	fi
}

check_host() {
	((EUID == 0)) || die "run as root: debootstrap, chroot and mounts need it"
	local p
	for p in /usr/bin/node /usr/lib/node_modules/npm /usr/include/node/node_api.h \
		/etc/ssl/certs/ca-certificates.crt; do
		[[ -e $p ]] || die "this machine lacks $p, which the fresh root gets from it"
	done
}

# The commit to check, and a word about what is left out.
resolve_commit() {
	sha=$(git -C "$repo" rev-parse --verify --quiet "$rev^{commit}") ||
		die "no commit '$rev' in $repo"
	subject=$(git -C "$repo" log -1 --format=%s "$sha" | cut -c1-72)
	local dirty
	dirty=$(git -C "$repo" status --porcelain --untracked-files=no | wc -l)
	if ((dirty)) && [[ $rev == HEAD ]]; then
		say "note: $dirty file(s) with uncommitted changes in $repo are NOT checked;"
		say "      the fresh root gets commit ${sha:0:12} only"
	fi
}

make_run_dir() {
	case $work in /*) ;; *) work="$PWD/$work" ;; esac
	[[ $work != *[[:space:]]* ]] || die "--work must not contain white space"
	mkdir -p "$work"
	# The kernel build and the test images take several GB.
	local free_kb
	free_kb=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
	((free_kb > 15 * 1024 * 1024)) || die "less than 15 GB free in $work"
	run=$(mktemp -d "$work/$(date +%Y%m%d-%H%M%S)-${sha:0:12}.XXXX")
	root="$run/root"
}

# Mount points at or below $1, deepest first (from our namespace's table).
mounts_under() {
	awk -v r="$1" '{ m = $5; gsub(/\\040/, " ", m)
		if (m == r || index(m, r "/") == 1) print m }' /proc/self/mountinfo |
		sort -r
}

# Processes left running inside a root hold its mounts busy; they are ours
# (started in the root by this script), so end them by id.
kill_inside() {
	local tree=$1 d r pids=()
	for d in /proc/[0-9]*; do
		r=$(readlink "$d/root" 2>/dev/null) || continue
		[[ $r == "$tree" || $r == "$tree"/* ]] && pids+=("${d#/proc/}")
	done
	((${#pids[@]})) || return 0
	say "ending ${#pids[@]} process(es) left in $tree: ${pids[*]}"
	ps -o pid=,args= -p "$(
		IFS=,
		echo "${pids[*]}"
	)" >&2 2>/dev/null || true
	kill -TERM "${pids[@]}" 2>/dev/null || true
	sleep 2
	kill -KILL "${pids[@]}" 2>/dev/null || true
	sleep 1
}

unmount_under() {
	local tree=$1 m pass
	for pass in 1 2 3; do
		mounts_under "$tree" | grep -q . || return 0
		while read -r m; do
			umount "$m" 2>/dev/null ||
				{ ((pass < 3)) || umount -l "$m" 2>/dev/null; } || true
		done < <(mounts_under "$tree")
		sleep 1
	done
	! mounts_under "$tree" | grep -q .
}

# Delete a root, but only once nothing is mounted under it: rm must never
# reach the host's /dev, /proc or /sys through a bind mount.
# --one-file-system guards the rest (a bind mount of the same file system
# would not stop it, hence the check first).
remove_tree() {
	local tree=$1
	[[ -d $tree ]] || return 0
	kill_inside "$tree"
	if ! unmount_under "$tree"; then
		say "NOT removing $tree: still mounted there:"
		mounts_under "$tree" >&2
		return 1
	fi
	rm -rf --one-file-system -- "$tree"
	say "removed $tree"
}

cleanup() {
	local rc=$? t
	trap - EXIT INT TERM HUP
	if [[ -n $step_pid ]]; then
		kill -TERM -- "-$step_pid" 2>/dev/null || true
		wait "$step_pid" 2>/dev/null || true
	fi
	for t in "${trees[@]}"; do
		if ((keep)) && [[ $t == "$root" ]]; then
			kill_inside "$t"
			unmount_under "$t" || say "still mounted under $t"
			say "kept the root: $t"
		else
			remove_tree "$t" || rc=1
		fi
	done
	exit "$rc"
}

install_debootstrap() {
	command -v debootstrap >/dev/null && return 0
	say "installing debootstrap"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q </dev/null >&2
	apt-get install -y -q --no-install-recommends debootstrap </dev/null >&2
}

# The pristine root, made once: a fresh debootstrap takes minutes, an
# unpack seconds.  Shared by concurrent runs, hence the lock.
ensure_base() {
	arch=$(dpkg --print-architecture)
	base="$cache/$suite-$variant-$arch.tar.gz"
	mkdir -p "$cache"
	exec 8>"$cache/.lock"
	flock 8
	if [[ -s $base ]]; then
		say "base root: $base (cached)"
		exec 8>&-
		return 0
	fi
	install_debootstrap
	local tmp="$run/debootstrap" log="$run/debootstrap.log" t0=$SECONDS
	trees+=("$tmp")
	say "debootstrap $suite ($variant, $arch) from $mirror; log $log"
	if ! debootstrap --variant="$variant" --arch="$arch" "$suite" "$tmp" \
		"$mirror" </dev/null >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "debootstrap failed; log $log"
	fi
	# debootstrap copied this machine's identity in; a pristine root has none.
	rm -f "$tmp/etc/hostname" "$tmp/etc/resolv.conf"
	tar -C "$tmp" --numeric-owner --xattrs --xattrs-include='*' --acls \
		-czf "$base.tmp" .
	mv "$base.tmp" "$base"
	remove_tree "$tmp"
	say "base root cached in $base ($((SECONDS - t0))s)"
	exec 8>&-
}

unpack_root() {
	mkdir "$root"
	trees+=("$root")
	tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' --acls \
		-xzpf "$base"
}

# Copy host paths into the root at the same place, as they are (symbolic
# links stay links).
copy_in() {
	local p
	for p; do
		[[ -e $p || -L $p ]] || continue
		mkdir -p "$root$(dirname "$p")"
		cp -a "$p" "$root$(dirname "$p")/"
	done
}

# Use the same apt sources as this machine (its mirror, and the updates and
# security suites a real install has), instead of debootstrap's one line.
copy_apt_sources() {
	local files=() f k
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] && files+=("$f")
	done
	[[ -s /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
	((${#files[@]})) || return 0
	rm -f "$root/etc/apt/sources.list"
	copy_in "${files[@]}"
	# A source signed by a key the root lacks would fail apt-get update.
	for k in $(grep -ohE '(Signed-By:|signed-by=)[[:space:]]*/[^][:space:]]+' \
		"${files[@]}" | sed -E 's/^(Signed-By:|signed-by=)[[:space:]]*//'); do
		[[ -e $root$k ]] || copy_in "$k"
	done
}

# What this machine has beyond Debian, and nothing else.
add_host_extras() {
	copy_in /usr/bin/node /usr/lib/node_modules/npm /usr/bin/npm /usr/bin/npx \
		/usr/include/node
	# npm checks the registry's certificate against this bundle.  Locally
	# added certificates go too: a package that pulls in ca-certificates
	# rebuilds the bundle from them.
	copy_in /etc/ssl/certs/ca-certificates.crt
	local c
	for c in /usr/local/share/ca-certificates/*; do copy_in "$c"; done
	copy_in /etc/npmrc /usr/etc/npmrc
	local home
	home=$(getent passwd root | cut -d: -f6)
	if [[ -f $home/.npmrc ]]; then
		cp -a "$home/.npmrc" "$root/root/.npmrc"
	fi
	rm -f "$root/etc/resolv.conf"
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	copy_apt_sources
	# What booting does on a real machine and a chroot never does:
	# systemd-tmpfiles links /etc/mtab to the kernel's mount table (and
	# container runtimes make the same link).  fusermount3, unmounting for
	# a user who is not root, reads it; debootstrap leaves it out.
	[[ -e $root/etc/mtab || -L $root/etc/mtab ]] ||
		ln -s ../proc/self/mounts "$root/etc/mtab"
	# A package's maintainer script must not start a daemon from the root
	# on this machine; this is what any chroot does.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
}

# A clone, not a copy of the working tree: a fresh machine gets what is
# committed.  --no-hardlinks so nothing in the root shares the repository's
# object files.  A local clone copies every object, so any commit works.
clone_repo() {
	say "cloning $repo at ${sha:0:12} into $dest in the root"
	mkdir -p "$(dirname "$root$dest")"
	git clone -q --no-hardlinks --no-checkout "$repo" "$root$dest"
	git -C "$root$dest" -c advice.detachedHead=false checkout -q "$sha"
}

# The root first, onto itself: on a real machine / is a mount point, and
# `unshare --propagation` (which a test runs) fails with EINVAL where it is
# not.  Then /dev for loop devices and /dev/fuse (with /dev/pts and
# /dev/shm under it), /proc and /sys for everything else.  rslave: an
# unmount in the root must not propagate back to the host's mounts.
mount_api() {
	local d
	mount --bind "$root" "$root"
	for d in dev proc sys; do
		mkdir -p "$root/$d"
		mount --rbind "/$d" "$root/$d"
		mount --make-rslave "$root/$d"
	done
}

fmt_duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# Run one command in the clone, as a fresh root login would: no terminal
# (its own session), nothing on stdin, only a minimal environment.
run_step() {
	local name=$1 log="$run/$1.log" t0 rc=0
	shift
	say "running '$*' in the root; log $log"
	t0=$SECONDS
	setsid -w timeout -k 60 "$step_limit" \
		chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root \
		SHELL=/bin/bash PATH="$clean_path" LANG=C.UTF-8 \
		/bin/sh -c 'cd "$0" && exec "$@"' "$dest" "$@" \
		</dev/null >"$log" 2>&1 &
	step_pid=$!
	wait "$step_pid" || rc=$?
	step_pid=''
	local secs=$((SECONDS - t0)) verdict=PASS
	if ((rc == 124)); then
		verdict="FAIL (timed out after $step_limit)"
	elif ((rc)); then
		verdict="FAIL (exit $rc)"
	fi
	results+=("$(printf '%-5s %-30s %8s  %s' "$name" "$verdict" \
		"$(fmt_duration "$secs")" "$log")")
	# tap's top-level "not ok" lines name the failing test files.
	local line
	while IFS= read -r line; do
		results+=("      $line")
	done < <(grep -E '^not ok' "$log" || true)
	if ((rc)); then
		failed=1
		say "'$*' failed (exit $rc) after $(fmt_duration "$secs"); last lines of $log:"
		tail -n 40 "$log" | sed 's/^/    | /' >&2
	else
		say "'$*' passed in $(fmt_duration "$secs")"
	fi
}

report() {
	local r
	echo "fresh-check: Debian $suite ($variant) + Node $(node --version), commit ${sha:0:12} \"$subject\""
	for r in "${results[@]}"; do echo "  $r"; done
	echo "  logs in $run"
	((keep)) && echo "  root kept in $root"
	return 0
}

main() {
	parse_args "$@"
	check_host
	enter_mount_namespace "$@"
	resolve_commit
	make_run_dir
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	ensure_base
	unpack_root
	add_host_extras
	clone_repo
	mount_api
	results=()
	failed=0
	local s
	for s in "${steps[@]}"; do
		case $s in
		demo) run_step demo npm run demo ;;
		test) run_step test npm test ;;
		esac
	done
	report
	return "$failed"
}

main "$@"
