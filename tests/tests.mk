include tests/unit/unit.mk
include tests/checker/checker.mk
include tests/tools/tools.mk
include tests/bench/bench.mk
include tests/fuzz/fuzz.mk

.PHONY: vm-test test demo bench bench-overhead
# A scheduler built to ignore the sibling, for the test that proves the pair
# checker catches a broken scheduler (tests/vm/cases/pairing_broken_variant.sh).
$(BUILD)/broken/vmm-schedd: $(BUILD)/vmm-schedd
	$(MAKE) BUILD=$(BUILD)/broken BPF_EXTRA_CFLAGS=-DVS_TEST_BREAK_PAIRING SANITIZE= \
		$(BUILD)/broken/vmm-schedd

# Benchmarks on the host: the share plan, the vCPU counter read, the core
# planner and the simulator (bench-plan, bench-maps, bench-planner, bench-sim, bench-sim-policies,
# tests/bench/bench.mk), the BPF cost per call at 16 and 512 test VMs (bench-dispatch),
# then inside the test VM the policy comparison (fair class, batch pairing,
# vmm-sched, vmm-sched --no-kick in alternating rounds) with its table, CSV and
# charts in bench-results/<date>/ (tests/bench/run-bench). BENCH_QUICK=1: a
# few seconds per policy. `make bench-overhead`: the older vmm_sched-vs-fair
# and kick-vs-no-kick run (tests/bench/sched_overhead.sh). bench-guests
# (tests/bench/bench.mk): the real-guest benchmark, before the comparison; its
# failure is reported, not fatal (its nested guests die in the test VM today).
$(BUILD)/release/vmm-schedd: $(BUILD)/vmm-schedd
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/vmm-schedd

bench: bench-plan bench-maps bench-discovery bench-planner bench-sim bench-sim-policies \
		bench-dispatch all $(BUILD)/release/vmm-schedd
	-$(MAKE) bench-guests
	tests/bench/run-bench $(if $(BENCH_QUICK),--quick)

bench-overhead: all $(BUILD)/release/vmm-schedd
	tests/vm/run --timeout 900 -- tests/bench/sched_overhead.sh

# The VM suite only (needs root: virtiofsd shares the host root with the VM).
vm-test: all $(BUILD)/broken/vmm-schedd guest
	tests/vm/run --timeout 3600 -- tests/vm/suite

# Everything, on a fresh machine: packages, build, unit, host and VM tests.
test: deps
	$(MAKE) all $(BUILD)/broken/vmm-schedd guest
	tests/run-all

# The main job on a built-in default: three test VMs scheduled in the test VM.
demo: deps
	$(MAKE) all
	tests/vm/run --timeout 900 -- tests/vm/demo
