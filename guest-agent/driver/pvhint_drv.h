/* SPDX-License-Identifier: GPL-2.0-only */
/* State shared by the parts of the vmm_pvhint guest driver. */
#ifndef PVHINT_DRV_H
#define PVHINT_DRV_H

#include <linux/types.h>
#include <linux/pci.h>
#include "vmm_pvhint_abi.h"
#include "pvhint_host_mark.h"

#define PVHINT_THREAD_PAGES (PVHINT_MAX_THREAD_SLOTS / PVHINT_THREADS_PER_PAGE)

struct pvhint_dev {
	struct pci_dev *pdev;
	void *region;		 /* BAR2, write-back mapping */
	resource_size_t phys;	 /* BAR2's bus address, for user mappings */
	unsigned int nr_vcpus;	 /* slots published: min(nr_cpu_ids, PVHINT_MAX_VCPUS) */
	unsigned int nr_threads; /* thread slots offered */
};

/* The one bound device, or NULL (one region per VM). */
extern struct pvhint_dev *pvhint;

static inline struct pvhint_header *pvhint_hdr(void)
{
	return pvhint->region + PVHINT_HEADER_OFF;
}
static inline struct pvhint_vcpu_slot *pvhint_vcpu(unsigned int cpu)
{
	return pvhint->region + PVHINT_VCPU_SLOT_OFF(cpu);
}
static inline struct pvhint_thread_slot *pvhint_thread(unsigned int i)
{
	return pvhint->region + PVHINT_THREAD_SLOT_OFF(i);
}

/* pvhint_publish.c: vCPU slots, idle and context-switch probes, heartbeat. */
int pvhint_publish_start(void);
void pvhint_publish_stop(void);
u64 pvhint_now_ns(void);
/* Names thread slot `thread` (or PVHINT_NO_THREAD) as running on this vCPU now. */
void pvhint_note_current(u32 thread);

/* pvhint_threads.c: thread slots of registered application threads. */
int pvhint_threads_start(void);
void pvhint_threads_stop(void);
int pvhint_thread_register(void *owner, unsigned int page);
int pvhint_thread_unregister(void *owner);
void pvhint_threads_release(void *owner);
/* The thread slot of task t, or PVHINT_NO_THREAD; called with preemption off. */
u32 pvhint_thread_of(struct task_struct *t);

/* pvhint_giveback.c: PVHINT_IOC_YIELD; 1 if it acknowledged a request, else 0. */
long pvhint_yield_on_exit(void);

/* pvhint_cdev.c: /dev/vmm_pvhint. */
int pvhint_cdev_start(void);
void pvhint_cdev_stop(void);

/* Looks a kernel tracepoint up by name (not all are exported to modules). */
struct tracepoint *pvhint_find_tracepoint(const char *name);

#endif /* PVHINT_DRV_H */
