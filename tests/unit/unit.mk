# Unit tests of the policy library (cmocka), included from tests/tests.mk.
# One binary per tests/unit/test_*.c; `make unit-test` builds and runs them all,
# runs every one even if an earlier one fails, and fails if any failed.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)

# cmocka's output format: stdout (default), subunit, tap or xml.
CMOCKA_MESSAGE_OUTPUT ?= stdout

$(UNIT_BINS): $(BUILD)/tests/unit/%: tests/unit/%.c $(LIBVS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Ivmm-sched/lib -Ivmm-sched/daemon -Ivmm-sched/include -Iguest-agent/include $< $(filter %.o,$^) -o $@ \
		$(LDFLAGS) $(LIBVS) -lcmocka $(UNIT_LIBS) $(CTL_LIBS)

# The kfunc check's test also walks BTF with the daemon's walker and libbpf.
$(BUILD)/tests/unit/test_kfunc_check: $(BUILD)/vmm-sched/daemon/kfunc_btf.o
$(BUILD)/tests/unit/test_kfunc_check: UNIT_LIBS = $(shell pkg-config --libs libbpf)

# Code only tests use (tests/lib), e.g. the reference a rewrite is held to.
$(BUILD)/tests/lib/%.o: tests/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -Ivmm-sched/lib -c $< -o $@

$(BUILD)/tests/unit/test_share_vs_quadratic: $(BUILD)/tests/lib/share_quadratic.o
# The metrics are rendered from the status JSON (json-c).
$(BUILD)/tests/unit/test_metrics_render: UNIT_LIBS = $(shell pkg-config --libs json-c)

all: $(UNIT_BINS)

.PHONY: unit-test
unit-test: $(UNIT_BINS)
	@failed=""; \
	for t in $(UNIT_BINS); do \
		echo "== $$t"; \
		CMOCKA_MESSAGE_OUTPUT=$(CMOCKA_MESSAGE_OUTPUT) $$t || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "unit-test: FAILED:$$failed"; exit 1; fi; \
	echo "unit-test: all passed"

-include $(UNIT_BINS:=.d) $(patsubst tests/lib/%.c,$(BUILD)/tests/lib/%.d,$(wildcard tests/lib/*.c))

# vmm-sched.conf is read with inih.
$(BUILD)/tests/unit/test_options: UNIT_LIBS = -linih

# libvirt domain metadata is parsed with libxml2.
$(BUILD)/tests/unit/test_libvirt_meta: UNIT_LIBS = $(shell pkg-config --libs libxml-2.0)
