#!/bin/bash
# case-seconds: 90
# A real Linux guest (Debian bookworm's 6.1, tests/guest/) boots nested under
# KVM inside the test VM with an ivshmem-plain device backed by a file: the
# tooling the paravirtual hint tests stand on. Boot time and retries are printed.
# Up to 4 boots, 120 s each: a nested boot sometimes hangs in SeaBIOS, and
# sometimes dies of the emulator fault guest-agent/README.md describes.
. "$(dirname "$0")/../lib.sh"

out=$(tests/guest/smoke --accel kvm --retries 3 --boot-timeout 120) || fail "$out"
note "$out"
