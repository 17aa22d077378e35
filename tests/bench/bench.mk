# Host benchmarks (no VM), included from tests/tests.mk. `make bench-plan`
# times the share plan and `make bench-planner` the core planner in a release
# build (no sanitizers); they report numbers and never fail on time.
SHARE_PLAN_BENCH := $(BUILD)/tests/bench/share-plan-bench

$(SHARE_PLAN_BENCH): tests/bench/share_plan_bench.c $(BUILD)/tests/lib/share_quadratic.o $(LIBVS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Ivmm-sched/lib $< $(filter %.o,$^) -o $@ $(LDFLAGS) $(LIBVS) -lm

all: $(SHARE_PLAN_BENCH)

.PHONY: bench-plan
bench-plan:
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/tests/bench/share-plan-bench
	$(BUILD)/release/tests/bench/share-plan-bench

-include $(SHARE_PLAN_BENCH).d

# `make bench-maps`: the share plan's read of the vCPU counters at 1,024 slots,
# one bpf() per slot against one batched read (needs root for the BPF map).
VCPU_STATS_BENCH := $(BUILD)/tests/bench/vcpu-stats-bench

$(VCPU_STATS_BENCH): tests/bench/vcpu_stats_read_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $< -o $@ $(LDFLAGS) $(shell pkg-config --libs libbpf)

all: $(VCPU_STATS_BENCH)

.PHONY: bench-maps
bench-maps:
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/tests/bench/vcpu-stats-bench
	$(BUILD)/release/tests/bench/vcpu-stats-bench

-include $(VCPU_STATS_BENCH).d

# `make bench-planner` times the agent's core planner the same way (ns per epoch).
PLANNER_BENCH := $(BUILD)/tests/bench/planner-bench

$(PLANNER_BENCH): tests/bench/planner_bench.c $(LIBVS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Ivmm-sched/lib $< -o $@ $(LDFLAGS) $(LIBVS)

all: $(PLANNER_BENCH)

.PHONY: bench-planner
bench-planner:
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/tests/bench/planner-bench
	$(BUILD)/release/tests/bench/planner-bench

-include $(PLANNER_BENCH).d

# batch-pair, the benchmark's batch-pairing baseline scheduler (tests/bench/batch_pair*).
BATCH_PAIR_BUILD := $(BUILD)/tests/bench
BATCH_PAIR_BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
	-Ibpf -isystem bpf/include -idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu

$(BATCH_PAIR_BUILD)/batch_pair.bpf.o: tests/bench/batch_pair.bpf.c bpf/include/vmlinux.h tests/bench/bench.mk
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BATCH_PAIR_BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BATCH_PAIR_BUILD)/batch_pair.skel.h: $(BATCH_PAIR_BUILD)/batch_pair.bpf.o
	$(BPFTOOL) gen skeleton $< name batch_pair_bpf > $@.tmp && mv $@.tmp $@

# The skeleton is generated: named here, as -MMD finds it only once it exists.
$(BATCH_PAIR_BUILD)/batch_pair.o: tests/bench/batch_pair.c $(BATCH_PAIR_BUILD)/batch_pair.skel.h \
		tests/bench/bench.mk
	$(CC) $(CFLAGS) -MMD -MP -Itests/bench -I$(BATCH_PAIR_BUILD) -c $< -o $@

$(BUILD)/batch-pair: $(BATCH_PAIR_BUILD)/batch_pair.o
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libbpf)

all: $(BUILD)/batch-pair

-include $(BATCH_PAIR_BUILD)/batch_pair.bpf.d $(BATCH_PAIR_BUILD)/batch_pair.d

# The simulator's speed and the BPF rules' forced idle against its lower bound
# (tests/bench/sim-bench), in a release build; BENCH_QUICK=1: shorter runs.
.PHONY: bench-sim
bench-sim:
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/vmm-sched-sim
	tests/bench/sim-bench $(BUILD)/release/vmm-sched-sim $(if $(BENCH_QUICK),--quick)

# The agent's core planner against the BPF rules and the forced-idle bound in
# the simulator (tests/bench/sim_compare.sh), release build; BENCH_QUICK=1:
# shorter runs.
.PHONY: bench-sim-policies
bench-sim-policies:
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/vmm-sched-sim
	tests/bench/sim_compare.sh $(BUILD)/release/vmm-sched-sim $(if $(BENCH_QUICK),--quick)

# The BPF scheduler's cost per call at 16 and 512 enrolled test VMs inside the
# test VM (tests/bench/dispatch_cost.sh; BENCH_QUICK=1: 5 s windows). The
# fleet_512 VM case runs the same measurement with 5 s windows.
.PHONY: bench-dispatch
bench-dispatch: all $(BUILD)/release/vmm-schedd
	tests/vm/run --mem 6G --timeout 2400 -- tests/bench/dispatch_cost.sh $(if $(BENCH_QUICK),--quick) $(if $(BENCH_DISPATCH_SMALL),--small $(BENCH_DISPATCH_SMALL))

# `make bench-discovery`: the agent's /proc rescan per VM (its own vm_rescan() on
# processes shaped like idle qemus) and its cost per process event (needs root, /dev/kvm).
DISCOVERY_BENCH := $(BUILD)/tests/bench/discovery-bench

$(DISCOVERY_BENCH): tests/bench/discovery_bench.c $(filter-out %/main.o,$(DAEMON_OBJS)) $(LIBVS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XML_CFLAGS) -MMD -MP -Ivmm-sched/lib -Ivmm-sched/daemon -Ivmm-sched/include \
		-Iguest-agent/include $< $(filter %.o,$^) -o $@ $(LDFLAGS) $(LIBVS) $(DAEMON_LIBS)

all: $(DISCOVERY_BENCH)

.PHONY: bench-discovery
bench-discovery:
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/tests/bench/discovery-bench
	$(BUILD)/release/tests/bench/discovery-bench

-include $(DISCOVERY_BENCH).d

# The real-guest benchmark (tests/bench/run-bench-guests): two nested Debian
# guests running Debian's cyclictest, sysbench, stress-ng, hackbench and
# db_bench on one core under the fair class, batch pairing and vmm-sched;
# BENCH_QUICK=1: one short round. The guests' initramfs is built on the host
# (tests/guest/make-bench-initramfs; it rebuilds only what changed).
.PHONY: bench-guests bench-initrd
bench-initrd:
	tests/guest/make-bench-initramfs -o $(BUILD)/tests/guest/bench-initrd.gz

guest: bench-initrd

bench-guests: all $(BUILD)/release/vmm-schedd bench-initrd guest-kernel
	tests/bench/run-bench-guests $(if $(BENCH_QUICK),--quick)

# Yield on exit from a real nested guest to ops.yield, link by link
# (tests/guest/yield_nested), in the multi-threaded TCG test VM; by hand.
.PHONY: bench-guest-yield
bench-guest-yield: all guest
	tests/guest/run-guest-yield
