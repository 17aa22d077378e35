/*
 * Reading a guest's hint region (guest-agent/include/vmm_pvhint_abi.h,
 * docs/guest-abi.md): copy each part once under its seqcount, validate the
 * copy, keep the little history the checks need. No system calls: the agent
 * hands in the mapping and the time, so it is unit-tested and fuzzed alone.
 */
#ifndef VS_PVHINT_REGION_H
#define VS_PVHINT_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_pvhint_abi.h"

enum pvhint_fault {
	PVHINT_OK,
	PVHINT_NO_GUEST, /* magic 0: nothing published, not an error */
	PVHINT_DISABLED, /* an earlier fault holds: hints stay off */
	PVHINT_BAD_SIZE,
	PVHINT_BAD_MAGIC,
	PVHINT_BAD_VERSION,
	PVHINT_BAD_VCPU_COUNT,
	PVHINT_BAD_THREAD_COUNT,
	PVHINT_BAD_BOOT_ID,
	PVHINT_BAD_FLAGS,
	PVHINT_BAD_CS_DEPTH,
	PVHINT_BAD_THREAD_INDEX,
	PVHINT_BAD_TIME,       /* a since-when after the slot's own now_ns */
	PVHINT_HEARTBEAT_BACK, /* heartbeat or now_ns went back within one boot */
	PVHINT_SEQ_STUCK,      /* torn reads for too many ticks in a row */
	PVHINT_NR_FAULTS,
};

/* The host's limits on a guest; PVHINT_LIMITS_DEFAULT is what the agent uses. */
struct pvhint_limits {
	uint32_t read_retries; /* seqcount retries per slot and tick */
	uint32_t torn_limit;   /* torn ticks in a row before PVHINT_SEQ_STUCK */
	uint32_t idle_rate;    /* idle transitions per second per vCPU ... */
	uint32_t idle_burst;   /* ... with this burst; above it the idle hint is unused */
	uint64_t flap_calm_ns; /* ... until the rate has stayed within the limit this long */
	uint64_t stale_ns;     /* heartbeat unchanged this long: the slot's hints are unused */
	uint64_t reenable_ns;  /* a disabled VM stays off at least this long, even across boots */
};
#define PVHINT_LIMITS_DEFAULT                                                                      \
	((struct pvhint_limits){.read_retries = 4,                                                 \
				.torn_limit = 100,                                                 \
				.idle_rate = 2000,                                                 \
				.idle_burst = 200,                                                 \
				.flap_calm_ns = 1000000000ull,                                     \
				.stale_ns = 1000000000ull,                                         \
				.reenable_ns = 10000000000ull})

/* What the host knows of one vCPU slot between ticks. */
struct pvhint_slot_hist {
	bool seen;
	uint64_t heartbeat;
	uint64_t now_ns;
	uint64_t heartbeat_changed_host_ns;
	uint32_t idle_transitions;
	uint64_t idle_tokens; /* rate limit credit, in transitions x 1e9 */
	uint64_t tokens_host_ns;
	uint32_t torn_ticks;
	bool idle;
	bool flapping;		/* idle changes outran the rate limit: its idle hint is unused */
	uint64_t calm_since_ns; /* flapping, but within the limit since then (host time; 0: not) */
};

/* One VM's reader state. Zero it (or pvhint_vm_reset) at enrolment. */
struct pvhint_vm {
	bool have_boot;
	uint64_t boot_id;
	bool disabled;
	enum pvhint_fault fault; /* why it is disabled */
	uint32_t fault_vcpu;	 /* the slot that was wrong, or UINT32_MAX for the header */
	uint64_t disabled_host_ns;
	uint64_t disables;   /* times hints were turned off */
	uint64_t torn_reads; /* slot reads given up as torn */
	uint64_t idle_flaps; /* times a vCPU's idle changes outran the rate limit */
	uint64_t scans;
	struct pvhint_slot_hist hist[PVHINT_MAX_VCPUS];
};

/* One vCPU's validated hint: all false/0 when !valid. */
struct pvhint_hint {
	bool valid;
	bool idle;
	bool preempt_sen;
	uint32_t cs_depth; /* kernel-level plus the running thread's */
};

const char *pvhint_fault_str(enum pvhint_fault f);
void pvhint_vm_reset(struct pvhint_vm *vm);

/* Checks a header copy against the host's vCPU count (0: not known yet). */
enum pvhint_fault pvhint_check_header(const struct pvhint_header *h, uint32_t host_nr_vcpus);

/*
 * Copies the vCPU slot at @src under its seqcount, at most 1 + @retries tries.
 * false: torn every time (odd or changing seq).
 */
bool pvhint_copy_vcpu_slot(const void *src, struct pvhint_vcpu_slot *dst, uint32_t retries);

/*
 * Checks a vCPU slot copy (header @h already checked) and updates @hist.
 * @thread_depth is the depth of the thread slot it names (read by the caller
 * once, 0 if none or not in use). PVHINT_OK with *out filled, or a fault.
 */
enum pvhint_fault pvhint_check_slot(const struct pvhint_vcpu_slot *s, const struct pvhint_header *h,
				    uint32_t thread_depth, struct pvhint_slot_hist *hist,
				    uint64_t host_now_ns, const struct pvhint_limits *lim,
				    struct pvhint_hint *out);

/*
 * One tick over the region @region of @len bytes (at least its guest part,
 * PVHINT_H2G_OFF): fills hints[0..n) with
 * n = min(nr_vcpus, @max_hints) and returns PVHINT_OK; or returns
 * PVHINT_NO_GUEST / PVHINT_DISABLED / the fault that just disabled the VM,
 * with every hint invalid. A new fault sets vm->disabled and counts it.
 */
enum pvhint_fault pvhint_scan(struct pvhint_vm *vm, const void *region, size_t len,
			      uint32_t host_nr_vcpus, uint64_t host_now_ns,
			      const struct pvhint_limits *lim, struct pvhint_hint *hints,
			      uint32_t max_hints);

#endif
