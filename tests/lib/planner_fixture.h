/*
 * Hand-built enclaves for the planner's tests: a fixture owns the view's
 * arrays, the state's memory and the plan, so a test only fills in cores,
 * VMs and vCPUs and calls fx_plan().
 */
#ifndef VS_TESTS_PLANNER_FIXTURE_H
#define VS_TESTS_PLANNER_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "planner.h"

#define FX_CORES 64
#define FX_VMS	 32
#define FX_VCPUS 256
#define FX_IDS	 64
#define FX_EPOCH 10000000ULL /* 10 ms */

struct fixture {
	struct planner_core cores[FX_CORES];
	struct planner_vm vms[FX_VMS];
	struct planner_vcpu vcpus[FX_VCPUS];
	struct planner_view view;
	struct planner_state st;
	struct planner_core_plan core_plans[FX_CORES];
	struct planner_plan plan;
	uint64_t mem[65536];
};

/* @nr_cores SMT cores (CPUs 2i and 2i+1) on node 0, no owner, no VM yet. */
static inline void fx_init(struct fixture *f, unsigned int nr_cores)
{
	struct planner_limits lim = {
	    .max_cores = FX_CORES,
	    .max_vms = FX_VMS,
	    .max_vcpus = FX_VCPUS,
	    .max_vm_id = FX_IDS,
	    .max_slots = FX_IDS * 8, /* fx_vm() numbers slots id * 8 + k */
	    .max_cpu = 2 * FX_CORES,
	};
	char err[128];
	unsigned int i;

	memset(f, 0, sizeof(*f));
	if (planner_state_init(&f->st, &lim, f->mem, sizeof(f->mem), err, sizeof(err)))
		__builtin_trap(); /* the fixture's memory is sized for its limits */
	for (i = 0; i < nr_cores; i++)
		f->cores[i] = (struct planner_core){
		    .cpu = {2 * (int)i, 2 * (int)i + 1}, .node = 0, .owner = PLANNER_NONE};
	f->view = (struct planner_view){
	    .cores = f->cores,
	    .nr_cores = nr_cores,
	    .vms = f->vms,
	    .vcpus = f->vcpus,
	    .threads_per_core = 2,
	    .epoch_ns = FX_EPOCH,
	    .elapsed_ns = FX_EPOCH,
	};
	f->plan.cores = f->core_plans;
}

/* Add VM @id with @share_mcores and @nr runnable vCPUs (slots and tids from @id). */
static inline struct planner_vm *fx_vm(struct fixture *f, uint32_t id, unsigned int share_mcores,
				       unsigned int nr)
{
	struct planner_vm *m = &f->vms[f->view.nr_vms++];
	unsigned int k;

	*m = (struct planner_vm){.id = id,
				 .share_mcores = share_mcores,
				 .home_node = -1,
				 .first_vcpu = f->view.nr_vcpus,
				 .nr_vcpus = nr};
	for (k = 0; k < nr; k++)
		f->vcpus[f->view.nr_vcpus++] = (struct planner_vcpu){
		    .slot = id * 8 + k, .tid = 1000 + id * 8 + k, .seqnum = 1, .last_cpu = -1};
	return m;
}

/* The VM id on @cpu's core in the plan, PLANNER_NONE if none. */
static inline int fx_owner(const struct fixture *f, unsigned int core)
{
	return f->plan.cores[core].owner;
}

/* The slot of the vCPU on thread @t of @core in the plan, -1 if none. */
static inline int fx_slot(const struct fixture *f, unsigned int core, unsigned int t)
{
	int i = f->plan.cores[core].vcpu[t];

	return i == PLANNER_NONE ? -1 : (int)f->view.vcpus[i].slot;
}

/* Check the view and plan one epoch; 0 or -1 if the view was refused. */
static inline int fx_plan(struct fixture *f)
{
	char err[256];

	if (planner_check_view(&f->view, &f->st, err, sizeof(err)))
		return -1;
	planner_plan_epoch(&f->view, &f->st, &f->plan);
	return 0;
}

/* Make the plan the view's current state: owners and running vCPUs. */
static inline void fx_adopt(struct fixture *f)
{
	unsigned int i, t;

	for (i = 0; i < f->view.nr_cores; i++) {
		f->cores[i].owner = f->plan.cores[i].owner;
		for (t = 0; t < f->view.threads_per_core; t++) {
			int k = f->plan.cores[i].vcpu[t];

			f->cores[i].running_tid[t] = k == PLANNER_NONE ? 0 : f->vcpus[k].tid;
			if (k != PLANNER_NONE)
				f->vcpus[k].last_cpu = f->cores[i].cpu[t];
		}
	}
}

#endif
