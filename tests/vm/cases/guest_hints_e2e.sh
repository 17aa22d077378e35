#!/bin/bash
# case-seconds: 75
# Paravirtual hints from a real Linux guest (Debian 6.1) nested under KVM in the
# test VM: the guest daemon, then the vmm_pvhint driver and libpvhint's example,
# checked from the host side in the ivshmem backing file (tests/guest/hints_e2e).
# About 70 s; a boot retry (a hang in the firmware or the boot) adds up to 90 s.
. "$(dirname "$0")/../lib.sh"

out=$(tests/guest/hints_e2e --accel kvm) || fail "$out"
note "$out"
