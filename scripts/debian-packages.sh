# Debian packages for the scripts here: sourced (. scripts/debian-packages.sh),
# not run.

# Sets the array `missing` to those of the packages "$@" not installed.
debian_missing() {
	local p status
	missing=()
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[[ $status == "install ok installed" ]] || missing+=("$p")
	done
}

# Installs the packages "$@" with no terminal and nothing read from stdin,
# fetching the package lists first (a fresh machine has none).  Its own
# status, not set -e's: callers may test it.
debian_install() {
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q </dev/null >&2 || return
	apt-get install -y -q --no-install-recommends "$@" </dev/null >&2
}
