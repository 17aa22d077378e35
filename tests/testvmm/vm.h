/* One KVM VM: its fds, guest memory with page tables and GDT, and the loaded payload. */
#ifndef TESTVMM_VM_H
#define TESTVMM_VM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "guest_abi.h"

struct vm {
	int kvm_fd;
	int fd;
	uint8_t *mem; /* guest-physical 0 .. GUEST_MEM_SIZE */
	size_t run_mmap_size;
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, given to every vCPU */
};

/* Create the VM with an in-kernel irqchip and its memory; prints the reason and returns -1 on
 * failure. */
int vm_create(struct vm *vm);
void vm_destroy(struct vm *vm);
/* Make @region (GUEST_HINTS_SIZE bytes, shared) guest memory at GUEST_HINTS_GPA; -1 on failure. */
int vm_add_hint_memory(struct vm *vm, void *region);

static inline struct guest_shared *vm_shared(struct vm *vm)
{
	return (struct guest_shared *)(vm->mem + GUEST_SHARED_GPA);
}

#endif
