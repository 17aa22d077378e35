# tests/checker: pair-checker, an independent BPF witness of core scheduling by
# VM (cross-VM and host/vCPU SMT-sibling overlaps). Included from tests/tests.mk.
# Shares no code with the scheduler: no -Ibpf, no vmm_sched_abi.h. Header
# dependencies come from -MMD; checker.mk is one too, so a changed recipe rebuilds.
CHECKER_DIR   := tests/checker
CHECKER_BUILD := $(BUILD)/checker
CHECKER_BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
	-isystem bpf/include -idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu

$(CHECKER_BUILD):
	mkdir -p $@

$(CHECKER_BUILD)/pair_checker.bpf.o: $(CHECKER_DIR)/pair_checker.bpf.c bpf/include/vmlinux.h \
		$(CHECKER_DIR)/checker.mk | $(CHECKER_BUILD)
	$(BPF_CLANG) $(CHECKER_BPF_CFLAGS) -MMD -MP -c $< -o $@

$(CHECKER_BUILD)/pair_checker.skel.h: $(CHECKER_BUILD)/pair_checker.bpf.o
	$(BPFTOOL) gen skeleton $< name pair_checker > $@.tmp && mv $@.tmp $@

# The skeleton is generated: named here, as -MMD finds it only once it exists.
$(CHECKER_BUILD)/pair_checker.o: $(CHECKER_DIR)/pair_checker.c $(CHECKER_BUILD)/pair_checker.skel.h \
		$(CHECKER_DIR)/checker.mk
	$(CC) $(CFLAGS) -MMD -MP -I$(CHECKER_DIR) -I$(CHECKER_BUILD) -c $< -o $@

$(BUILD)/pair-checker: $(CHECKER_BUILD)/pair_checker.o
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libbpf) -lpthread

all: $(BUILD)/pair-checker

# The thread-name rules, checked on the host: `make checker-test`.
$(CHECKER_BUILD)/test_vcpu_name: $(CHECKER_DIR)/test_vcpu_name.c $(CHECKER_DIR)/checker.mk \
		| $(CHECKER_BUILD)
	$(CC) $(CFLAGS) -MMD -MP -I$(CHECKER_DIR) $< -o $@ $(LDFLAGS)

all: $(CHECKER_BUILD)/test_vcpu_name

.PHONY: checker-test
checker-test: $(CHECKER_BUILD)/test_vcpu_name
	$<

-include $(addprefix $(CHECKER_BUILD)/,pair_checker.bpf.d pair_checker.d test_vcpu_name.d)
