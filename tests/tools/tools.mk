# tests/tools: small helpers for the VM test cases. Included from tests/tests.mk.
#   core-cookie          reads and creates PR_SCHED_CORE cookies
#   fake-sched-core.so   LD_PRELOAD emulation of those cookies for kernels
#                        without CONFIG_SCHED_CORE
# Scripts, run from the source tree:
#   fake-vmm             a process shaped like a VMM (thread names, optionally a
#                        real KVM VM and vCPUs), for attacks on enrolment
#   take-pid             runs a command with a given pid (a reused pid or tid)
$(BUILD)/core-cookie: tests/tools/core-cookie.c tests/tools/tools.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $< -o $@ $(LDFLAGS)

# Preloaded into sanitized programs, so built without sanitizers itself.
$(BUILD)/fake-sched-core.so: tests/tools/fake-sched-core.c tests/tools/tools.mk
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 $(WARN) -D_GNU_SOURCE -MMD -MP -fPIC -shared $< -o $@

all: $(BUILD)/core-cookie $(BUILD)/fake-sched-core.so

-include $(BUILD)/core-cookie.d $(BUILD)/fake-sched-core.d
