#!/bin/bash
# A VM's NUMA home node, the node holding most of its VMM process's memory:
# status --json shows it and the enclave cores on it, plain status shows the
# node, and vmm-schedd says so when the enclave has no core there. In a one-node
# test VM (the default) all is node 0 and local; the remote case needs two:
#   tests/vm/run --nodes 2 -- tests/vm/suite numa_home
. "$(dirname "$0")/../lib.sh"

REMOTE="VM 'home': memory on node 1, enclave has no core there; vCPUs will run remote"

# The NODE and LOCAL_CORES columns of VM home in plain `vmm-schedctl status`.
plain_numa() { ctl status | awk '$1 == "home" && NF == 8 { print $7, $8 }'; }

enroll_home() {
	ctl enroll "${VM_PID[home]}" --name home >/dev/null || fail "VM home was not enrolled"
}

nodes=$(ls -d /sys/devices/system/node/node[0-9]* | wc -l)
start_vm home 2 busy
if [ "$nodes" -lt 2 ]; then
	note "one NUMA node: everything local (the remote case needs tests/vm/run --nodes 2)"
	start_schedd --cpus 0-7
	enroll_home
	[ "$(json_get 's["vms"][0]["numa_node"]')" = 0 ] || fail "numa_node is not 0"
	[ "$(json_get 's["vms"][0]["numa_local_cores"]')" = "[0, 2, 4, 6]" ] ||
		fail "numa_local_cores is $(json_get 's["vms"][0]["numa_local_cores"]'), not all 4 cores"
	[ "$(plain_numa)" = "0 4" ] || fail "plain status shows NODE LOCAL_CORES '$(plain_numa)', not '0 4'"
	! grep "run remote" "$SCHEDD_LOG" || fail "vmm-schedd calls a one-node VM remote"
	stop_schedd
	stop_vm home
	exit 0
fi

[ "$(cat /sys/devices/system/node/node1/cpulist)" = 4-7 ] ||
	fail "node 1 has CPUs $(cat /sys/devices/system/node/node1/cpulist), expected 4-7"
# All of the VMM's memory to node 1 (migrate_pages(2) from node 0).
left=$(python3 - "${VM_PID[home]}" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
old, new = ctypes.c_ulong(1 << 0), ctypes.c_ulong(1 << 1)
SYS_migrate_pages = 256
left = libc.syscall(ctypes.c_long(SYS_migrate_pages), ctypes.c_long(int(sys.argv[1])),
                    ctypes.c_long(64), ctypes.byref(old), ctypes.byref(new))
if left < 0:
    sys.exit("migrate_pages: " + os.strerror(ctypes.get_errno()))
print(left)
PY
) || fail "cannot move the memory of testvmm home to node 1"
note "moved testvmm home's memory to node 1 ($left pages stayed)"

# Enclave on node 0 only (cores 0 and 2): the VM's vCPUs run remote.
start_schedd --cpus 0-3
enroll_home
grep -qF "$REMOTE" "$SCHEDD_LOG" ||
	fail "no 'will run remote' line; numa_maps: $(grep -o 'N[0-9]*=[0-9]*' "/proc/${VM_PID[home]}/numa_maps" | sort | uniq -c | head)"
note "$(grep -F "$REMOTE" "$SCHEDD_LOG")"
[ "$(json_get 's["vms"][0]["numa_node"]')" = 1 ] || fail "numa_node is not 1"
[ "$(json_get 's["vms"][0]["numa_local_cores"]')" = "[]" ] || fail "numa_local_cores is not empty"
[ "$(plain_numa)" = "1 0" ] || fail "plain status shows NODE LOCAL_CORES '$(plain_numa)', not '1 0'"
stop_schedd

# Enclave on both nodes: cores 4 and 6 are local, nothing said.
start_schedd --cpus 0-7
enroll_home
[ "$(json_get 's["vms"][0]["numa_node"]')" = 1 ] || fail "numa_node is not 1 with the whole enclave"
[ "$(json_get 's["vms"][0]["numa_local_cores"]')" = "[4, 6]" ] ||
	fail "numa_local_cores is $(json_get 's["vms"][0]["numa_local_cores"]'), not [4, 6]"
[ "$(plain_numa)" = "1 2" ] || fail "plain status shows NODE LOCAL_CORES '$(plain_numa)', not '1 2'"
! grep "run remote" "$SCHEDD_LOG" || fail "vmm-schedd calls the VM remote with cores on node 1"
# Placement prefers the home node: with cores 4 and 6 free, the 2 busy vCPUs
# run there (first-fit from CPU 0 would put them on node 0's cores).
runs_remote() { json_get '"%d %d" % (sum(c["runs"] for c in s["vms"][0]["vcpus"]), s["vms"][0]["remote_runs"])'; }
sleep 2
read -r runs0 remote0 <<<"$(runs_remote)"
sleep 8
read -r runs1 remote1 <<<"$(runs_remote)"
runs=$((runs1 - runs0)) remote=$((remote1 - remote0))
note "home node 1, enclave on both nodes: $remote of $runs vCPU runs off node 1"
[ "$runs" -gt 0 ] || fail "the VM's vCPUs did not run"
[ $((remote * 10)) -le "$runs" ] || fail "$remote of $runs vCPU runs were off the home node (more than 10%)"
stop_schedd
stop_vm home
