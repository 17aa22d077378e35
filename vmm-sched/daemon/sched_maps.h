/* Typed reads and writes of the scheduler's maps and globals: 0 or -errno, never logged. */
#ifndef VS_SCHED_MAPS_H
#define VS_SCHED_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "txn_outcome.h"
#include "bpf/vmm_sched_abi.h"
#include "bpf/rules/take_wait.h"

struct vs_daemon;

/* cpu_ctx of @cpu from d->enclaves. */
int vs_maps_write_cpu(struct vs_daemon *d, int cpu);
/* enclave_ctx and the agent's record of enclave @id, from d->enclaves. */
int vs_maps_write_enclave(struct vs_daemon *d, int id);
int vs_maps_set_enclave_plan(struct vs_daemon *d, int id, uint64_t core_slice_ns,
			     uint64_t pair_window_ns);
/* core_state of the core of @core_cpu, fresh: unowned, empty, serving its enclave if open. */
int vs_maps_init_core(struct vs_daemon *d, int core_cpu, bool closed);
/*
 * Runs vs_core_gate: close the core (kicking what runs there; *empty says
 * whether nothing of a VM is left on it) or open it for its cpu_ctx enclave.
 */
int vs_maps_core_gate(struct vs_daemon *d, int core_cpu, bool open, bool *empty);
int vs_maps_lookup_vcpu(struct vs_daemon *d, int tid, struct vs_vcpu_id *out);
int vs_maps_map_vcpu(struct vs_daemon *d, int tid, int vm_id, int vcpu_index, int slot);
void vs_maps_unmap_vcpu(struct vs_daemon *d, int tid);
int vs_maps_set_vm_active(struct vs_daemon *d, int vm_id, bool active);
/* Writes vm_ctx[vm_id] if it differs from what was written last. */
int vs_maps_write_vm_ctx(struct vs_daemon *d, int vm_id, const struct vs_vm_ctx *v);
void vs_maps_set_plan(struct vs_daemon *d, uint64_t core_slice_ns, uint64_t pair_window_ns,
		      bool caps_in_use, bool reserves_in_use);
/* vcpu_hints[slot] = @flags (VS_HINT_*). */
int vs_maps_write_hint(struct vs_daemon *d, int slot, uint32_t flags);
/* The slice extension and its budget (--cs-extension-us, --cs-budget-pct). */
void vs_maps_set_hint_policy(struct vs_daemon *d);
uint64_t vs_maps_pair_window_ns(struct vs_daemon *d);
uint64_t vs_maps_core_slice_ns(struct vs_daemon *d);
int vs_maps_read_vcpu_stats(struct vs_daemon *d, int slot, struct vs_vcpu_stats *out);
/*
 * vcpu_stats[0..nr) in one bpf() call (BPF_MAP_LOOKUP_BATCH) instead of one
 * per slot. Returns 0 or -errno (e.g. -EINVAL where the kernel cannot
 * batch-read arrays); @out is then not to be trusted.
 */
int vs_maps_read_vcpu_stats_batch(struct vs_daemon *d, struct vs_vcpu_stats *out, int nr);
int vs_maps_read_cpu_stats(struct vs_daemon *d, int cpu, struct vs_cpu_stats *out);
int vs_maps_read_vm_state(struct vs_daemon *d, int vm_id, struct vs_vm_state *out);
int vs_maps_read_core_state(struct vs_daemon *d, int core_id, struct vs_core_state *out);
uint64_t vs_maps_msg_drops(struct vs_daemon *d);
uint64_t vs_maps_stray_enqueues(struct vs_daemon *d);
bool vs_maps_kick_supported(struct vs_daemon *d);
/* "on", "off" (--no-kick) or "unsupported" (the kernel cannot link the kick). */
const char *vs_maps_kick_mode(struct vs_daemon *d);
struct vs_sched_counters {
	uint64_t self_check_overlaps, unclaimed_runs, misplaced_runs, txn_group_partial;
	uint64_t late_adoptions; /* threads already in SCHED_EXT made vCPUs when listed */
	uint64_t txn_takes;	 /* commits that took a core from another VM (TAKE_CORE) */
	uint64_t switch_overlaps, unrecorded_switches;
	uint64_t starved_grants; /* cores given to a VM none of whose vCPUs ran for 5 s */
	uint64_t pair_grants;	 /* handovers to a VM with two vCPUs to run, in a near tie */
	uint64_t sibling_waits;	 /* offers held back: the VM's last core had an open thread */
	uint64_t kicks;		 /* CPUs made to reschedule at once (scx_bpf_kick_cpu) */
	uint64_t host_starts;	 /* vCPUs that started beside a host task (strict), cut at once */
	uint64_t drains, drain_ns, drain_max_ns; /* owner changes that waited for a sibling */
	uint64_t txn_outcomes[VS_TXN_NR_OUTCOMES];
	uint64_t preempt_holds_refused;	  /* preempted vCPUs not held: their core changed owner */
	uint64_t pick_calls, pick_visits; /* VM picks in dispatch, and the VMs they visited */
	uint64_t pick_scans;		  /* picks that scanned the queued VMs, not the heaps */
	uint64_t pick_mends;		  /* heap entries the picks removed or re-keyed */
	uint64_t vm_bit_repairs;  /* queued VMs the bitmap had lost, found by the safety net */
	uint64_t vm_heap_repairs; /* queued VMs missing from their enclave's heaps, found by it */
	/* core takes from the commit to the vCPU running there, by decade of us (<10 us ..) */
	uint64_t take_waits, take_wait_ns, take_wait_max_ns, take_wait_hist[VS_TAKE_WAIT_BUCKETS];
};
void vs_maps_read_counters(struct vs_daemon *d, struct vs_sched_counters *out);

#endif
