#!/bin/bash
# case-seconds: 177
# The pairing test can fail: the same scenario as pairing_invariant under a
# scheduler built with -DVS_TEST_BREAK_PAIRING (it ignores what the sibling
# runs) must make the pair checker report cross-VM overlaps.
. "$(dirname "$0")/../lib.sh"

[ -x "$BUILD/broken/vmm-schedd" ] || fail "$BUILD/broken/vmm-schedd is missing (make $BUILD/broken/vmm-schedd)"
SCHEDD_BIN=$BUILD/broken/vmm-schedd run_pairing_scenario 8
[ "$(field cross_vm_overlaps)" -gt 0 ] ||
	fail "the pair checker saw no cross-VM overlap under a scheduler that ignores siblings: $RESULT"
stop_schedd
