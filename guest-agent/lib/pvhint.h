/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpvhint: tell the host scheduler that this thread is in a critical section
 * (a spinlock held, say), so it can avoid preempting the vCPU that runs it.
 *
 *	pvhint_enter();
 *	pthread_spin_lock(&lock);
 *	...
 *	pthread_spin_unlock(&lock);
 *	pvhint_exit();
 *
 * The first call in a thread registers it with the guest driver (/dev/vmm_pvhint:
 * a few system calls); after that enter/exit only write the thread's own slot
 * in shared memory: no system call. The driver names the slot of the running
 * thread in each vCPU's slot at every context switch, so the hint follows the
 * thread when it migrates between vCPUs. Without the driver every call is a
 * cheap no-op. Sections nest (up to 64 deep are published).
 *
 * When the host extended a vCPU's slice for a section and asks for the CPU
 * back (YIELD_ON_EXIT), the outermost pvhint_exit() on that vCPU gives it back
 * through the driver: one system call per extension the host reports.
 */
#ifndef PVHINT_H
#define PVHINT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Registers the calling thread now (optional: the first pvhint_enter() does it).
 * Returns 0, or a negative errno: -ENOENT no driver, -ENOSPC no free slot. */
int pvhint_thread_init(void);
/* Gives the calling thread's slot back (optional: thread exit does it). */
void pvhint_thread_fini(void);

void pvhint_enter(void);
void pvhint_exit(void);

/* The calling thread's slot index in the region, or -1 if it publishes nothing. */
int pvhint_slot_index(void);
/* The depth the calling thread's slot shows now (0 when not publishing). */
unsigned int pvhint_depth(void);
/* How often this process's outermost exits gave a vCPU back at the host's request. */
unsigned long pvhint_yields(void);

#ifdef __cplusplus
}
#endif
#endif /* PVHINT_H */
