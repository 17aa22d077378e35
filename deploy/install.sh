#!/bin/bash
# deploy/install.sh install|uninstall: what `make install` and `make uninstall` do.
# Environment: DESTDIR, PREFIX, SYSCONFDIR, BIN_FROM (the directory holding the
# built vmm-schedd and vmm-schedctl). install writes a manifest of every file and
# directory it created; uninstall removes exactly those, and the configuration
# file only if it is still as installed.
set -euo pipefail
cd "$(dirname "$0")/.."
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
BIN_FROM=${BIN_FROM:-build}
MANIFEST=$PREFIX/share/vmm-sched/install-manifest

die() {
	echo "install.sh: $*" >&2
	exit 1
}

[[ $PREFIX == /* ]] || die "PREFIX '$PREFIX' must be an absolute path"
[[ $SYSCONFDIR == /* ]] || die "SYSCONFDIR '$SYSCONFDIR' must be an absolute path"

entries=() # the manifest: "d DIR", "f FILE" or "c FILE SHA256" (configuration)

# mkdirs DIR: creates DIR under DESTDIR, recording each level it had to create.
mkdirs() {
	local dir=$1 missing=()
	while [ "$dir" != / ] && [ ! -d "$DESTDIR$dir" ]; do
		missing=("$dir" "${missing[@]}")
		dir=$(dirname "$dir")
	done
	for dir in "${missing[@]}"; do
		mkdir "$DESTDIR$dir"
		entries+=("d $dir")
	done
}

# put MODE SRC DEST: installs SRC as DEST (a path without DESTDIR).
put() {
	mkdirs "$(dirname "$3")"
	install -m "$1" "$2" "$DESTDIR$3"
	entries+=("f $3")
}

work=""
trap 'rm -rf "$work"' EXIT

do_install() {
	local unit
	[ -z "$DESTDIR" ] || mkdir -p "$DESTDIR"
	[ -x "$BIN_FROM/vmm-schedd" ] && [ -x "$BIN_FROM/vmm-schedctl" ] ||
		die "no vmm-schedd and vmm-schedctl in $BIN_FROM: build them first"
	[ ! -e "$DESTDIR$MANIFEST" ] ||
		die "$DESTDIR$MANIFEST exists: 'make uninstall' with the same DESTDIR and PREFIX first"
	work=$(mktemp -d)
	# The unit and the man pages name the installed paths.
	sed -e "s|/usr/local/sbin|$PREFIX/sbin|g" -e "s|/etc/vmm-sched|$SYSCONFDIR/vmm-sched|g" \
		deploy/systemd/vmm-schedd.service >"$work/vmm-schedd.service"
	put 0755 "$BIN_FROM/vmm-schedd" "$PREFIX/sbin/vmm-schedd"
	put 0755 "$BIN_FROM/vmm-schedctl" "$PREFIX/bin/vmm-schedctl"
	if [ "$PREFIX" = /usr ]; then unit=/usr/lib; else unit=$PREFIX/lib; fi
	put 0644 "$work/vmm-schedd.service" "$unit/systemd/system/vmm-schedd.service"
	put 0644 deploy/tmpfiles.d/vmm-sched.conf "$unit/tmpfiles.d/vmm-sched.conf"
	# The libvirt hook calls the installed vmm-schedctl.
	sed -e "s|/usr/local/bin/vmm-schedctl|$PREFIX/bin/vmm-schedctl|" \
		deploy/libvirt/qemu.d/vmm-sched >"$work/vmm-sched-hook"
	put 0755 "$work/vmm-sched-hook" "$SYSCONFDIR/libvirt/hooks/qemu.d/vmm-sched"
	put 0644 docs/man/vmm-schedd.8 "$PREFIX/share/man/man8/vmm-schedd.8"
	put 0644 docs/man/vmm-schedctl.8 "$PREFIX/share/man/man8/vmm-schedctl.8"
	put 0644 docs/man/vmm-sched.conf.5 "$PREFIX/share/man/man5/vmm-sched.conf.5"
	put 0644 deploy/bash-completion/vmm-schedctl \
		"$PREFIX/share/bash-completion/completions/vmm-schedctl"
	put 0644 deploy/vmm-sched.conf "$PREFIX/share/doc/vmm-sched/vmm-sched.conf.example"
	# An operator's configuration is never overwritten.
	if [ -e "$DESTDIR$SYSCONFDIR/vmm-sched/vmm-sched.conf" ]; then
		echo "install.sh: keeping the existing $DESTDIR$SYSCONFDIR/vmm-sched/vmm-sched.conf"
	else
		mkdirs "$SYSCONFDIR/vmm-sched"
		install -m 0644 deploy/vmm-sched.conf "$DESTDIR$SYSCONFDIR/vmm-sched/vmm-sched.conf"
		entries+=("c $SYSCONFDIR/vmm-sched/vmm-sched.conf $(sha256sum <deploy/vmm-sched.conf | cut -d' ' -f1)")
	fi
	mkdirs "$(dirname "$MANIFEST")"
	entries+=("f $MANIFEST")
	printf '%s\n' "${entries[@]}" >"$DESTDIR$MANIFEST"
	echo "installed under ${DESTDIR:-/}: the list is $MANIFEST"
}

do_uninstall() {
	local kind path sum i lines
	[ -f "$DESTDIR$MANIFEST" ] ||
		die "no $DESTDIR$MANIFEST: nothing was installed with this DESTDIR and PREFIX"
	mapfile -t lines <"$DESTDIR$MANIFEST"
	for line in "${lines[@]}"; do
		read -r kind path sum <<<"$line"
		case $kind in
		f) rm -f "$DESTDIR$path" ;;
		c)
			if [ "$(sha256sum <"$DESTDIR$path" 2>/dev/null | cut -d' ' -f1)" = "$sum" ]; then
				rm -f "$DESTDIR$path"
			elif [ -e "$DESTDIR$path" ]; then
				echo "install.sh: keeping $DESTDIR$path: it was changed since install"
			fi
			;;
		esac
	done
	# Directories last, deepest first; one still holding other files stays.
	for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
		read -r kind path sum <<<"${lines[$i]}"
		[ "$kind" = d ] || continue
		rmdir "$DESTDIR$path" 2>/dev/null ||
			echo "install.sh: keeping $DESTDIR$path: it holds files install did not put there"
	done
	echo "uninstalled what $MANIFEST listed from ${DESTDIR:-/}"
}

case ${1:-} in
install) do_install ;;
uninstall) do_uninstall ;;
*) die "usage: install.sh install|uninstall" ;;
esac
