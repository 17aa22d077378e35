# The guest side of tests/guest/hints_e2e, run by the initramfs's /init (busybox sh).
# Each "phase NAME" line starts a phase the host samples the region in; the
# sleeps give the host time to look.
# Nested under KVM in the emulated test VM (vmm_sched.nested=1), an interrupt
# that finds a vCPU in user mode now and then faults in the guest's entry code
# (an emulator fault; a host TCG guest never does): there the busy work spins
# in the kernel, and the contention is short.
nested=0
grep -q "vmm_sched.nested=1" /proc/cmdline && nested=1
busy() { # busy CPUMASK SECONDS: one busy loop pinned to CPUMASK
	if [ "$nested" = 1 ]; then
		taskset "$1" dd if=/dev/zero of=/dev/null bs=1M 2>/dev/null &
	else
		taskset "$1" sh -c 'while :; do :; done' &
	fi
	b=$!
	sleep "$2"
	kill "$b"
	wait "$b" 2>/dev/null
}
echo "phase daemon"
pvhint-guestd --interval-ms 50 &
d=$!
sleep 4
echo "phase daemon-busy"
busy 2 6
kill "$d"
wait "$d" || { echo "guest: pvhint-guestd exited with $?"; exit 1; }
echo "phase daemon-stopped"
sleep 2
insmod /lib/modules/vmm_pvhint.ko || { echo "guest: insmod vmm_pvhint failed"; exit 1; }
echo "phase driver-idle"
sleep 4
echo "phase driver-busy"
busy 2 6
echo "phase hold"
hold_opt=""
[ "$nested" = 1 ] && hold_opt=--in-kernel
taskset 1 pvhint_spin --hold 9 $hold_opt &
h=$!
sleep 4
taskset -p 2 "$h" >/dev/null || { echo "guest: cannot move the holder to CPU 1"; exit 1; }
echo "phase hold-migrated"
wait "$h" || { echo "guest: pvhint_spin --hold failed"; exit 1; }
echo "phase spin"
iterations=20000
[ "$nested" = 1 ] && iterations=2000
yield_counts() { # the driver's yield-on-exit counters
	echo "guest: yield_acks=$(cat /sys/module/vmm_pvhint/parameters/yield_acks)" \
		"yield_hypercalls=$(cat /sys/module/vmm_pvhint/parameters/yield_hypercalls)"
}
pvhint_spin --threads 3 --iterations "$iterations" || { echo "guest: pvhint_spin failed"; exit 1; }
yield_counts
sleep 1
echo "phase yield"
sleep 2 # the host now asks both vCPUs to yield on exit, its extension count growing
pvhint_spin --threads 3 --iterations "$iterations" || { echo "guest: pvhint_spin failed"; exit 1; }
yield_counts
sleep 1
rmmod vmm_pvhint || { echo "guest: rmmod vmm_pvhint failed"; exit 1; }
echo "phase removed"
sleep 2
echo "phase done"
