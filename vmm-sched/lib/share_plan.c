/* The agent's periodic share plan (see share_plan.h). */
#include "share_plan.h"

#include <stdio.h>
#include <string.h>

#include "share.h"

int share_plan_compute(const struct share_plan_vm *vms, const struct share_plan_params *pp,
		       struct share_plan *plan, char *err, size_t errlen)
{
	struct share_vm_in in[VS_MAX_VMS];
	struct share_vm_out out[VS_MAX_VMS];
	int id_of[VS_MAX_VMS], n = 0, i;
	struct share_result res;
	char why[256];

	for (i = 0; i < VS_MAX_VMS; i++) {
		if (!vms[i].used)
			continue;
		in[n] = (struct share_vm_in){
		    .weight = vms[i].weight,
		    .reserve_cores = vms[i].reserve_cores,
		    .cap_cores = vms[i].cap_cores,
		    .demand_mcores =
			share_demand_cores(vms[i].active_vcpus, pp->threads_per_core) * 1000,
		};
		id_of[n++] = i;
	}
	/* Checked here to name the VM id: share_compute counts VMs densely. */
	for (i = 0; i < n; i++) {
		if (share_check_vm(&in[i], why, sizeof(why))) {
			snprintf(err, errlen, "VM id %d: %s", id_of[i], why);
			return -1;
		}
	}
	if (share_compute(in, out, n, pp->nr_cores, &res, err, errlen))
		return -1;
	memset(plan, 0, sizeof(*plan));
	for (i = 0; i < n; i++) {
		unsigned int w = out[i].effective_weight / 10;

		plan->share_mcores[id_of[i]] = out[i].share_mcores;
		plan->bpf_weight[id_of[i]] = w ? w : 1;
		plan->nr_demanding += in[i].demand_mcores > 0;
	}
	plan->reservations_overcommitted = res.reservations_overcommitted;
	plan->core_slice_ns =
	    share_core_slice_ns(plan->nr_demanding, pp->nr_cores, pp->target_latency_ns,
				pp->min_slice_ns, pp->max_slice_ns);
	if (pp->threads_per_core < 2)
		plan->pair_window_ns = 0; /* no sibling for a second vCPU */
	else if (pp->pair_window_ns == SHARE_PAIR_WINDOW_AUTO)
		plan->pair_window_ns = plan->core_slice_ns;
	else
		plan->pair_window_ns = pp->pair_window_ns > 0 ? (uint64_t)pp->pair_window_ns : 0;
	return 0;
}
