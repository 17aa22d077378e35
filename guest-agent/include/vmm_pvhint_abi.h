/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * The paravirtual hint ABI between a guest (driver, guest daemon, libpvhint)
 * and the host (vmm-schedd): one shared region per VM, the ivshmem-plain BAR2
 * in the guest and the backing file on the host. Field by field in
 * docs/guest-abi.md. Little-endian, fixed offsets, checked below.
 *
 * Bump PVHINT_ABI_VERSION on any change to a layout, an offset or a meaning.
 * The host treats the guest part as hostile: it copies each slot once (under
 * the slot's seqcount), validates the copy, and never sizes or indexes
 * anything from guest data without a bound from this file.
 */
#ifndef VMM_PVHINT_ABI_H
#define VMM_PVHINT_ABI_H

#include <linux/types.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vmm_pvhint_abi.h: the region is little-endian; a big-endian side must convert"
#endif

#define PVHINT_MAGIC	   0x4e485650u /* "PVHN" in memory; 0 = no guest */
#define PVHINT_ABI_VERSION 1u
#define PVHINT_PCI_VENDOR  0x1af4 /* ivshmem-plain */
#define PVHINT_PCI_DEVICE  0x1110

#define PVHINT_MAX_VCPUS	256u
#define PVHINT_MAX_THREAD_SLOTS 1024u
#define PVHINT_SLOT_SIZE	64u
#define PVHINT_PAGE_SIZE	4096u
#define PVHINT_THREADS_PER_PAGE (PVHINT_PAGE_SIZE / PVHINT_SLOT_SIZE)

/*
 * Region layout (byte offsets). The guest writes [0, PVHINT_H2G_OFF), the host
 * maps that part read-only. The host writes [PVHINT_H2G_OFF, PVHINT_REGION_SIZE)
 * and never reads it back: it keeps those values in its own memory.
 */
#define PVHINT_HEADER_OFF 0x00000u
#define PVHINT_VCPU_OFF	  0x01000u /* PVHINT_MAX_VCPUS vCPU slots */
#define PVHINT_THREAD_OFF                                                                          \
	0x08000u /* PVHINT_MAX_THREAD_SLOTS thread slots, page-granular per process */
#define PVHINT_H2G_OFF 0x20000u /* PVHINT_MAX_VCPUS host-to-guest slots */
#define PVHINT_REGION_SIZE                                                                         \
	0x24000u /* the backing file / BAR2 is at least this big (1 MiB advised) */

/* Header features: which parts of the slots the guest keeps up to date. */
#define PVHINT_F_IDLE	      (1u << 0) /* PVHINT_VCPU_IDLE, idle_since_ns, idle_transitions */
#define PVHINT_F_CS	      (1u << 1) /* cs_depth, cs_since_ns */
#define PVHINT_F_THREAD_SLOTS (1u << 2) /* cur_thread and the thread slots */
#define PVHINT_F_HEARTBEAT    (1u << 3) /* heartbeat, now_ns */
#define PVHINT_F_KNOWN	      (PVHINT_F_IDLE | PVHINT_F_CS | PVHINT_F_THREAD_SLOTS | PVHINT_F_HEARTBEAT)

struct pvhint_header {
	__u32 magic;	       /* PVHINT_MAGIC, written last at start; 0 = no guest */
	__u32 abi_version;     /* PVHINT_ABI_VERSION */
	__u32 nr_vcpus;	       /* vCPU slots in use, 1..PVHINT_MAX_VCPUS */
	__u32 features;	       /* PVHINT_F_*; unknown bits are ignored */
	__u64 boot_id;	       /* random, nonzero, new at every guest boot or driver load */
	__u32 nr_thread_slots; /* thread slots in use, 0..PVHINT_MAX_THREAD_SLOTS */
	__u32 reserved0;
	__u64 reserved[4]; /* zero; ignored by the host */
};

/* vCPU slot flags */
#define PVHINT_VCPU_ONLINE	(1u << 0) /* the guest publishes for this vCPU */
#define PVHINT_VCPU_IDLE	(1u << 1) /* in the guest's idle loop */
#define PVHINT_VCPU_PREEMPT_SEN (1u << 2) /* preemption-sensitive (e.g. interrupts off, RT task)   \
					   */
#define PVHINT_VCPU_KNOWN   (PVHINT_VCPU_ONLINE | PVHINT_VCPU_IDLE | PVHINT_VCPU_PREEMPT_SEN)
#define PVHINT_NO_THREAD    0xffffffffu /* cur_thread: no registered thread runs here */
#define PVHINT_MAX_CS_DEPTH 64u		/* deeper nesting is a malformed slot */

/*
 * One per vCPU, written only by that vCPU (driver or guest daemon):
 * seq += 1 (odd), write fields, seq += 1 (even), with write barriers between.
 */
struct pvhint_vcpu_slot {
	__u32 seq;		/* seqcount: odd while being written */
	__u32 flags;		/* PVHINT_VCPU_* */
	__u64 idle_since_ns;	/* guest CLOCK_MONOTONIC of the last idle change */
	__u32 cs_depth;		/* kernel-level critical-section nesting, 0 = none */
	__u32 cur_thread;	/* thread slot of the thread running here, or PVHINT_NO_THREAD */
	__u64 cs_since_ns;	/* guest clock when cs_depth went 0 -> 1 */
	__u64 heartbeat;	/* +1 at each publish tick; never goes back within a boot */
	__u64 now_ns;		/* guest clock at this write */
	__u32 idle_transitions; /* idle changes since boot (wraps); the host rate-limits on it */
	__u32 reserved0;
	__u64 reserved1;
};

/* Thread slot flags */
#define PVHINT_THREAD_IN_USE (1u << 0)

/*
 * One per registered application thread, written only by that thread (libpvhint):
 * pvhint_enter(): if depth == 0 { since_ns = now }; depth += 1.  pvhint_exit(): depth -= 1.
 * The driver writes cur_thread of the vCPU slot at every context switch, so a
 * migrating thread's depth follows it to whichever vCPU runs it.
 */
struct pvhint_thread_slot {
	__u32 depth;	/* critical-section nesting, 0 = none, <= PVHINT_MAX_CS_DEPTH */
	__u32 flags;	/* PVHINT_THREAD_* (written by the driver at registration) */
	__u64 since_ns; /* guest clock when depth went 0 -> 1 */
	__u32 tid;	/* guest thread id, informative */
	__u32 reserved0;
	__u64 reserved[5];
};

/* Host-to-guest slot flags */
#define PVHINT_H2G_YIELD_ON_EXIT                                                                   \
	(1u << 0) /* the slice was extended for a critical section: yield when it ends */

/* One per vCPU, written only by the host, read by the guest under seq. */
struct pvhint_h2g_slot {
	__u32 seq;	   /* seqcount: odd while the host writes */
	__u32 flags;	   /* PVHINT_H2G_* */
	__u64 preemptions; /* times the host took the core from this vCPU while it was runnable */
	__u64 extensions;  /* slice extensions granted */
	__u64 extended_ns; /* their total length */
	__u64 disabled;	   /* nonzero: the host stopped using this VM's hints (malformed region) */
	__u64 reserved[3];
};

#define PVHINT_VCPU_SLOT_OFF(i)	  (PVHINT_VCPU_OFF + (i)*PVHINT_SLOT_SIZE)
#define PVHINT_THREAD_SLOT_OFF(i) (PVHINT_THREAD_OFF + (i)*PVHINT_SLOT_SIZE)
#define PVHINT_H2G_SLOT_OFF(i)	  (PVHINT_H2G_OFF + (i)*PVHINT_SLOT_SIZE)

#ifdef __cplusplus
#define PVHINT_STATIC_ASSERT static_assert
#else
#define PVHINT_STATIC_ASSERT _Static_assert
#endif
#define PVHINT_OFFSET(type, field) __builtin_offsetof(struct type, field)

PVHINT_STATIC_ASSERT(sizeof(struct pvhint_header) == 64, "header is 64 bytes");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_header, magic) == 0, "magic");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_header, abi_version) == 4, "abi_version");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_header, nr_vcpus) == 8, "nr_vcpus");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_header, features) == 12, "features");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_header, boot_id) == 16, "boot_id");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_header, nr_thread_slots) == 24, "nr_thread_slots");

PVHINT_STATIC_ASSERT(sizeof(struct pvhint_vcpu_slot) == PVHINT_SLOT_SIZE, "vCPU slot is 64 bytes");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, seq) == 0, "seq");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, flags) == 4, "flags");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, idle_since_ns) == 8, "idle_since_ns");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, cs_depth) == 16, "cs_depth");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, cur_thread) == 20, "cur_thread");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, cs_since_ns) == 24, "cs_since_ns");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, heartbeat) == 32, "heartbeat");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, now_ns) == 40, "now_ns");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_vcpu_slot, idle_transitions) == 48, "idle_transitions");

PVHINT_STATIC_ASSERT(sizeof(struct pvhint_thread_slot) == PVHINT_SLOT_SIZE,
		     "thread slot is 64 bytes");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_thread_slot, depth) == 0, "depth");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_thread_slot, flags) == 4, "flags");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_thread_slot, since_ns) == 8, "since_ns");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_thread_slot, tid) == 16, "tid");

PVHINT_STATIC_ASSERT(sizeof(struct pvhint_h2g_slot) == PVHINT_SLOT_SIZE,
		     "host-to-guest slot is 64 bytes");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_h2g_slot, seq) == 0, "seq");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_h2g_slot, flags) == 4, "flags");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_h2g_slot, preemptions) == 8, "preemptions");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_h2g_slot, extensions) == 16, "extensions");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_h2g_slot, extended_ns) == 24, "extended_ns");
PVHINT_STATIC_ASSERT(PVHINT_OFFSET(pvhint_h2g_slot, disabled) == 32, "disabled");

PVHINT_STATIC_ASSERT(PVHINT_VCPU_SLOT_OFF(PVHINT_MAX_VCPUS) <= PVHINT_THREAD_OFF, "vCPU slots fit");
PVHINT_STATIC_ASSERT(PVHINT_THREAD_SLOT_OFF(PVHINT_MAX_THREAD_SLOTS) <= PVHINT_H2G_OFF,
		     "thread slots fit");
PVHINT_STATIC_ASSERT(PVHINT_H2G_SLOT_OFF(PVHINT_MAX_VCPUS) <= PVHINT_REGION_SIZE, "h2g slots fit");
PVHINT_STATIC_ASSERT(PVHINT_H2G_OFF % PVHINT_PAGE_SIZE == 0,
		     "h2g part is page-aligned (mapped apart)");
PVHINT_STATIC_ASSERT(PVHINT_THREAD_OFF % PVHINT_PAGE_SIZE == 0,
		     "thread pages are mapped to processes");

#endif /* VMM_PVHINT_ABI_H */
