#!/bin/bash
# case-seconds: 180
# Strict pairing against host tasks, with the kick and with --no-kick, in one
# run. Two busy 2-vCPU VMs on an enclave of 4 cores; on the second thread of
# each core a host task wakes every 20 ms and spins for 1 ms. The pair checker
# (started before vmm-schedd: see "Probe order" in docs/design.md, and after
# the VMs were created paused) splits vCPU-beside-host exposures by the side
# that came second.
#
# - vCPU started beside a host task (committed to a thread just before a host
#   task started on its sibling): ops.running kicks its own CPU, so it leaves
#   at once; with --no-kick at its next tick. The case judges this one: the
#   kick's mean exposure must be MIN_RATIO times shorter, and, by a count no
#   emulator delay can skew, at least 60% of such vCPUs must leave before
#   their CPU's next timer interrupt with the kick and at most 20% without
#   (the checker counts timer interrupts on the vCPU's CPU per exposure).
# - host task started beside a vCPU: the sibling is kicked through an IPI.
#   Printed, not judged: under single-threaded TCG the sibling's virtual CPU
#   is not emulated until its turn comes round, and by then its tick has
#   expired as well, so both phases show the same (round-robin-bound) times.
#   VMM_SCHED_TCG_THREAD=multi tests/vm/run ... shows the difference.
#
# It also fails when: the kick phase made no kicks or the --no-kick phase made
# some; no host task started beside a vCPU (the case saw no intrusion); a phase
# shows a cross-VM overlap; a vCPU makes no progress.
. "$(dirname "$0")/../lib.sh"

SECS=${SECS:-10}
MIN_RATIO=${MIN_RATIO:-4}
trap 'stop_cpu_hogs; cleanup' EXIT

# phase NAME [vmm-schedd options]: sets KICKS_<NAME>, HBV_<NAME> (host beside
# vCPU: "count mean longest", us) and VBH_MEAN_<NAME> (vCPU beside host, ns).
phase() {
	local name=$1 vm i cpu
	shift
	# Created paused before the checker starts: their threads' set-up under
	# the fair class, beside host tasks, is no part of the measurement.
	start_paused_vm a 2 busy
	start_paused_vm b 2 busy
	start_checker --grace-ns 0
	start_schedd --cpus 0-7 "$@"
	note "$name: $(ctl status | head -1)"
	for vm in a b; do enroll_vm $vm; done
	declare -gA U0
	for vm in a b; do for i in 0 1; do U0[$vm.$i]=$(progress $vm $i units); done; done
	for cpu in 1 3 5 7; do start_host_blinker $cpu 1 20; done
	sleep "$SECS"
	stop_cpu_hogs
	for vm in a b; do for i in 0 1; do
		[ "$(progress $vm $i units)" -gt "${U0[$vm.$i]}" ] ||
			fail "$name: $vm vCPU $i made no progress in $SECS s"
	done; done
	declare -g "KICKS_$name=$(sched_counter kicks)" "HOST_STARTS_$name=$(sched_counter host_starts)"
	note "$name: kicks=$(sched_counter kicks) host_starts=$(sched_counter host_starts)" \
		"self_check_overlaps=$(sched_counter self_check_overlaps)"
	stop_checker
	[ "$(field cross_vm_overlaps)" = 0 ] || CROSS+="$name: $RESULT; "
	[ "$(field host_beside_vcpu)" -gt 0 ] || fail "$name: the checker saw no host task start beside a vCPU: $RESULT"
	[ "$(field vcpu_beside_host)" -gt 0 ] || fail "$name: no vCPU started beside a host task: $RESULT"
	declare -g "HBV_$name=$(field host_beside_vcpu) $(($(field host_beside_vcpu_ns) / $(field host_beside_vcpu) / 1000)) $(($(field host_beside_vcpu_max_ns) / 1000))" \
		"VBH_$name=$(field vcpu_beside_host) $(($(field vcpu_beside_host_ns) / $(field vcpu_beside_host) / 1000)) $(($(field vcpu_beside_host_max_ns) / 1000))" \
		"VBH_MEAN_$name=$(($(field vcpu_beside_host_ns) / $(field vcpu_beside_host)))" \
		"IRQ_$name=host second $(field host_beside_vcpu_left_0_timer_irqs)/$(field host_beside_vcpu_left_1_timer_irq)/$(field host_beside_vcpu_left_2_timer_irqs), vCPU second $(field vcpu_beside_host_left_0_timer_irqs)/$(field vcpu_beside_host_left_1_timer_irq)/$(field vcpu_beside_host_left_2_timer_irqs)" \
		"LOCAL0_$name=$(field vcpu_beside_host_left_0_timer_irqs)" \
		"LOCAL_$name=$(($(field vcpu_beside_host_left_0_timer_irqs) + $(field vcpu_beside_host_left_1_timer_irq) + $(field vcpu_beside_host_left_2_timer_irqs)))"
	for vm in a b; do stop_vm $vm; done
	stop_schedd
}

CROSS=
phase kick
phase nokick --no-kick
note "host task started beside a vCPU (count, mean us, longest us): kick $HBV_kick; --no-kick $HBV_nokick"
note "vCPU started beside a host task (count, mean us, longest us): kick $VBH_kick; --no-kick $VBH_nokick"
note "exposures ended by the vCPU leaving, by timer interrupts its CPU took meanwhile (0/1/2+): kick $IRQ_kick; --no-kick $IRQ_nokick"
[ -z "$CROSS" ] || fail "cross-VM sibling overlaps: $CROSS"
[ "$KICKS_kick" -gt 0 ] || fail "the kick phase made no kicks (does scx_bpf_kick_cpu link?)"
[ "$KICKS_nokick" = 0 ] || fail "--no-kick made $KICKS_nokick kicks"
# Independent of how long the emulator keeps a CPU waiting: a vCPU kicked off
# its own CPU leaves before that CPU's next timer interrupt, one left to the
# tick does not.
[ "$LOCAL_kick" -gt 0 ] && [ $((LOCAL0_kick * 100)) -ge $((LOCAL_kick * 60)) ] ||
	fail "with the kick only $LOCAL0_kick of $LOCAL_kick vCPUs that started beside a host task left before their CPU's next timer interrupt (60% expected)"
[ $((LOCAL0_nokick * 100)) -le $((LOCAL_nokick * 20)) ] ||
	fail "with --no-kick $LOCAL0_nokick of $LOCAL_nokick vCPUs that started beside a host task left before their CPU's next timer interrupt: the count cannot tell the kick from the tick"
[ "$VBH_MEAN_nokick" -gt $((VBH_MEAN_kick * MIN_RATIO)) ] ||
	fail "a vCPU that started beside a host task stayed $VBH_MEAN_kick ns on average with the kick," \
		"not $MIN_RATIO x shorter than with --no-kick ($VBH_MEAN_nokick ns)"
