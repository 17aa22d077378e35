/*
 * The agent's periodic share plan: from each enrolled VM's settings (weight,
 * reservation, cap) and its demand in the last interval, the weight and cap
 * the BPF fast path applies to each VM and the core slice it hands cores
 * over with. Pure: share.c does the arithmetic, this maps the agent's sparse
 * VM ids onto it and picks the slice.
 */
#ifndef VS_SHARE_PLAN_H
#define VS_SHARE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/vmm_sched_abi.h"

struct share_plan_vm {
	bool used;
	unsigned int weight;	    /* VS_MIN_WEIGHT..VS_MAX_WEIGHT */
	unsigned int reserve_cores; /* 0: none */
	unsigned int cap_cores;	    /* 0: none */
	unsigned int active_vcpus;  /* vCPUs that ran, waited or were runnable in the interval */
};

struct share_plan_params {
	unsigned int nr_cores;	       /* enclave cores */
	unsigned int threads_per_core; /* 1 or 2 */
	uint64_t target_latency_ns;    /* each demanding VM gets a turn within about this */
	uint64_t min_slice_ns;
	uint64_t max_slice_ns;
	/*
	 * How far (in vtime) a VM with two vCPUs to run may trail the VM owed
	 * most and still get a core first (bpf/rules/owed_pick.h);
	 * SHARE_PAIR_WINDOW_AUTO: one core slice.
	 */
	int64_t pair_window_ns;
};
#define SHARE_PAIR_WINDOW_AUTO (-1)

struct share_plan {
	unsigned int share_mcores[VS_MAX_VMS];
	/*
	 * For vm_ctx.weight: the share in hundredths of a core (at least 1), so
	 * a VM's vtime (ns * VS_WEIGHT_SCALE / weight) grows at wall-clock pace
	 * per entitled core, whatever the number of VMs.
	 */
	unsigned int bpf_weight[VS_MAX_VMS];
	unsigned int nr_demanding; /* VMs with demand */
	uint64_t core_slice_ns;
	uint64_t pair_window_ns; /* 0 on cores without SMT: vtime alone decides */
	bool reservations_overcommitted;
};

/*
 * Plan for @vms (indexed by VM id, VS_MAX_VMS entries). Returns 0, or -1 with
 * a message naming the VM id and the bad setting; @plan is then untouched.
 */
int share_plan_compute(const struct share_plan_vm *vms, const struct share_plan_params *pp,
		       struct share_plan *plan, char *err, size_t errlen);

#endif
