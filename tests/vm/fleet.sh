# Hundreds of one-vCPU test VMs at once (sourced after lib.sh): the fleet_512
# case and tests/bench/dispatch_cost.sh. VMs start and are enrolled in batches,
# and tests/vm/fleet.py does per VM what would otherwise be one process each.
FLEET_BATCH=${FLEET_BATCH:-32}
FLEET_PY="python3 tests/vm/fleet.py"
# Without sanitizers: about 0.2 MB of its own against 3-11 MB (make all builds it).
FLEET_TESTVMM=${FLEET_TESTVMM:-$BUILD/release/testvmm}
[ -x "$FLEET_TESTVMM" ] || fail "no $FLEET_TESTVMM: build it with make all"
# fleet_two_sizes turns the BPF statistics on; they cost time in every program.
trap 'sysctl -qw kernel.bpf_stats_enabled=0; cleanup' EXIT

fleet_logs() { local n; for n in "$@"; do echo "${VM_LOG[$n]}"; done; }

# True once every log given has the line matching $1.
fleet_all_have() {
	local pattern=$1
	shift
	[ -z "$(grep -L "$pattern" "$@")" ]
}

# fleet_start PREFIX COUNT PAYLOAD [testvmm options...]: COUNT paused one-vCPU
# VMs named PREFIX0, PREFIX1..., FLEET_BATCH started at a time; their names are
# appended to FLEET.
FLEET=()
fleet_start() {
	local prefix=$1 count=$2 payload=$3 i j name batch
	shift 3
	for ((i = 0; i < count; i += FLEET_BATCH)); do
		batch=()
		for ((j = i; j < count && j < i + FLEET_BATCH; j++)); do
			name=$prefix$j
			VM_LOG[$name]=$TMP/vm-$name.log
			"$FLEET_TESTVMM" --name "$name" --vcpus 1 --payload "$payload" --interval-ms 2000 \
				--start-paused "$@" >"${VM_LOG[$name]}" 2>"$TMP/vm-$name.err" &
			VM_PID[$name]=$!
			batch+=("${VM_LOG[$name]}")
			FLEET+=("$name")
		done
		wait_for 300 fleet_all_have '^paused vm=' "${batch[@]}" ||
			fail "testvmm $(grep -L '^paused vm=' "${batch[@]}" | head -n 3 | tr '\n' ' ')did not start paused"
	done
}

# fleet_enroll NAME...: enrols the VMs, FLEET_BATCH at a time, resuming each batch after its enrolment.
fleet_enroll() {
	local names=("$@") i j args pids
	for ((i = 0; i < ${#names[@]}; i += FLEET_BATCH)); do
		args=() pids=()
		for ((j = i; j < ${#names[@]} && j < i + FLEET_BATCH; j++)); do
			args+=("${names[$j]}=${VM_PID[${names[$j]}]}")
			pids+=("${VM_PID[${names[$j]}]}")
		done
		$FLEET_PY enroll "$CTL_SOCK" "${args[@]}" || fail "enrolment of VM $((i + 1))..$j of ${#names[@]} failed"
		kill -HUP "${pids[@]}"
		wait_for 120 fleet_all_have '^resumed vm=' $(fleet_logs "${names[@]:i:FLEET_BATCH}") ||
			fail "testvmm $(grep -L '^resumed vm=' $(fleet_logs "${names[@]:i:FLEET_BATCH}") | head -n 3 | tr '\n' ' ')did not resume"
	done
}

# fleet_expect_listed WHAT NAME...: fails unless status lists exactly these VMs;
# for a VM missing from it, says whether its testvmm still runs and what it printed last.
fleet_expect_listed() {
	local what=$1 listed n missing=() why=
	shift
	listed=" $(json_get '" ".join(v["name"] for v in s["vms"])') "
	for n in "$@"; do
		[[ $listed == *" $n "* ]] || missing+=("$n")
	done
	[ "$(wc -w <<<"$listed")" = $# ] && [ ${#missing[@]} = 0 ] && return 0
	for n in "${missing[@]:0:3}"; do
		kill -0 "${VM_PID[$n]}" 2>/dev/null && why+="$n: testvmm still runs; " ||
			why+="$n: testvmm exited: $(tail -n 3 "$TMP/vm-$n.err" "${VM_LOG[$n]}" 2>/dev/null | tr '\n' ' '); "
	done
	fail "$what: status lists $(($(wc -w <<<"$listed"))) VMs, not $#; ${#missing[@]} missing: $why"
}

# fleet_worst_wake NAME...: the three largest wake latencies (max_us) the VMs'
# testvmm reported last, with their VMs.
fleet_worst_wake() {
	local n
	for n in "$@"; do
		grep '^latency vm=.* vcpu=all ' "${VM_LOG[$n]}" | tail -n 1
	done | sed -n 's/^latency vm=\([^ ]*\) .* max_us=\([0-9.]*\).*/\2 \1/p' | sort -rn | head -n 3 | tr '\n' ' '
}

# fleet_release NAME...: gives the VMs back to their previous policy.
fleet_release() {
	local n pids=()
	for n in "$@"; do pids+=("${VM_PID[$n]}"); done
	$FLEET_PY release "$CTL_SOCK" "${pids[@]}" || fail "release of the fleet failed"
}

# fleet_tids NAME...: the vCPU threads of the VMs, one a line.
fleet_tids() { sed -n 's/^vcpu vm=[^ ]* index=[0-9]* tid=\([0-9]*\)$/\1/p' $(fleet_logs "$@"); }

# fleet_policies NAME...: "POLICY COUNT" lines of their vCPU threads (0 SCHED_OTHER, 7 SCHED_EXT).
fleet_policies() { $FLEET_PY policies $(fleet_tids "$@"); }

# fleet_expect_policy POLICY WHAT NAME...: fails unless every vCPU thread of the VMs is in POLICY.
fleet_expect_policy() {
	local policy=$1 what=$2 got
	shift 2
	got=$(fleet_policies "$@")
	[ "$got" = "$policy $#" ] || fail "$what: the policies of the $# vCPU threads are (policy count): $got"
}

# fleet_progress SECS NAME...: every VM's vCPU did work over SECS seconds.
fleet_progress() {
	local secs=$1 stalled
	shift
	$FLEET_PY units $(fleet_logs "$@") >"$TMP/units.before"
	[ "$(wc -l <"$TMP/units.before")" = $# ] ||
		fail "only $(wc -l <"$TMP/units.before") of $# VMs printed a progress line"
	sleep "$secs"
	stalled=$($FLEET_PY stalled "$TMP/units.before" $(fleet_logs "$@"))
	[ -z "$stalled" ] || fail "$(echo "$stalled" | wc -l) VMs made no progress in $secs s (name, units before, after): $(echo "$stalled" | head -n 5 | tr '\n' ';')"
}

# fleet_stop NAME...: SIGTERM to all, then each must exit cleanly.
fleet_stop() {
	local n pids=() bad=()
	for n in "$@"; do pids+=("${VM_PID[$n]}"); done
	kill -TERM "${pids[@]}" 2>/dev/null
	for n in "$@"; do
		wait "${VM_PID[$n]}" || bad+=("$n")
		unset "VM_PID[$n]"
	done
	[ ${#bad[@]} = 0 ] || fail "testvmm ${bad[*]:0:3} exited with an error: $(cat "$TMP/vm-${bad[0]}.err")"
	bad=($(grep -L '^exit vm=.* status=ok' $(fleet_logs "$@")))
	[ ${#bad[@]} = 0 ] || fail "${#bad[@]} testvmm did not exit cleanly, e.g. ${bad[0]}"
}

# fleet_bpf_cost SECS OUT: ns per call of the scheduler's struct_ops programs
# over SECS seconds ("PROG CALLS NS_PER_CALL" lines in OUT), from the kernel's
# BPF run-time statistics (kernel.bpf_stats_enabled; the case turns them on).
fleet_bpf_cost() {
	local picks_a picks_b ca va wa ta sa ma cb vb wb tb sb mb
	picks_a=$(fleet_picks)
	$FLEET_PY progstats >"$TMP/stats.a" || fail "bpftool cannot list the scheduler's programs"
	sleep "$1"
	$FLEET_PY progstats >"$TMP/stats.b" || fail "bpftool cannot list the scheduler's programs"
	picks_b=$(fleet_picks)
	$FLEET_PY cost "$TMP/stats.a" "$TMP/stats.b" >"$2"
	grep -q '^vs_dispatch [1-9]' "$2" || fail "no vs_dispatch calls counted in $1 s: $(cat "$2")"
	# The same window's VMs visited per pick (status pick_calls, pick_visits),
	# and the mean number of vCPUs waiting (their wait time over the window,
	# Little's law): a scan of the queued VMs visits about one VM per waiting
	# vCPU, a pick from the enclave's heaps at most 11 however many wait.
	read -r ca va wa sa ma ta <<<"$picks_a"
	read -r cb vb wb sb mb tb <<<"$picks_b"
	[ "$cb" -gt "$ca" ] || fail "no VM picks counted in $1 s (status pick_calls $ca, then $cb)"
	echo "pick_visits $((cb - ca)) $(python3 -c "print(f'{($vb - $va) / ($cb - $ca):.2f}')")" >>"$2"
	# The picks that scanned the queued VMs rather than trusting the heaps.
	echo "pick_scans $((sb - sa)) $(python3 -c "print(f'{($sb - $sa) / ($cb - $ca):.3f}')")" >>"$2"
	echo "pick_mends $((mb - ma)) $(python3 -c "print(f'{($mb - $ma) / ($cb - $ca):.2f}')")" >>"$2"
	echo "vcpus_waiting $((tb - ta)) $(python3 -c "print(f'{($wb - $wa) / ($tb - $ta):.2f}')")" >>"$2"
}

# "CALLS VISITS WAIT_NS SCANS MENDS NOW_NS": dispatch's VM picks so far, the
# VMs they visited, the vCPUs' total wait, the picks that scanned and the heap
# entries they mended, from status.
fleet_picks() {
	echo "$(json_get '"%d %d %d %d %d" % (s["scheduler"]["pick_calls"], s["scheduler"]["pick_visits"], sum(c["wait_ns"] for v in s["vms"] for c in v["vcpus"]), s["scheduler"]["pick_scans"], s["scheduler"]["pick_mends"])') $(date +%s%N)"
}

# fleet_two_sizes SMALL LARGE BUSY SECS: BUSY busy VMs (busy0...) and
# LARGE - BUSY mostly halted ones (idle0...: 200 us of work every 2 s), all
# started; SMALL of them enrolled (the busy ones among them), the scheduler's
# cost per call measured over SECS s, then all LARGE enrolled and measured
# again: the same busy load over more VMs. Prints the table and sets
# FLEET_COST_SMALL and FLEET_COST_LARGE (files of "PROG CALLS NS_PER_CALL").
fleet_two_sizes() {
	local small=$1 large=$2 busy=$3 secs=$4
	fleet_start busy "$busy" busy
	fleet_start idle $((large - busy)) duty --run-us 200 --block-us 2000000
	note "$large test VMs started (${SECONDS} s)"
	sysctl -qw kernel.bpf_stats_enabled=1 || fail "cannot turn on BPF run-time statistics"
	fleet_enroll "${FLEET[@]:0:small}"
	FLEET_COST_SMALL=$TMP/cost.$small FLEET_COST_LARGE=$TMP/cost.$large
	sleep 2
	fleet_bpf_cost "$secs" "$FLEET_COST_SMALL"
	fleet_enroll "${FLEET[@]:small}"
	note "$large enrolled (${SECONDS} s)"
	sleep 2
	fleet_bpf_cost "$secs" "$FLEET_COST_LARGE"
	note "BPF cost per call, $busy busy VMs among $small and $large enrolled, ${secs} s each:"
	$FLEET_PY ratio "$small VMs" "$FLEET_COST_SMALL" "$large VMs" "$FLEET_COST_LARGE" | sed 's/^/  /'
}
