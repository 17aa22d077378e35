#!/usr/bin/env bash
# Install every package vmm-sched needs to build and test, on Debian 12 (bookworm,
# with bookworm-backports for libbpf) or a current Debian/Ubuntu with native packages.
# Idempotent: prints what it installs, installs nothing that is already there.
set -euo pipefail

die() { echo "install-deps: $*" >&2; exit 1; }
command -v apt-get >/dev/null || die "needs apt-get (Debian or Ubuntu)"
need_root() { [ "$(id -u)" = 0 ] || die "packages are missing ($*): run as root to install them"; }

. /etc/os-release
export DEBIAN_FRONTEND=noninteractive

# Common to every distribution (the last line: the real-guest benchmark's
# workloads, tests/guest/make-bench-initramfs). clang is added below per release (BPF target;
# its libFuzzer runtime for tests/fuzz).
pkgs=(make gcc pkg-config libelf-dev zlib1g-dev libjson-c-dev libinih-dev
      liburing-dev libnuma-dev libcmocka-dev libvirt-dev libxml2-dev libvirt-daemon-system
      libvirt-clients qemu-system-x86 qemu-utils busybox-static xz-utils zstd
      dpkg-dev python3 clang-format kmod iproute2 procps util-linux
      libmicrohttpd-dev prometheus tmux jq gnuplot-nox
      rt-tests sysbench stress-ng rocksdb-tools)

backports_libbpf=0
case "${ID}:${VERSION_CODENAME:-}" in
debian:bookworm)
	pkgs+=(clang-19 llvm-19 libclang-rt-19-dev bpftool)
	backports_libbpf=1 ;;
*)
	pkgs+=(clang llvm libclang-rt-dev libbpf-dev bpftool) ;;
esac

apt_updated=0
apt_update_once() {
	[ "$apt_updated" = 1 ] && return
	echo "install-deps: apt-get update"
	apt-get update -q >/dev/null
	apt_updated=1
}

# Adds <suite>-backports with the same archive URI as the existing <suite> entry.
add_backports_suite() {
	local suite=$1 list=/etc/apt/sources.list.d/vmm-sched-backports.sources uri
	if grep -rqs "${suite}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return
	fi
	# deb822 stanzas: the URIs line of the stanza whose Suites lists $suite.
	uri=$(awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
		{ u = ""; hit = 0
		  for (i = 1; i <= NF; i++) {
			if ($i ~ /^URIs:/) { u = $i; sub(/^URIs:[ \t]*/, "", u) }
			if ($i ~ /^Suites:/) { n = split($i, w, /[ \t]+/); for (j = 2; j <= n; j++) if (w[j] == s) hit = 1 }
		  }
		  if (hit && u != "") { print u; exit } }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	if [ -z "$uri" ]; then
		uri=$(sed -n -E "s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+${suite}[[:space:]].*/\2/p" \
			/etc/apt/sources.list 2>/dev/null | head -n1 || true)
	fi
	[ -n "$uri" ] || die "cannot find the archive URI of '${suite}' in /etc/apt/sources.list{,.d}; add ${suite}-backports by hand"
	echo "install-deps: adding ${suite}-backports (${uri}) as $list"
	cat >"$list" <<SRC
Types: deb
URIs: ${uri%% *}
Suites: ${suite}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt_updated=0
}

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	need_root "${missing[*]}"
	apt_update_once
	echo "install-deps: installing ${missing[*]}"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$backports_libbpf" = 1 ]; then
	have=$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null || true)
	if [ -z "$have" ] || dpkg --compare-versions "$have" lt 1:1.4; then
		need_root "libbpf-dev >= 1.4"
		add_backports_suite bookworm
		apt_update_once
		echo "install-deps: installing libbpf-dev from bookworm-backports"
		apt-get install -y -q --no-install-recommends -t bookworm-backports libbpf-dev libbpf1 >/dev/null
	fi
fi
echo "install-deps: all build and test packages present"
