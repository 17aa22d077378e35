#!/bin/bash
# case-seconds: 65
# A real Linux guest (Debian bookworm's 6.1, tests/guest/) boots nested under
# KVM inside the test VM with an ivshmem-plain device backed by a file: the
# tooling the paravirtual hint tests stand on. Boot time and retries are printed.
. "$(dirname "$0")/../lib.sh"

out=$(tests/guest/smoke --accel kvm) || fail "$out"
note "$out"
