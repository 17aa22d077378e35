/*
 * An indexed min-heap of VMs by (key, VM id), the key read from the VM
 * (its vtime or since when it waits): the simulator keeps the VMs with queued vCPUs
 * in such heaps so that finding the VM owed a core costs O(log n), not a scan
 * of every VM. Ties go to the lower VM id, as BPF's scan in id order gives.
 */
#ifndef VS_SIM_VMHEAP_H
#define VS_SIM_VMHEAP_H

#include <stdbool.h>
#include <stdint.h>

struct sim_vmheap {
	int32_t *vm;	      /* the heap */
	int32_t *pos;	      /* by VM: its index in vm[], -1 if absent */
	const uint64_t *keys; /* by VM, at keys[vm * stride] */
	uint32_t stride, len;
};

/* For @n VMs whose keys are at @keys[vm * @stride]; 0 or -1 (out of memory). */
int sim_vmheap_init(struct sim_vmheap *h, uint32_t n, const uint64_t *keys, uint32_t stride);
void sim_vmheap_free(struct sim_vmheap *h);
bool sim_vmheap_has(const struct sim_vmheap *h, int32_t vm);
void sim_vmheap_add(struct sim_vmheap *h, int32_t vm);
void sim_vmheap_remove(struct sim_vmheap *h, int32_t vm);
/* @vm's key changed (no-op if absent). */
void sim_vmheap_update(struct sim_vmheap *h, int32_t vm);
/* The VM with the lowest (key, id), or -1 if empty. */
static inline int32_t sim_vmheap_top(const struct sim_vmheap *h)
{
	return h->len ? h->vm[0] : -1;
}

#endif
