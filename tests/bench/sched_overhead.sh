#!/bin/bash
# Benchmark (make bench, inside the test VM): what vmm_sched costs the guests
# against the kernel's fair class, both measured in this run on the same VMs.
# A wakeup-bound VM (duty cycle: run 200 us, HLT 300 us) and a busy VM, each
# with 2 vCPUs, on the 8 CPUs of the test VM; first 8 s under the fair class,
# then 8 s under vmm_sched (release build, strict pairing). Prints ratios
# vmm_sched / fair; nothing passes or fails on them.
# Then the kick against --no-kick, in the same run (kick_phase below).
. "$(dirname "$0")/../vm/lib.sh"
SECS=${BENCH_SECS:-8}
SCHEDD_BIN=${SCHEDD_BIN:-$BUILD/release/vmm-schedd}

# rate VM INDEX FIELD: per-second growth of FIELD over SECS (set by sample_*).
declare -A A B
sample() { local -n s=$1; local vm i; for vm in duty busy; do for i in 0 1; do
	s[$vm.$i.units]=$(progress $vm $i units); s[$vm.$i.halts]=$(progress $vm $i halts); done; done; }
rates() { # rates NAME: sums per VM of (B - A) / SECS into R_NAME_*
	local vm i f
	for vm in duty busy; do for f in units halts; do
		local sum=0
		for i in 0 1; do sum=$((sum + ${B[$vm.$i.$f]} - ${A[$vm.$i.$f]})); done
		declare -g "R_$1_${vm}_$f=$((sum / SECS))"
	done; done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Times the agent went to sleep and was woken (voluntary context switches).
agent_wakeups() { awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$1/status"; }

start_vm duty 2 duty --run-us 200 --block-us 300
start_vm busy 2 busy
sleep 1
sample A; sleep "$SECS"; sample B; rates fair

start_schedd --cpus 0-7 --pid "${VM_PID[duty]}:duty" --pid "${VM_PID[busy]}:busy"
sleep 1
messages() { ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["scheduler"]["messages"])'; }
m0=$(messages) e0=$EPOCHREALTIME
t0=$(cpu_ticks "$SCHEDD_PID") w0=$(agent_wakeups "$SCHEDD_PID")
sample A; sleep "$SECS"; sample B; rates sched
t1=$(cpu_ticks "$SCHEDD_PID") w1=$(agent_wakeups "$SCHEDD_PID")
m1=$(messages) e1=$EPOCHREALTIME
stop_schedd
for vm in duty busy; do stop_vm $vm; done

ratio() { python3 -c "import sys; a,b=int(sys.argv[1]),int(sys.argv[2]); print('%.3f' % (b/a) if a else 'n/a')" "$1" "$2"; }
hz=$(getconf CLK_TCK)
printf '%-34s %14s %14s %8s\n' "metric (per second, 2 vCPUs)" fair vmm_sched ratio
for m in duty_units duty_halts busy_units; do
	f=R_fair_$m s=R_sched_$m
	printf '%-34s %14s %14s %8s\n' "$m" "${!f}" "${!s}" "$(ratio "${!f}" "${!s}")"
done
printf '%-34s %14s\n' "agent CPU (% of one CPU)" "$(python3 -c "print('%.2f' % (100.0 * ($t1 - $t0) / $hz / $SECS))")"
printf '%-34s %14s\n' "agent wakeups per second" "$(((w1 - w0) / SECS))"
printf '%-34s %14s\n' "messages per second" "$(python3 -c "print(int(($m1 - $m0) / ($e1 - $e0)))")"

# Kick against --no-kick (strict pairing), SECS each: three busy 2-vCPU VMs
# share 2 cores (CPUs 0-3), so cores change owner, and a host task on each
# core's second thread runs 1 ms every 20 ms. The pair checker measures how
# long vCPUs ran beside host tasks; the scheduler counts drains (owner changes
# that waited for the sibling's vCPU to leave) and forced idle.
start_intruders() {
	local cpu
	for cpu in 1 3; do start_host_blinker "$cpu" 1 20; done
}
kick_phase() { # kick_phase NAME [vmm-schedd options]: sets K_NAME_*
	local name=$1 vm
	shift
	for vm in k1 k2 k3; do start_paused_vm $vm 2 busy; done
	start_checker --grace-ns 0
	start_schedd --cpus 0-3 "$@"
	for vm in k1 k2 k3; do enroll_vm $vm; done
	start_intruders
	sleep "$SECS"
	stop_cpu_hogs
	eval "$(json_get "'; '.join(['K_${name}_%s=%d' % (k, s['scheduler'][k]) for k in ('kicks', 'drains', 'drain_us', 'drain_max_us')]) + '; K_${name}_forced_idle_us=%d' % (sum(c['forced_idle_ns'] for c in s['cpus']) // 1000)")"
	stop_checker >/dev/null
	declare -g "K_${name}_hbv=$(field host_beside_vcpu)" "K_${name}_vbh=$(field vcpu_beside_host)" \
		"K_${name}_hbv_us=$(($(field host_beside_vcpu_ns) / 1000))" \
		"K_${name}_hbv_max_us=$(($(field host_beside_vcpu_max_ns) / 1000))" \
		"K_${name}_vbh_max_us=$(($(field vcpu_beside_host_max_ns) / 1000))" \
		"K_${name}_cross=$(field cross_vm_overlaps)"
	stop_schedd
	for vm in k1 k2 k3; do stop_vm $vm; done
}
kick_phase on
kick_phase off --no-kick
echo
printf '%-44s %12s %12s\n' "strict pairing, $SECS s, 2 cores" kick --no-kick
row() { local a=K_on_$2 b=K_off_$2; printf '%-44s %12s %12s\n' "$1" "${!a}" "${!b}"; }
mean() { local n=K_$1_$2 d=K_$1_$3; [ "${!d}" -gt 0 ] && echo $((${!n} / ${!d})) || echo n/a; }
row "kicks" kicks
row "host task started beside a vCPU (checker)" hbv
printf '%-44s %12s %12s\n' "  vCPU left after (us, mean)" "$(mean on hbv_us hbv)" "$(mean off hbv_us hbv)"
row "  vCPU left after (us, longest)" hbv_max_us
row "vCPU started beside a host task (checker)" vbh
row "  longest (us)" vbh_max_us
row "drains (owner changes that waited)" drains
printf '%-44s %12s %12s\n' "mean drain (us)" "$(mean on drain_us drains)" "$(mean off drain_us drains)"
row "longest drain (us)" drain_max_us
printf '%-44s %12s %12s\n' "forced idle per core (us per s)" \
	"$((K_on_forced_idle_us / 2 / SECS))" "$((K_off_forced_idle_us / 2 / SECS))"
row "cross-VM overlaps (checker)" cross
