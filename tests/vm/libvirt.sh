# Helpers for VM cases with real libvirt domains (sourced after lib.sh). The
# test VM's /etc is read-only: /etc/libvirt becomes a writable copy. Domains
# boot Debian's 6.1 kernel (tests/guest/) from a busybox initramfs under
# nested KVM.

LV_URI=qemu:///system
HOOK_LOG=$TMP/hook.log
declare -A DOM_CONSOLE

virsh_() { virsh -q -c "$LV_URI" "$@"; }
libvirtd_up() { virsh_ version >/dev/null 2>&1; }

# start_libvirtd: virtlogd and libvirtd with our hook (wrapped to log each call's ms).
start_libvirtd() {
	[ -f /run/virtlogd.pid ] || virtlogd -d || fail "virtlogd did not start"
	libvirtd -d || fail "libvirtd did not start"
	wait_for 120 libvirtd_up || fail "libvirtd did not answer within 120 s"
}

stop_libvirtd() {
	local pid
	pid=$(cat /run/libvirtd.pid 2>/dev/null) || fail "no /run/libvirtd.pid"
	kill -TERM "$pid"
	wait_for 60 sh -c "! kill -0 $pid 2>/dev/null" || fail "libvirtd $pid did not stop"
}

setup_libvirt() {
	local etc=$TMP/etc-libvirt
	mkdir -p "$etc"
	cp -a /etc/libvirt/. "$etc/"
	mount --bind "$etc" /etc/libvirt || fail "cannot bind-mount a copy of /etc/libvirt"
	rm -f /etc/libvirt/qemu/networks/autostart/*
	# Core scheduling cookies hang SMT hosts under sched_ext (docs/operator-guide.md).
	printf 'user = "root"\ngroup = "root"\nsched_core = "none"\n' >>/etc/libvirt/qemu.conf
	mkdir -p /etc/libvirt/hooks/qemu.d /var/lib/libvirt/qemu /var/log/libvirt/qemu \
		/var/cache/libvirt/qemu /run/libvirt
	sed -e "s|^VMM_SCHEDCTL=.*|VMM_SCHEDCTL=$PWD/$BUILD/vmm-schedctl VMM_SCHED_SOCKET=$CTL_SOCK|" \
		deploy/libvirt/qemu.d/vmm-sched >"$TMP/hook-real"
	# The wrapper times the hook without a fork of its own (EPOCHREALTIME).
	cat >/etc/libvirt/hooks/qemu.d/vmm-sched <<HOOK
#!/bin/bash
t0=\${EPOCHREALTIME/./}
$TMP/hook-real "\$@"
rc=\$?
echo "\$1 \$2 rc=\$rc ms=\$(((\${EPOCHREALTIME/./} - t0) / 1000))" >>$HOOK_LOG
exit \$rc
HOOK
	chmod 755 "$TMP/hook-real" /etc/libvirt/hooks/qemu.d/vmm-sched
	echo "+cpu +cpuset" >/sys/fs/cgroup/cgroup.subtree_control
	GUEST_KERNEL=$(tests/guest/fetch-kernel)/vmlinuz || fail "no guest kernel: run 'make guest'"
	# The guest's TSC rate: its own calibration fails when the test VM is
	# loaded, and it then hangs before init (tests/guest/tsc-khz).
	GUEST_TSC_KHZ=$(tests/guest/tsc-khz) || fail "cannot tell the guests their TSC rate"
	# vmmsched_busy=1 on the kernel command line: keep the boot CPU busy, a
	# minute after init (a guest busy at once starves another's boot under
	# the emulator), saying so on the console (wait_busy). The work is mostly
	# in the guest kernel (dd zero-filling 4 MiB buffers): with a user-mode
	# spin the nested guest oopsed ("ENTRY_TRAMPOLINE stack guard page was
	# hit", a fault of the emulated nested virtualisation) in each of five runs
	# soon after it began, and rebooted; with dd once in one run, later.
	cat >"$TMP/guest.sh" <<'GUEST'
grep -q vmmsched_busy=1 /proc/cmdline && { sleep 60; echo "vmm-sched-guest: busy"; dd if=/dev/zero of=/dev/null bs=4M; }
sleep 100000
GUEST
	tests/guest/make-initramfs -o "$TMP/initrd.gz" --init "$TMP/guest.sh" >/dev/null ||
		fail "cannot build the guest initramfs"
}

# define_domain NAME VCPUS MAXVCPUS BUSY METADATA: a persistent domain (not
# started) whose guest spins after init if BUSY is 1.
define_domain() {
	local name=$1 vcpus=$2 max=$3 busy=$4 meta=$5
	DOM_CONSOLE[$name]=$TMP/$name.console
	cat >"$TMP/$name.xml" <<XML
<domain type='kvm'>
  <name>$name</name>
  <metadata>$meta</metadata>
  <memory unit='MiB'>128</memory>
  <vcpu placement='static' current='$vcpus'>$max</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST_KERNEL</kernel><initrd>$TMP/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 loglevel=6 nopv tsc_early_khz=$GUEST_TSC_KHZ no_timer_check vmmsched_busy=$busy</cmdline></os>
  <features><acpi/></features>
  <cpu mode='host-passthrough'><feature policy='disable' name='xsave'/></cpu>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <serial type='file'><source path='${DOM_CONSOLE[$name]}'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
  <seclabel type='none'/>
</domain>
XML
	virsh_ define "$TMP/$name.xml" >/dev/null || fail "virsh define $name failed"
}

dom_pid() { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }

# start_domains NAME...: starts them and waits until each guest's init runs;
# a guest that printed nothing within 90 s (hung in SeaBIOS, ~1 boot in 15;
# the kernel prints within 10-40 s here) or did not reach init within 240 s
# is destroyed and started again, up to 3 boots (earlier consoles kept as
# NAME.console.attemptN); each retry is logged. A name in LV_NO_INIT is started
# paused: a domain whose threads are all the case looks at needs no guest, and
# a third nested guest booting at once slows the other two in the emulator.
declare -A LV_NO_INIT=()
start_domains() {
	local name why
	for name in "$@"; do
		virsh_ start ${LV_NO_INIT[$name]:+--paused} "$name" >/dev/null ||
			fail "virsh start $name failed: $(tail -n 5 /var/log/libvirt/qemu/$name.log)"
	done
	for name in "$@"; do
		[ -z "${LV_NO_INIT[$name]:-}" ] || continue
		if ! wait_for 90 test -s "${DOM_CONSOLE[$name]}"; then
			note "guest $name printed nothing in 90 s (stuck before the kernel): retrying once"
			virsh_ destroy "$name" >/dev/null
			virsh_ start "$name" >/dev/null || fail "virsh start $name (retry) failed"
		fi
	done
	for name in "$@"; do
		[ -z "${LV_NO_INIT[$name]:-}" ] || continue
		local try=1
		# A guest that died (the emulator fault of guest-agent/README.md) is
		# booted again at once instead of waiting out the 240 s.
		until wait_for 240 grep -aqE "vmm-sched-guest: init started|Kernel panic|BUG: " "${DOM_CONSOLE[$name]}" &&
			grep -aq "vmm-sched-guest: init started" "${DOM_CONSOLE[$name]}"; do
			[ "$try" -lt 3 ] ||
				skip_case "guest $name did not reach init in $try boots: $(tail -c 400 "${DOM_CONSOLE[$name]}")"
			why=$(grep -a -m1 -oE "Kernel panic.*|BUG: .*" "${DOM_CONSOLE[$name]}" | tr -d '\r')
			[ -n "$why" ] || why="in 240 s: $(tail -n 1 "${DOM_CONSOLE[$name]}" | tr -d '\r')"
			note "guest $name did not reach init ($why): boot $((try + 1)) of 3"
			virsh_ destroy "$name" >/dev/null
			cp "${DOM_CONSOLE[$name]}" "${DOM_CONSOLE[$name]}.attempt$try"
			: >"${DOM_CONSOLE[$name]}"
			virsh_ start "$name" >/dev/null || fail "virsh start $name (boot $((try + 1))) failed"
			try=$((try + 1))
		done
	done
}

# cpu_ns TID...: the time the threads have run, summed (schedstat), in ns.
cpu_ns() {
	local t sum=0 ns
	for t in "$@"; do
		read -r ns _ <"/proc/$t/schedstat" 2>/dev/null || ns=0
		sum=$((sum + ns))
	done
	echo "$sum"
}

# wait_busy NAME...: until each busy guest has started to spin. A guest that
# says nothing within 150 s of the wait still counts as busy if its vCPU
# threads ran over half of the next 5 s on the host, which is what the case
# needs of it (a CI run had a nested guest stuck spinning after its init, the
# emulator's doing: guest-agent/README.md); that is said on the output.
wait_busy() {
	local name tids before after
	for name in "$@"; do
		wait_for 150 grep -aq "vmm-sched-guest: busy" "${DOM_CONSOLE[$name]}" && continue
		tids=$(dom_threads "$name" '^CPU [0-9]+/KVM')
		before=$(cpu_ns $tids)
		nap 5
		after=$(cpu_ns $tids)
		[ -n "$tids" ] && [ $((after - before)) -gt 2500000000 ] ||
			fail "guest $name did not start its busy loop, and its vCPU threads (${tids:-none}) ran" \
				"$(((after - before) / 1000000)) ms of 5 s: $(tail -c 300 "${DOM_CONSOLE[$name]}")"
		note "guest $name printed no 'busy' in 150 s, but its vCPU threads ran" \
			"$(((after - before) / 1000000)) ms of 5 s: taken as spinning"
	done
}

# The tids of domain NAME's threads whose comm matches the extended regex RE.
dom_threads() {
	local pid t
	pid=$(dom_pid "$1") || return 1
	for t in /proc/"$pid"/task/*; do
		grep -Eq "$2" "$t/comm" 2>/dev/null && echo "${t##*/}"
	done
}

cleanup_libvirt() {
	local d
	# Kept for a failed run's reader (tests/vm/run --keep DIR).
	cp "$SCHEDD_LOG" /run/results/libvirt-schedd.log 2>/dev/null
	cp "$HOOK_LOG" /run/results/libvirt-hook.log 2>/dev/null
	cp "$TMP"/*.console* /run/results/ 2>/dev/null
	for d in $(virsh_ list --name 2>/dev/null); do virsh_ destroy "$d" >/dev/null 2>&1; done
	[ -f /run/libvirtd.pid ] && kill -TERM "$(cat /run/libvirtd.pid)" 2>/dev/null
	[ -f /run/virtlogd.pid ] && kill -TERM "$(cat /run/virtlogd.pid)" 2>/dev/null
	umount /etc/libvirt 2>/dev/null
}
