# The sched_ext scheduler: clang-19 -> BPF object -> bpftool skeleton.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror \
	-Ibpf -isystem bpf/include -idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu

$(BUILD)/bpf:
	mkdir -p $@

# Headers it includes (bpf/sched, bpf/rules, the ABI) are found by clang (-MMD);
# vmlinux.h is generated, and a system header to clang, so it is named here;
# so is bpf.mk, so that a changed recipe rebuilds.
$(BUILD)/bpf/vmm_sched.bpf.o: bpf/vmm_sched.bpf.c bpf/include/vmlinux.h bpf/bpf.mk | $(BUILD)/bpf
	$(BPF_CLANG) $(BPF_CFLAGS) $(BPF_EXTRA_CFLAGS) -MMD -MP -c $< -o $@

-include $(BUILD)/bpf/vmm_sched.bpf.d

$(BUILD)/vmm_sched.skel.h: $(BUILD)/bpf/vmm_sched.bpf.o
	$(BPFTOOL) gen skeleton $< name vmm_sched > $@.tmp && mv $@.tmp $@

all: $(BUILD)/vmm_sched.skel.h
