/*
 * Weighted fair share of an enclave's cores between VMs. Pure arithmetic: the
 * agent feeds each VM's weight, reservation, cap and current demand, and gets
 * each VM's entitled share in milli-cores plus the weight the BPF fast path
 * should use for it. Integers only, deterministic, no allocation.
 *
 * The rule, for an enclave of C cores (Cm = C * 1000 milli-cores):
 *
 *   want_i  = min(demand_i, cap_i * 1000, Cm)   (cap 0: no cap)
 *   floor_i = min(reserve_i * 1000, want_i)     (reserve 0: no reservation)
 *
 * 1. If the floors add up to more than Cm, the reservations are overcommitted:
 *    res->reservations_overcommitted is set, and Cm is split between the VMs
 *    by weighted water-filling with floor_i as each VM's limit (so each gets
 *    min(floor_i, weight_i * L) for the level L that uses all of Cm). VMs
 *    without a reservation get nothing until the operator fixes the config.
 * 2. Otherwise every VM gets at least floor_i, and the shares are
 *
 *      share_i = clamp(weight_i * L, floor_i, want_i)
 *
 *    for the level L at which they add up to Cm (or share_i = want_i for all
 *    if the wants add up to no more than Cm). This is weighted water-filling:
 *    capacity is poured in proportion to weight into the VMs that still want
 *    more, a VM that reaches its want (demand or cap) stops and its excess
 *    flows on to the others. A reservation is a floor, not a bonus on top of
 *    the weighted share: a VM whose weighted share is already above its
 *    reservation gets nothing extra for it.
 *
 * So the result is work-conserving: the shares add up to exactly
 * min(Cm, sum of want_i) (or Cm when overcommitted). Among VMs strictly
 * between their floor and their want, shares are proportional to weight to
 * within 1 milli-core. The fractions are rounded down and the leftover
 * milli-cores go to the largest remainders, ties to the lower VM index.
 *
 * Cost: O(n log n) in the number of VMs (a heap of levels, a quickselect of
 * remainders), no allocation.
 */
#ifndef VS_SHARE_H
#define VS_SHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/vmm_sched_abi.h"

/* The operator's weight range, for every layer that takes a weight. */
#define VS_MIN_WEIGHT	  1
#define VS_MAX_WEIGHT	  10000
#define VS_DEFAULT_WEIGHT 100

struct share_vm_in {
	unsigned int weight;	    /* VS_MIN_WEIGHT..VS_MAX_WEIGHT */
	unsigned int reserve_cores; /* 0: no reservation */
	unsigned int cap_cores;	    /* 0: no cap; else >= reserve_cores */
	unsigned int demand_mcores; /* what it could use now: share_demand_cores() * 1000 */
};

struct share_vm_out {
	unsigned int share_mcores;     /* entitled share in milli-cores */
	unsigned int effective_weight; /* for the BPF vtime rule, see share_effective_weight() */
};

struct share_result {
	bool reservations_overcommitted; /* the floors did not fit; see step 1 above */
	unsigned int total_mcores_given; /* sum of share_mcores */
	uint64_t total_want_mcores;	 /* sum of want_i: demands capped by cap and enclave */
};

/*
 * Working memory of share_compute_n(), 2 per VM: a level at which one VM's
 * share stops being flat (its floor or limit over its weight), then a VM in
 * the rounding.
 */
struct share_point {
	uint64_t key;	 /* the level, exactly ordered; when rounding, the order */
	uint32_t mcores; /* the floor or limit; when rounding, the VM index */
	uint16_t weight;
	bool limit; /* the VM's limit (it stops growing), not its floor (it starts) */
};

/*
 * Bounds of share_compute_n(): every intermediate product stays exact in 64
 * bits, a remainder in 32 and a level key is exact (milli-cores < 2^24).
 */
#define SHARE_MAX_VMS	65536
#define SHARE_MAX_CORES 16384

/*
 * Compute every VM's share. @in and @out have @nr_vms entries (0..VS_MAX_VMS);
 * @nr_cores is the enclave size (1..VS_MAX_CPUS). Returns 0, or -1 with a
 * message in @err naming the VM index and the bad field (weight out of range,
 * cap below reservation) or the bad count; @out and @res are then untouched.
 */
int share_compute(const struct share_vm_in *in, struct share_vm_out *out, int nr_vms,
		  unsigned int nr_cores, struct share_result *res, char *err, size_t errlen);

/*
 * share_compute() beyond the BPF ABI's limits (benchmarks, a simulator):
 * @nr_vms 0..SHARE_MAX_VMS, @nr_cores 1..SHARE_MAX_CORES, in @points of
 * 2 * @nr_vms entries that the caller provides.
 */
int share_compute_n(const struct share_vm_in *in, struct share_vm_out *out, int nr_vms,
		    unsigned int nr_cores, struct share_point *points, struct share_result *res,
		    char *err, size_t errlen);

/* One VM's settings are sound (weight in range, cap not below reservation); else -1 with why. */
int share_check_vm(const struct share_vm_in *vm, char *err, size_t errlen);

/*
 * The weight the BPF fast path should use for a VM. BPF charges a VM
 * ran_ns * VS_WEIGHT_SCALE / effective_weight of vtime and gives a free core to
 * the runnable VM with the lowest vtime, so VMs that stay runnable advance
 * their vtime at the same pace and receive core time in proportion to their
 * effective weights. To make that core time equal to the computed shares the
 * effective weight is the share itself, in milli-cores:
 *
 *   effective_weight = share_mcores                              if > 0
 *   effective_weight = max(1, weight * Cm / sum of all weights)  if share is 0
 *
 * The same holds for capped and reserved VMs: their share already includes the
 * cap and the floor. The second line is for VMs with no demand at the time of
 * the computation: if one wakes before the next computation it competes with
 * its plain weighted part of the enclave, neither starved nor favoured. The
 * weight does not enforce a cap when the other VMs leave cores idle (the fast
 * path is work-conserving): BPF enforces caps itself (vm_ctx.cap_cores).
 * share_compute() fills out[].effective_weight with this already.
 */
unsigned int share_effective_weight(unsigned int share_mcores, unsigned int weight,
				    unsigned int nr_cores, uint64_t sum_weights);

/*
 * Cores a VM can use now: ceil(runnable_vcpus / threads_per_core), because the
 * enclave hands out whole cores (a VM's vCPUs share a core's SMT threads).
 * threads_per_core 0 counts as 1.
 */
unsigned int share_demand_cores(unsigned int runnable_vcpus, unsigned int threads_per_core);

/*
 * How long a VM keeps a core before it must hand it over when others wait:
 * target_latency_ns * nr_cores / nr_demanding_vms, so each demanding VM gets a
 * turn on some core within about the target latency, clamped to
 * [min_ns, max_ns] (max wins if min > max). With 0 or 1 demanding VMs nobody
 * waits: max_ns. nr_cores 0 counts as 1.
 */
uint64_t share_core_slice_ns(unsigned int nr_demanding_vms, unsigned int nr_cores,
			     uint64_t target_latency_ns, uint64_t min_ns, uint64_t max_ns);

#endif
