# libFuzzer targets (clang, ASan + UBSan), included from tests/tests.mk.
# `make fuzz` builds them; tests/run-all runs each for a bounded time.
FUZZ_CC     ?= $(shell command -v clang-19 || command -v clang)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Ivmm-sched/lib -Ivmm-sched/include -Iguest-agent/include -I. -I$(BUILD)
FUZZ_CTL_REQUEST_SRCS := tests/fuzz/fuzz_ctl_request.c vmm-sched/lib/ctl_request.c \
	vmm-sched/lib/ctl_reply.c vmm-sched/lib/txn_outcome.c vmm-sched/lib/vm_name.c \
	vmm-sched/lib/text_escape.c vmm-sched/lib/err_msg.c vmm-sched/lib/enclave_set.c vmm-sched/lib/enclave.c \
	vmm-sched/lib/topology.c vmm-sched/lib/cpuset.c

$(BUILD)/fuzz/fuzz_ctl_request: $(FUZZ_CTL_REQUEST_SRCS) $(wildcard vmm-sched/lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CTL_REQUEST_SRCS) -o $@ $(CTL_LIBS)

FUZZ_PVHINT_REGION_SRCS := tests/fuzz/fuzz_pvhint_region.c vmm-sched/lib/pvhint_region.c

$(BUILD)/fuzz/fuzz_pvhint_region: $(FUZZ_PVHINT_REGION_SRCS) $(wildcard vmm-sched/lib/*.h) \
		guest-agent/include/vmm_pvhint_abi.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_PVHINT_REGION_SRCS) -o $@

.PHONY: fuzz
fuzz: $(BUILD)/fuzz/fuzz_ctl_request $(BUILD)/fuzz/fuzz_pvhint_region
