#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run xfstests, the kernel's own filesystem test suite, through lklfuse:
# FSTYP=fuse, FUSE_SUBTYP=.lklfuse, so that xfstests mounts its test and
# scratch images with `mount -t fuse.lklfuse IMAGE DIR`, which runs
# mount.fuse3, which runs `lklfuse IMAGE DIR -o OPTIONS`.
#
# It installs the Debian packages xfstests needs, unpacks and builds
# xfstests outside the clone (cached), makes fresh test and scratch images
# for each filesystem, runs the generic group's quick tests less those of
# scripts/xfstests/exclude (tests that cannot pass over FUSE, each with its
# reason), checks the images with the filesystem's own fsck afterwards and
# prints one summary line per filesystem.  Far too long for npm test:
# about an hour per filesystem on two cores.
#
# Usage: scripts/xfstests.sh [--fs ext4,xfs,btrfs] [--tests "generic/001 ..."]
#                            [--tarball FILE] [--work DIR] [--no-exclude]
#                            [--parallel]
#   --fs LIST       filesystems to run on, in order (default ext4,btrfs;
#                   xfs works too)
#   --tests LIST    these tests instead of -g generic/quick (space-separated,
#                   xfstests' names or patterns)
#   --tarball FILE  the xfstests source tarball (default
#                   ../shared/peers/xfstests.tar.xz beside the clone, or
#                   $XFSTESTS_TARBALL)
#   --work DIR      images, mount points, results (default /var/tmp/lkl-xfstests)
#   --no-exclude    run the excluded tests too
#   --parallel      run the filesystems at the same time (their tests do
#                   not share images; each waits mostly on its mounts'
#                   servers), each one's output in DIR/<fs>/check.log only
#
# Excluded (scripts/xfstests/exclude, and exclude.<fs> for one filesystem):
# tests that cannot pass through FUSE, each with its reason; and, on a
# machine whose root may not raise a lowered file size limit (no
# CAP_SYS_RESOURCE, as in some containers), the two tests that need to.
# scripts/xfstests/known: failures that are understood, not yet fixed;
# they run, and the summary names them apart from the rest.
#
# Results: DIR/<fs>/results (xfstests' own: NNN.out.bad, NNN.full), the
# kernel's console in DIR/<fs>/test-kernel.log and scratch-kernel.log.
# Exit status: 0 when no test failed and every image is fsck-clean.
#
# Runs as root (xfstests mounts, and creates its fsgqa users; this removes
# the users it created when it ends).  Needs `lklfuse` where mount.fuse3's
# shell finds it, which runs it with no PATH of its own (so the default
# /usr/local/bin:/usr/bin:/bin...): a link /usr/local/bin/lklfuse to this
# clone's bin/lklfuse is made for the run and removed after, unless an
# lklfuse is already there (an installed lkl), which is then used.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "xfstests: $*" >&2; }
die() { say "$*"; exit 2; }
. "$repo/scripts/debian-packages.sh"

filesystems=ext4,btrfs
tests=
tarball=${XFSTESTS_TARBALL:-$repo/../shared/peers/xfstests.tar.xz}
work=/var/tmp/lkl-xfstests
lists=$repo/scripts/xfstests
exclude=true
parallel=false
while (($#)); do
	case $1 in
	--fs) filesystems=${2:?--fs needs a list}; shift 2 ;;
	--tests) tests=${2:?--tests needs a list}; shift 2 ;;
	--tarball) tarball=${2:?--tarball needs a file}; shift 2 ;;
	--work) work=${2:?--work needs a directory}; shift 2 ;;
	--no-exclude) exclude=false; shift ;;
	--parallel) parallel=true; shift ;;
	-h|--help) sed -n '3,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
((EUID == 0)) || die "run as root: xfstests mounts and creates users"
[[ -f $tarball ]] || die "$tarball: no xfstests tarball (give --tarball)"
[[ -x $repo/bin/lklfuse && -f $repo/dist/src/cli.js ]] ||
	die "lkl is not built: run npm run setup first"

# --- Debian packages: the README's list, less what runs no generic test
# on this machine (lvm2, the exotic filesystems' tools).
packages=(
	acl attr automake bc dbench dump e2fsprogs fio gawk gcc indent
	libacl1-dev libaio-dev libcap-dev libgdbm-dev libgdbm-compat-dev
	libtool libtool-bin liburing-dev make psmisc python3 quota sed
	uuid-dev uuid-runtime xfsprogs xfslibs-dev xfsdump btrfs-progs
	sqlite3 xz-utils fuse3 util-linux procps
)
debian_missing "${packages[@]}"
if ((${#missing[@]})); then
	say "installing ${missing[*]}"
	debian_install "${missing[@]}"
fi

# --- xfstests, built once per tarball content, outside the clone.
sum=$(sha256sum "$tarball" | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/lkl/xfstests-$sum
xfstests=$cache/xfstests
if [[ ! -f $cache/built ]]; then
	say "building xfstests in $cache"
	rm -rf "$cache"
	mkdir -p "$cache"
	tar -xJf "$tarball" -C "$cache"
	[[ -f $xfstests/check ]] || die "$tarball: no xfstests/check inside"
	nice make -C "$xfstests" -j"$(nproc)" </dev/null >"$cache/build.log" 2>&1 ||
		die "xfstests failed to build: see $cache/build.log"
	touch "$cache/built"
fi

# --- What the run changes on the host, undone when it ends.
created_users=()
linked=false
cleanup() {
	local u
	for mnt in "$work"/*/test "$work"/*/scratch; do
		mountpoint -q "$mnt" 2>/dev/null && "$repo/scripts/xfstests/umount" "$mnt"
	done
	for u in "${created_users[@]}"; do
		userdel -r "$u" >/dev/null 2>&1 || userdel "$u" >/dev/null 2>&1 || true
	done
	getent group fsgqa >/dev/null && ! getent passwd fsgqa >/dev/null &&
		[[ ${made_group:-} == yes ]] && groupdel fsgqa
	$linked && rm -f /usr/local/bin/lklfuse
	return 0
}
trap cleanup EXIT

# The users that xfstests' permission tests switch to.
for u in fsgqa fsgqa2 123456-fsgqa; do
	getent passwd "$u" >/dev/null && continue
	useradd -m "$u" && created_users+=("$u")
done
if ! getent group fsgqa >/dev/null; then
	groupadd fsgqa && made_group=yes
fi

if [[ ! -e /usr/local/bin/lklfuse ]]; then
	ln -s "$repo/bin/lklfuse" /usr/local/bin/lklfuse
	linked=true
fi
say "mount helper: $(readlink -f /usr/local/bin/lklfuse)"

# --- One filesystem: fresh images, a config, the run, fsck.
mkfs_image() {	# FS IMAGE
	case $1 in
	ext4) mkfs.ext4 -q -F "$2" ;;
	xfs) mkfs.xfs -q -f "$2" ;;
	btrfs) mkfs.btrfs -q -f "$2" >/dev/null ;;
	*) die "unknown filesystem $1 (ext4, xfs or btrfs)" ;;
	esac
}

fsck_image() {	# FS IMAGE: fsck's verdict, read-only
	case $1 in
	ext4) e2fsck -fn "$2" ;;
	xfs) xfs_repair -n "$2" ;;
	btrfs) btrfs check --readonly "$2" ;;
	esac
}

run_fs() {
	local fs=$1 dir=$work/$1 img log status=0
	say "$fs: images in $dir"
	for m in "$dir/test" "$dir/scratch"; do
		mountpoint -q "$m" && "$repo/scripts/xfstests/umount" "$m"
	done
	rm -rf "$dir"
	mkdir -p "$dir/test" "$dir/scratch" "$dir/results"
	for img in test scratch; do
		truncate -s 8G "$dir/$img.img"
		mkfs_image "$fs" "$dir/$img.img"
	done
	cat >"$dir/local.config" <<-EOF
		export FSTYP=fuse
		export FUSE_SUBTYP=.lklfuse
		export TEST_DEV=$dir/test.img
		export TEST_DIR=$dir/test
		export SCRATCH_DEV=$dir/scratch.img
		export SCRATCH_MNT=$dir/scratch
		export TEST_FS_MOUNT_OPTS="-o allow_other,log=$dir/test-kernel.log"
		export MOUNT_OPTIONS="-o allow_other,log=$dir/scratch-kernel.log"
		export RESULT_BASE=$dir/results
		export DF_PROG="$repo/scripts/xfstests/df -T -P"
		export UMOUNT_PROG=$repo/scripts/xfstests/umount
	EOF

	local args=() x
	if $exclude; then
		for x in "$lists/exclude" "$lists/exclude.$fs" "$work/exclude.machine"; do
			[[ -f $x ]] && args+=(-E "$x")
		done
	fi
	if [[ -n $tests ]]; then
		# shellcheck disable=SC2206 # a list of names and patterns
		args+=($tests)
	else
		args+=(-g generic/quick)
	fi
	log=$dir/check.log
	say "$fs: running ./check ${args[*]} (log: $log)"
	if $parallel; then
		(cd "$xfstests" && HOST_OPTIONS=$dir/local.config nice ./check "${args[@]}") \
			</dev/null >"$log" 2>&1 || status=1
	else
		(cd "$xfstests" && HOST_OPTIONS=$dir/local.config nice ./check "${args[@]}") \
			</dev/null 2>&1 | tee "$log" || status=1
	fi
	for m in "$dir/test" "$dir/scratch"; do
		mountpoint -q "$m" && "$repo/scripts/xfstests/umount" "$m"
	done

	local fsck=clean
	for img in test scratch; do
		if ! fsck_image "$fs" "$dir/$img.img" >"$dir/fsck-$img.log" 2>&1; then
			fsck="NOT clean ($img: $dir/fsck-$img.log)"
			status=1
		fi
	done

	local ran failed notrun failures known=() new=() t line
	# xfstests' "Ran:" names every test it tried, those not run too.
	notrun=$(sed -n 's/^Not run: //p' "$log" | wc -w)
	ran=$(($(sed -n 's/^Ran: //p' "$log" | wc -w) - notrun))
	failures=$(sed -n 's/^Failures: //p' "$log")
	failed=$(wc -w <<<"$failures")
	((failed == 0)) || status=1
	for t in $failures; do
		if sed 's/#.*//' "$lists/known" | grep -qx "$t"; then
			known+=("$t")
		else
			new+=("$t")
		fi
	done
	line="xfstests $fs: ran $ran, failed $failed, not run $notrun; images fsck $fsck"
	((${#known[@]})) && line+="; known: ${known[*]}"
	((${#new[@]})) && line+="; failed: ${new[*]}"
	echo "$line" >"$dir/summary"
	return $status
}

# Tests that lower the file size limit and raise it again: root can only
# if it has CAP_SYS_RESOURCE.
mkdir -p "$work"
rm -f "$work/exclude.machine"
if ! (ulimit -f 1048576 && ulimit -f unlimited) 2>/dev/null; then
	printf '%s\n' '# root cannot raise a lowered file size limit here' \
		generic/394 generic/564 >"$work/exclude.machine"
	say "root may not raise a lowered file size limit: generic/394, 564 excluded"
fi

overall=0
IFS=, read -r -a fs_list <<<"$filesystems"
if $parallel; then
	pids=()
	for fs in "${fs_list[@]}"; do
		run_fs "$fs" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || overall=1
	done
else
	for fs in "${fs_list[@]}"; do
		run_fs "$fs" || overall=1
	done
fi
for fs in "${fs_list[@]}"; do
	cat "$work/$fs/summary" 2>/dev/null || { echo "xfstests $fs: no result"; overall=1; }
done
exit $overall
