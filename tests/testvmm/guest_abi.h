/*
 * What the test VMM and its guest payload agree on: the guest-physical memory
 * layout, the per-vCPU slots they share, and the I/O port the guest reports
 * failures on. Included by VMM C, guest C and (with __ASSEMBLER__) the guest
 * linker script, so only plain numbers above the C part.
 */
#ifndef TESTVMM_GUEST_ABI_H
#define TESTVMM_GUEST_ABI_H

#define GUEST_MAX_VCPUS 64

/* Guest-physical layout; the guest runs identity-mapped, so these are also its addresses. */
#define GUEST_GDT_GPA	  0x1000
#define GUEST_PML4_GPA	  0x2000
#define GUEST_PDPT_GPA	  0x3000
#define GUEST_PD_LOW_GPA  0x4000 /* 2 MiB pages for the first GiB */
#define GUEST_PD_HIGH_GPA 0x5000 /* the 2 MiB page holding the LAPIC, in the 4th GiB */
#define GUEST_SHARED_GPA  0x10000
#define GUEST_SHARED_SIZE 0x10000
#define GUEST_IMAGE_GPA	  0x100000 /* payload code, data and bss; also its entry point */
#define GUEST_IMAGE_LIMIT 0x200000
#define GUEST_STACKS_GPA  0x200000
#define GUEST_STACK_SIZE  0x4000
#define GUEST_HIST_GPA	  0x300000 /* a struct wake_hist page per vCPU (wake_hist.h) */
#define GUEST_HIST_SIZE	  0x1000
#define GUEST_MEM_SIZE	  0x400000
/* --hints-mode guest: the hint file, a second memory slot the payload writes (1 MiB). */
#define GUEST_HINTS_GPA	 0x400000
#define GUEST_HINTS_SIZE 0x100000
#define GUEST_LAPIC_GPA	 0xFEE00000

/* GDT selectors the VMM installs. */
#define GUEST_CODE_SELECTOR 0x08
#define GUEST_DATA_SELECTOR 0x10

/* The guest writes a fault kind here after filling the fault_* fields of its slot. */
#define GUEST_PORT_PANIC 0xE0

#ifndef __ASSEMBLER__
#include <stdint.h>

enum guest_payload {
	PAYLOAD_BUSY = 1,
	PAYLOAD_DUTY = 2,
	PAYLOAD_LOCK = 3,
	PAYLOAD_YIELD = 4,
};

enum guest_fault_kind {
	FAULT_EXCEPTION = 1,   /* fault_vector, fault_rip, fault_error are valid */
	FAULT_BAD_PAYLOAD = 2, /* config.payload is unknown */
	FAULT_APIC_TIMER = 3,  /* the LAPIC timer did not count during calibration */
	FAULT_NO_TSC_KHZ = 4,  /* config.tsc_khz is 0 */
};

/* vcpu_slot.state bits: halted waiting for its timer (duty); holding the lock (lock). */
#define GUEST_STATE_IDLE    1u
#define GUEST_STATE_IN_LOCK 2u

/* Written by the VMM before the first KVM_RUN; read-only for the guest. */
struct guest_config {
	uint32_t payload;  /* enum guest_payload */
	uint32_t nr_vcpus; /* of the VM (yield) */
	uint64_t run_us;
	uint64_t block_us;
	uint64_t hold_us;
	uint64_t tsc_khz;
	/* --hints-mode guest: the payload publishes its hints at GUEST_HINTS_GPA. */
	uint64_t hints_in_guest;
};

/*
 * One per vCPU. The guest is the only writer of the counters; the VMM reads
 * them at any time (aligned 64-bit stores are atomic on x86). The counters sit
 * in the first cache line, away from other vCPUs' slots.
 */
struct vcpu_slot {
	uint64_t units;	       /* work units done */
	uint64_t halts;	       /* HLTs executed (duty) */
	uint64_t spin_cycles;  /* TSC cycles spent acquiring the lock (lock) */
	uint64_t acquisitions; /* lock acquisitions (lock) */
	uint64_t timer_irqs;   /* LAPIC timer interrupts taken (duty) */
	uint64_t apic_khz;     /* calibrated LAPIC timer ticks per ms at divide-by-1 (duty) */
	uint64_t work_sink;    /* keeps the work units' result alive */
	uint64_t yields;       /* KVM_HC_SCHED_YIELD hypercalls made (yield) */

	struct guest_config config;
	uint64_t fault_vector;
	uint64_t fault_rip;
	uint64_t fault_error;
	/* What the payload is doing now (GUEST_STATE_*), for --hints-mode payload. */
	uint64_t state;
} __attribute__((aligned(64)));

struct guest_shared {
	uint32_t lock __attribute__((aligned(64))); /* the spinlock of the lock payload */
	struct vcpu_slot slots[GUEST_MAX_VCPUS];
};

_Static_assert(sizeof(struct guest_shared) <= GUEST_SHARED_SIZE, "shared area too small");
_Static_assert(GUEST_STACKS_GPA + GUEST_MAX_VCPUS * GUEST_STACK_SIZE <= GUEST_HIST_GPA,
	       "stacks run into the histograms");
_Static_assert(GUEST_HIST_GPA + GUEST_MAX_VCPUS * GUEST_HIST_SIZE <= GUEST_MEM_SIZE,
	       "histograms do not fit in guest memory");
#endif

#endif
