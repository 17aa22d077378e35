#!/bin/bash
# case-seconds: 550
# case-timeout: 1200
# libvirt enrolment with real libvirtd and real KVM domains (Debian's 6.1
# guest, nested; one vCPU each to keep the emulated test VM responsive):
# vmm-schedd starts before libvirtd and says so; a (weight 200, 1 of 2
# vCPUs) and b (weight 50), both spinning, opt in by metadata, c does not and
# its threads stay in the fair class; the pair checker sees no cross-VM overlap
# between a and b; a live metadata change and a vCPU hotplug are applied; bad
# metadata on c is logged and shown and c stays unmanaged; a restarted
# vmm-schedd adopts a and b without moving a thread; a restarted libvirtd
# changes nothing and b destroyed and started again is released and enrolled;
# the hook returns within 1 s with vmm-schedd stopped by SIGSTOP and when it
# is not running.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../libvirt.sh"
trap 'cleanup_libvirt; cleanup' EXIT

SCHED_EXT=7
NS=urn:vmm-sched:1
meta() { echo "<vmmsched:sched xmlns:vmmsched='$NS' $1/>"; }
log_count() { grep -c "$1" "$SCHEDD_LOG"; }
status_vms() { json_get '" ".join("%s:%d:%d" % (v["name"], v["weight"], len(v["vcpus"])) for v in sorted(s["vms"], key=lambda v: v["name"]))'; }
status_is() { [ "$(status_vms)" = "$1" ]; }
log_count_is() { [ "$(log_count "$1")" = "$2" ]; }
c_in_gold() { [ "$(json_get '"".join(v["enclave"] for v in s["vms"] if v["name"] == "c")')" = gold ]; }
policies() { for t in "$@"; do thread_policy "$t"; done | sort -u | paste -sd,; }

setup_libvirt
start_schedd --cpus 4-7 --libvirt "$LV_URI"
wait_for 30 grep -q "libvirt: cannot connect to $LV_URI" "$SCHEDD_LOG" ||
	fail "no log line saying libvirtd does not answer"
note "ok: without libvirtd: $(grep -o 'libvirt: cannot connect.*attempt 1)' "$SCHEDD_LOG")"
start_libvirtd
define_domain a 1 2 1 "$(meta "weight='200'")"
define_domain b 1 1 1 "$(meta "weight='50' enclave='default'")"
define_domain c 1 1 0 ""
wait_for 60 grep -q "libvirt: connected to $LV_URI" "$SCHEDD_LOG" || fail "vmm-schedd did not connect to libvirtd"
t0=$EPOCHSECONDS
# c is looked at only for its threads (they must stay in the fair class): it
# starts paused, which spares the case a third nested boot.
LV_NO_INIT[c]=1
start_domains a b c
note "guests a and b reached init in $((EPOCHSECONDS - t0)) s"

# Enrolment: a and b with their weights, c untouched.
wait_for 60 status_is "a:200:1 b:50:1" || fail "status has '$(status_vms)', expected 'a:200:1 b:50:1'"
got=$(status_vms)
note "ok: enrolled (name:weight:vCPUs) $got"
c_vcpus=$(dom_threads c '^CPU [0-9]+/KVM')
[ -n "$c_vcpus" ] || fail "no vCPU thread in domain c"
[ "$(policies $c_vcpus)" = 0 ] || fail "domain c (no metadata) has vCPU policies $(policies $c_vcpus), expected 0 (fair)"
note "ok: c's vCPU threads ($c_vcpus) stay in the fair class"
worker=$(dom_threads a '^kvm-nx-lpage-re')
if [ -n "$worker" ]; then
	[ "$(policies $worker)" != $SCHED_EXT ] || fail "the KVM worker kvm-nx-lpage-re ($worker) of a was enrolled"
	note "ok: a's kvm-nx-lpage-re ($worker) is not taken"
fi
grep -q "not enrolled as that vCPU" "$SCHEDD_LOG" && fail "cgroup and /proc disagree: $(grep 'not enrolled as that' "$SCHEDD_LOG")"
note "enrolment points: $(grep -o "enrolled from its vcpuN cgroups while its guest was [a-z]*" "$SCHEDD_LOG" | sort | uniq -c | paste -sd';')"

# Pairing between the two busy opted-in domains.
wait_busy a b
"$BUILD/pair-checker" --cpus 4-7 --track-pid "$(dom_pid a):1" --track-pid "$(dom_pid b):2" \
	>"$CHECKER_OUT" 2>"$CHECKER_ERR" &
CHECKER_PID=$!
wait_for 120 grep -qs "^pair-checker: ready" "$CHECKER_ERR" || fail "pair-checker did not start: $(cat "$CHECKER_ERR")"
nap 15
stop_checker
[ "$(field tracked_vcpus)" = 2 ] || fail "the checker tracked $(field tracked_vcpus) vCPU threads, not 2"
[ "$(field cross_vm_overlaps)" = 0 ] && [ "$(field cross_vm_short)" = 0 ] ||
	fail "cross-VM sibling overlaps between libvirt domains: $RESULT"

# A live metadata change, a vCPU hotplug.
virsh_ metadata a "$NS" --key vmmsched --set "<sched weight='300'/>" --live >/dev/null || fail "virsh metadata a failed"
virsh_ setvcpus a 2 --live || fail "virsh setvcpus a 2 --live failed"
wait_for 30 status_is "a:300:2 b:50:1" || fail "after metadata and setvcpus status has '$(status_vms)', expected 'a:300:2 b:50:1'"
note "ok: metadata --live and setvcpus --live: $(status_vms)"

# enclave= naming no enclave: logged, shown, unmanaged; once the enclave
# exists, a notify enrols c into it.
virsh_ metadata c "$NS" --key vmmsched --set "<sched enclave='gold'/>" --live >/dev/null ||
	fail "virsh metadata c (enclave gold) failed"
wait_for 30 grep -q "libvirt domain 'c' runs unmanaged: its metadata names enclave 'gold', which does not exist" \
	"$SCHEDD_LOG" || fail "c's unknown enclave was not logged: $(grep "domain 'c'" "$SCHEDD_LOG" | tail -n 2)"
ctl status | grep -q "domain c: UNMANAGED: its metadata names enclave 'gold', which does not exist" ||
	fail "status does not show c's unknown enclave: $(ctl status | grep libvirt)"
[ "$(policies $c_vcpus)" = 0 ] || fail "c (unknown enclave) has vCPU policies $(policies $c_vcpus)"
out=$(ctl enclave create gold --cpus 2,3 2>&1) || fail "enclave create gold failed: $out"
ctl notify c >/dev/null || fail "vmm-schedctl notify c failed"
wait_for 30 c_in_gold || fail "c was not enrolled into enclave gold: $(status_vms); $(grep "domain 'c'" "$SCHEDD_LOG" | tail -n 2)"
note "ok: enclave='gold' before the enclave existed: unmanaged, shown; after create and notify: c in gold"

# Bad metadata: logged, shown, unmanaged (c is released), the daemon stays up.
virsh_ metadata c "$NS" --key vmmsched --set "<sched weight='12x' colour='red'/>" --live >/dev/null ||
	fail "virsh metadata c failed"
wait_for 30 grep -q "libvirt domain 'c' runs unmanaged: \(unknown attribute\|weight=\)" "$SCHEDD_LOG" ||
	fail "bad metadata on c was not logged"
ctl status | grep -q "domain c: UNMANAGED: unknown attribute 'colour'\|domain c: UNMANAGED: weight='12x' is not a decimal" ||
	fail "status does not show c's bad metadata: $(ctl status | grep libvirt)"
[ "$(policies $c_vcpus)" = 0 ] && kill -0 "$SCHEDD_PID" || fail "c was not released or vmm-schedd died"
note "ok: $(ctl status | grep 'domain c:')"
out=$(ctl enclave destroy gold 2>&1) || fail "enclave destroy gold failed: $out"

# vmm-schedd killed and restarted: adopts a and b, no thread moved.
ab=$(dom_threads a '^CPU [0-9]+/KVM'; dom_threads b '^CPU [0-9]+/KVM')
before=$(for t in $ab; do echo "$t $(thread_policy "$t") $(thread_affinity "$t")"; done)
kill -KILL "$SCHEDD_PID"
wait "$SCHEDD_PID" 2>/dev/null
SCHEDD_PID=
rm -f "$CTL_SOCK"
start_schedd --cpus 4-7 --libvirt "$LV_URI"
wait_for 60 log_count_is 'libvirt: connected' 2 || fail "the restarted vmm-schedd did not connect"
wait_for 30 log_count_is 'was enrolled already (adopted): left as it is' 2 ||
	fail "a and b were not recognised as adopted: $(grep 'libvirt domain' "$SCHEDD_LOG" | tail -n 4)"
after=$(for t in $ab; do echo "$t $(thread_policy "$t") $(thread_affinity "$t")"; done)
[ "$before" = "$after" ] || fail "threads moved over the restart: before '$before' after '$after'"
[ "$(status_vms)" = "a:300:2 b:50:1" ] || fail "after the restart status has '$(status_vms)'"
note "ok: restart adopted $(status_vms); policy and affinity of $(echo $ab | wc -w) vCPU threads unchanged"

# libvirtd restarted: nothing changes; a domain destroyed and started after it is handled.
stop_libvirtd
start_libvirtd
wait_for 90 log_count_is 'libvirt: connected' 3 || fail "vmm-schedd did not reconnect to libvirtd"
after=$(for t in $ab; do echo "$t $(thread_policy "$t") $(thread_affinity "$t")"; done)
[ "$before" = "$after" ] && [ "$(status_vms)" = "a:300:2 b:50:1" ] ||
	fail "the libvirtd restart changed something: $(status_vms); '$after'"
virsh_ destroy b >/dev/null || fail "virsh destroy b failed"
wait_for 30 status_is "a:300:2" || fail "b destroyed but status has '$(status_vms)'"
: >"${DOM_CONSOLE[b]}"
# Started paused: enrolled before any vCPU ran, then resumed.
paused_before=$(log_count "libvirt domain 'b' enrolled .* paused")
virsh_ start --paused b >/dev/null || fail "virsh start --paused b failed"
wait_for 60 status_is "a:300:2 b:50:1" || fail "b started again but status has '$(status_vms)'"
[ "$(log_count "libvirt domain 'b' enrolled .* paused")" = $((paused_before + 1)) ] ||
	fail "b started paused was not enrolled while paused: $(grep "domain 'b' enrolled" "$SCHEDD_LOG" | tail -n1)"
virsh_ resume b >/dev/null || fail "virsh resume b failed"
note "ok: libvirtd restart left everything; destroy released b, start --paused enrolled it while paused"

# The hook with vmm-schedd stopped (SIGSTOP), then not running: c restarts,
# each call < 1 s. a and b go first (destroy releases): spinning guests slow
# every process start in the emulated test VM.
virsh_ destroy a >/dev/null && virsh_ destroy b >/dev/null || fail "virsh destroy a, b failed"
wait_for 30 status_is "" || fail "a and b destroyed but status has '$(status_vms)'"
: >"$HOOK_LOG"
kill -STOP "$SCHEDD_PID"
virsh_ destroy c >/dev/null && virsh_ start c >/dev/null || fail "c did not restart with vmm-schedd stopped"
kill -CONT "$SCHEDD_PID"
stop_schedd
virsh_ destroy c >/dev/null && virsh_ start c >/dev/null || fail "c did not restart without vmm-schedd"
note "hook calls: $(paste -sd';' "$HOOK_LOG")"
slow=$(awk '{ ms = substr($4, 4) + 0; if (ms >= 1000 || $3 != "rc=0") print }' "$HOOK_LOG")
[ -z "$slow" ] || fail "hook calls that failed or took 1 s or more: $slow"
[ "$(grep -c ' started ' "$HOOK_LOG")" = 2 ] || fail "the hook ran $(grep -c ' started ' "$HOOK_LOG") times for 'started', expected 2"
note "ok: the hook returned within 1 s each time, max $(awk '{ ms = substr($4, 4) + 0; if (ms > m) m = ms } END { print m + 0 }' "$HOOK_LOG") ms"
