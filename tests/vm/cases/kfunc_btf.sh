#!/bin/bash
# case-seconds: 15
# The agent checks the kernel's BTF of every kfunc the scheduler declares
# before loading it: on the test kernel it logs its verdict, and that verdict
# on scx_bpf_kick_cpu agrees with what the loaded scheduler found (libbpf's
# own resolution). Given BTF without the kfuncs it needs (VMM_SCHED_KERNEL_BTF,
# an empty raw BTF blob), it refuses with one line naming the kernel build.
. "$(dirname "$0")/../lib.sh"

# An empty raw BTF blob: the 24-byte header (magic 0xeb9f, version 1) and one NUL string.
printf '\x9f\xeb\x01\x00\x18\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00' >"$TMP/empty.btf"
out=$(VMM_SCHED_KERNEL_BTF=$TMP/empty.btf "$BUILD/vmm-schedd" --control "$CTL_SOCK" --cpus 4-7 2>&1) &&
	fail "vmm-schedd started on BTF without the kfuncs it needs: $out"
echo "$out" | grep -q "kernel $(uname -r) (.*) cannot run vmm_sched: scx_bpf_create_dsq is not in the kernel's BTF, and vmm_sched cannot do without it; boot another kernel build" ||
	fail "no one-line refusal naming the kernel and the missing kfunc: $out"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "the refusal took more than one line: $out"
note "refused: $out"
[ "$(sched_ext_state)" = disabled ] || fail "a refused start left sched_ext '$(sched_ext_state)'"

start_schedd --cpus 4-7
summary=$(grep -o "kfunc check: [0-9]* of the [0-9]* kfuncs vmm_sched declares are sound in the BTF of kernel $(uname -r)" "$SCHEDD_LOG") ||
	fail "the agent logged no kfunc verdict: $(cat "$SCHEDD_LOG")"
note "$summary"
grep "kfunc check: .* is " "$SCHEDD_LOG" | sed 's/^/  /'
kick=$(json_get "s['scheduler']['kick_supported']")
if grep -q "kfunc check: scx_bpf_kick_cpu " "$SCHEDD_LOG"; then
	[ "$kick" = False ] || fail "the agent found scx_bpf_kick_cpu unsound but the scheduler linked it"
else
	[ "$kick" = True ] || fail "the agent found scx_bpf_kick_cpu sound but the scheduler could not link it"
fi
note "scx_bpf_kick_cpu linked: $kick, as the check said"
stop_schedd
