# The guest side of the paravirtual hints (guest-agent/) and the real-guest test
# tooling (tests/guest/), included from the top Makefile.
#
# `make all` builds libpvhint, its example and the guest daemon (static, no
# sanitizers: they run inside a guest's initramfs) and the host-side region tool.
# `make guest` also fetches Debian's 6.1 guest kernel and headers
# (tests/guest/fetch-kernel), copies the kernel to $(BUILD)/guest/kernel (the
# test VM cannot see the download cache) and builds the driver against them.
PVGUEST_CC     ?= gcc
PVGUEST_CFLAGS ?= -O2 -g
PVGUEST_FLAGS   = $(PVGUEST_CFLAGS) -std=gnu11 $(WARN) -D_GNU_SOURCE -Iguest-agent/include \
		-Iguest-agent/lib -Iguest-agent/daemon
PVGUEST_DIR     = $(BUILD)/guest
LIBPVHINT     = $(PVGUEST_DIR)/libpvhint.a

$(PVGUEST_DIR)/obj/%.o: guest-agent/%.c
	@mkdir -p $(dir $@)
	$(PVGUEST_CC) $(PVGUEST_FLAGS) -MMD -MP -c $< -o $@

$(LIBPVHINT): $(PVGUEST_DIR)/obj/lib/pvhint.o $(PVGUEST_DIR)/obj/lib/pvhint_yield.o
	$(AR) rcs $@ $^

$(PVGUEST_DIR)/pvhint_spin: $(PVGUEST_DIR)/obj/lib/examples/pvhint_spin.o $(LIBPVHINT)
	$(PVGUEST_CC) -static -o $@ $^ -lpthread

PVGUESTD_OBJS = $(PVGUEST_DIR)/obj/daemon/pvhint_guestd.o $(PVGUEST_DIR)/obj/daemon/procstat_idle.o
$(PVGUEST_DIR)/pvhint-guestd: $(PVGUESTD_OBJS)
	$(PVGUEST_CC) -static -o $@ $^

$(BUILD)/tests/guest/pvhint_region: tests/guest/pvhint_region.c guest-agent/guest.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP $< -o $@ $(LDFLAGS)

-include $(BUILD)/tests/guest/pvhint_region.d

all: $(LIBPVHINT) $(PVGUEST_DIR)/pvhint_spin $(PVGUEST_DIR)/pvhint-guestd $(BUILD)/tests/guest/pvhint_region

.PHONY: guest guest-kernel
guest-kernel:
	@mkdir -p $(PVGUEST_DIR)/kernel
	@k=$$(tests/guest/fetch-kernel) && cp -L $$k/vmlinuz $$k/release $(PVGUEST_DIR)/kernel/

$(PVGUEST_DIR)/vmm_pvhint.ko: guest-kernel $(wildcard guest-agent/driver/*) $(wildcard guest-agent/include/*)
	+tests/guest/build-module guest-agent/driver $(PVGUEST_DIR)/mod guest-agent/include >/dev/null
	cp $(PVGUEST_DIR)/mod/driver/vmm_pvhint.ko $@

guest: guest-kernel $(PVGUEST_DIR)/vmm_pvhint.ko $(LIBPVHINT) $(PVGUEST_DIR)/pvhint_spin \
	$(PVGUEST_DIR)/pvhint-guestd $(BUILD)/tests/guest/pvhint_region

-include $(wildcard $(PVGUEST_DIR)/obj/*/*.d $(PVGUEST_DIR)/obj/*/*/*.d)

# The same sources built for the host's unit tests (with the project's CFLAGS).
$(BUILD)/guest-agent/%.o: guest-agent/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iguest-agent/include -Iguest-agent/lib -MMD -MP -c $< -o $@

$(BUILD)/tests/unit/test_procstat_idle: $(BUILD)/guest-agent/daemon/procstat_idle.o
$(BUILD)/tests/unit/test_libpvhint: $(BUILD)/guest-agent/lib/pvhint.o \
	$(BUILD)/guest-agent/lib/pvhint_yield.o
$(BUILD)/tests/unit/test_libpvhint: CFLAGS += -Iguest-agent/include
-include $(wildcard $(BUILD)/guest-agent/*/*.d)
