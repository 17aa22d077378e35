# tests/testvmm: a minimal KVM VMM for the tests. The guest payload is freestanding
# C linked at GUEST_IMAGE_GPA, flattened with objcopy and embedded with .incbin.
TESTVMM_DIR   := tests/testvmm
# Objects cannot go under $(BUILD)/testvmm/: that is the binary.
TESTVMM_BUILD := $(BUILD)/tests/testvmm
OBJCOPY       ?= objcopy

TESTVMM_SRCS := $(wildcard $(TESTVMM_DIR)/*.c)
TESTVMM_OBJS := $(TESTVMM_SRCS:$(TESTVMM_DIR)/%.c=$(TESTVMM_BUILD)/%.o) \
	$(TESTVMM_BUILD)/guest_image.o

GUEST_SRCS := $(wildcard $(TESTVMM_DIR)/guest/*.c)
GUEST_OBJS := $(GUEST_SRCS:$(TESTVMM_DIR)/guest/%.c=$(TESTVMM_BUILD)/guest/%.o)
GUEST_LDS  := $(TESTVMM_BUILD)/guest/guest.lds
GUEST_ELF  := $(TESTVMM_BUILD)/guest/payload.elf
GUEST_BIN  := $(TESTVMM_BUILD)/guest/payload.bin

# The guest runs in ring 0 without a runtime: no sanitizers, no SSE, no red zone.
GUEST_CFLAGS = $(filter-out -fsanitize% -fno-sanitize%,$(CFLAGS)) \
	-ffreestanding -nostdlib -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
	-mcmodel=small
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,--no-warn-rwx-segments

$(TESTVMM_BUILD)/%.o: $(TESTVMM_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(TESTVMM_BUILD)/guest/%.o: $(TESTVMM_DIR)/guest/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GUEST_LDS): $(TESTVMM_DIR)/guest/guest.lds.S $(TESTVMM_DIR)/guest_abi.h
	@mkdir -p $(dir $@)
	$(CC) -E -P -x c -D__ASSEMBLER__ $< -o $@

$(GUEST_ELF): $(GUEST_OBJS) $(GUEST_LDS)
	$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -Wl,-T,$(GUEST_LDS) -o $@ $(GUEST_OBJS)

$(GUEST_BIN): $(GUEST_ELF)
	$(OBJCOPY) -O binary $< $@

$(TESTVMM_BUILD)/guest_image.o: $(TESTVMM_DIR)/guest_image.S $(GUEST_BIN)
	@mkdir -p $(dir $@)
	$(CC) -c -DGUEST_IMAGE_BIN='"$(GUEST_BIN)"' $< -o $@

$(BUILD)/testvmm: $(TESTVMM_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

all: $(BUILD)/testvmm

-include $(TESTVMM_OBJS:.o=.d) $(GUEST_OBJS:.o=.d)

# The fleet tests (tests/vm/fleet.sh) run hundreds of testvmm at once: a build
# without sanitizers too, a tenth of the memory each.
ifneq ($(SANITIZE),)
$(BUILD)/release/testvmm: $(BUILD)/testvmm
	$(MAKE) BUILD=$(BUILD)/release SANITIZE= $(BUILD)/release/testvmm

all: $(BUILD)/release/testvmm
endif
