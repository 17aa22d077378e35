#!/bin/bash
# case-seconds: 90
# Only KVM vCPU threads are enrolled, by evidence the kernel gives: the process
# holds a KVM VM file (anon_inode:kvm-vm) and one KVM vCPU file
# (anon_inode:kvm-vcpu:N) per enrolled thread; a thread name alone is not
# enough. Also the per-VM limit (--max-vcpus-per-vm) and that the error about
# threads over the limit is logged a few times a minute, not every second.
# Before the fix a root process without /dev/kvm naming a thread 'CPU 0/KVM',
# a nobody process naming a thread 'vcpu0', a VMM renaming another thread
# 'vcpu9' and a VMM with 40 'vcpuN' threads were all enrolled.
. "$(dirname "$0")/../lib.sh"

FAKE=tests/tools/fake-vmm
fakes=()
trap 'for p in "${fakes[@]}"; do kill "$p" 2>/dev/null; done; cleanup' EXIT

# start_fake NAME [fake-vmm args...]: sets FAKE_PID; thread tids in $TMP/NAME.out.
start_fake() {
	local name=$1
	shift
	python3 "$FAKE" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	FAKE_PID=$!
	fakes+=("$FAKE_PID")
	wait_for 60 grep -q "^ready pid=" "$TMP/$name.out" || fail "fake-vmm $name did not start: $(cat "$TMP/$name.err")"
}
fake_tids() { sed -n 's/^thread name=.* tid=\([0-9]*\)$/\1/p' "$TMP/$1.out"; }
none_in_ext() {
	local tid
	for tid in $(fake_tids "$1"); do
		[ "$(thread_policy "$tid")" = 0 ] || fail "thread $tid of $1 has policy $(thread_policy "$tid")"
	done
}

# Refused at start-up (before anything is loaded), with the reason.
start_fake rootname "CPU 0/KVM"
out=$(timeout 120 "$BUILD/vmm-schedd" --control "$TMP/x.sock" --pin-dir "$PIN_DIR" --cpus 2-7 --pid "$FAKE_PID" 2>&1) &&
	fail "vmm-schedd started with --pid of a process that owns no KVM VM"
echo "$out" | grep -q "owns no KVM VM (none of its open files is anon_inode:kvm-vm)" ||
	fail "--pid of a non-VMM: unexpected error '$out'"
note "start-up: $(echo "$out" | tail -n1)"
out=$("$BUILD/vmm-schedd" --control "$TMP/x.sock" --cpus 2-7 --max-vcpus-per-vm 0 2>&1) &&
	fail "--max-vcpus-per-vm 0 was accepted"
echo "$out" | grep -q -- "--max-vcpus-per-vm '0' must be 1\.\.[0-9]" || fail "--max-vcpus-per-vm 0: '$out'"

start_schedd --cpus 2-7 --max-vcpus-per-vm 3
# 1. root, no /dev/kvm, a thread named like qemu's vCPU.
out=$(ctl enroll "$FAKE_PID" --name rootname 2>&1) && fail "a root process without a KVM VM was enrolled"
echo "$out" | grep -q "owns no KVM VM" || fail "enrol of a non-VMM: unexpected error '$out'"
none_in_ext rootname
# 2. uid nobody, prctl(PR_SET_NAME, "vcpu0"), no KVM VM.
start_fake nobodyname --user nobody vcpu0
out=$(ctl enroll "$FAKE_PID" --name nobodyname 2>&1) && fail "a nobody process with a 'vcpu0' thread was enrolled"
none_in_ext nobodyname
note "refused: $out"

# 3. A VMM of uid nobody with 2 KVM vCPUs renames another of its threads
#    'vcpu9': both vCPU threads are enrolled, so the rescan enrols no third.
#    And a real VMM (testvmm) still qualifies.
start_paused_vm a 2 busy
enroll_vm a
mkfifo "$TMP/ctl.fifo"
start_fake renamer --kvm-vcpus 2 --user nobody --control "$TMP/ctl.fifo" "CPU 0/KVM" "CPU 1/KVM" io0
ctl enroll "$FAKE_PID" --name renamer >/dev/null || fail "the fake VMM with 2 KVM vCPUs was not enrolled"
io_tid=$(sed -n 's/^thread name=io0 tid=\([0-9]*\)$/\1/p' "$TMP/renamer.out")
echo "rename io0 vcpu9" >"$TMP/ctl.fifo"
wait_for 30 grep -q "^renamed name=io0 to=vcpu9" "$TMP/renamer.out" || fail "thread io0 did not rename itself"
sleep 4
[ "$(thread_policy "$io_tid")" = 0 ] || fail "the thread renamed 'vcpu9' was enrolled (policy $(thread_policy "$io_tid"))"
[ "$(json_get '[len(v["vcpus"]) for v in s["vms"] if v["name"] == "renamer"][0]')" = 2 ] || fail "VM renamer lists other than 2 vCPUs"
grep -q "VM 'renamer': 1 more threads are named like vCPUs (e.g. thread $io_tid 'vcpu9') but are not enrolled: the VM has 2 vCPU threads enrolled, one per KVM vCPU" "$SCHEDD_LOG" ||
	fail "no error naming the renamed thread and the limit: $(grep "VM 'renamer'" "$SCHEDD_LOG" | tail -n 3)"

# 4. A nobody VMM with 40 vCPUs' worth of thread names but 4 KVM vCPUs, under
#    --max-vcpus-per-vm 3: 3 enrolled, the error names the option, and it is
#    not repeated every second.
names=()
for i in $(seq 0 39); do names+=("vcpu$i"); done
start_fake many --kvm-vcpus 4 --user nobody "${names[@]}"
ctl enroll "$FAKE_PID" --name many >/dev/null || fail "the fake VMM with 4 KVM vCPUs was not enrolled"
[ "$(json_get '[len(v["vcpus"]) for v in s["vms"] if v["name"] == "many"][0]')" = 3 ] ||
	fail "VM many lists $(json_get '[len(v["vcpus"]) for v in s["vms"] if v["name"] == "many"][0]') vCPUs, not 3"
sleep 8
n=$(grep -c "VM 'many': 37 more threads are named like vCPUs .* the limit set by --max-vcpus-per-vm 3" "$SCHEDD_LOG")
note "VM many: 3 of 40 'vcpuN' threads enrolled; $n error lines in ~9 s of rescans"
[ "$n" -ge 1 ] && [ "$n" -le 5 ] || fail "$n error lines about VM many's threads over the limit in ~9 s (want 1..5)"
in_ext=0
for tid in $(fake_tids many); do [ "$(thread_policy "$tid")" = 7 ] && in_ext=$((in_ext + 1)); done
[ "$in_ext" = 3 ] || fail "$in_ext threads of VM many are in SCHED_EXT, not 3"
stop_schedd
none_in_ext many
stop_vm a
