# Host benchmarks (no VM), included from tests/tests.mk. `make bench-plan`
# times the share plan in a release build (no sanitizers); it reports ratios and
# never fails on time.
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
