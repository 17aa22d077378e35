/*
 * The share plan of each enclave, redone every VS_SHARE_TICK_MS: each VM's demand is the
 * number of its vCPUs that ran or woke in the last interval (or are runnable
 * now), the plan (lib/share_plan.c) turns demand and settings into the
 * weights, caps and core slice the BPF fast path applies.
 */
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "sched_maps.h"
#include "share_tick.h"
#include "vcpu_track.h"

static void warn_overcommit_once(struct vs_daemon *d, int id, const struct share_plan *p)
{
	if (p->reservations_overcommitted && !d->share.overcommit_logged)
		vs_warn("the VMs' reservations add up to more than enclave '%s''s %d cores: only "
			"reserved VMs get cores while they all want them; lower a reservation "
			"(vmm-schedctl set PID --reserve N) or enlarge the enclave",
			d->enclaves.e[id].name, d->enclaves.e[id].enc.nr_cores);
}

/* The plan of enclave @id for its VMs in @all; 0, or -1 if it cannot be planned (logged). */
static int plan_enclave(struct vs_daemon *d, int id, const struct share_plan_vm *all,
			struct share_plan *plan)
{
	const struct vs_enclave *enc = &d->enclaves.e[id].enc;
	struct share_plan_params pp = {
	    .nr_cores = (unsigned int)enc->nr_cores,
	    .threads_per_core = enc->nr_cores ? (unsigned int)topology_threads_per_core(
						    &d->topo, cpuset_next(&enc->cpus, 0))
					      : 1,
	    .target_latency_ns = (uint64_t)d->opt.target_latency_ms * 1000000ULL,
	    .min_slice_ns = VS_CORE_SLICE_MIN_NS,
	    .max_slice_ns = VS_CORE_SLICE_MAX_NS,
	    .pair_window_ns = d->opt.pair_window_ms < 0 ? SHARE_PAIR_WINDOW_AUTO
							: (int64_t)d->opt.pair_window_ms * 1000000,
	};
	struct share_plan_vm in[VS_MAX_VMS];
	char err[256];
	int vm_id;

	memset(in, 0, sizeof(in));
	registry_for_each_vm(vm_id, &d->reg) if (d->reg.vms[vm_id].enclave == id) in[vm_id] =
	    all[vm_id];
	if (share_plan_compute(in, &pp, plan, err, sizeof(err))) {
		if (!d->share.error_logged)
			vs_err("cannot plan enclave '%s''s shares (%s): keeping the previous "
			       "weights; fix the VM's settings with vmm-schedctl set",
			       d->enclaves.e[id].name, err);
		return -1;
	}
	return 0;
}

void share_tick(struct vs_daemon *d)
{
	struct share_plan_vm in[VS_MAX_VMS];
	struct share_plan plan, all = {0};
	bool caps = false, reserves = false, overcommitted = false, failed = false;
	int vm_id, slot, id;

	memset(in, 0, sizeof(in));
	registry_for_each_vm(vm_id, &d->reg)
	{
		const struct vs_vm_rec *vm = &d->reg.vms[vm_id];

		in[vm_id] = (struct share_plan_vm){.used = true,
						   .weight = vm->weight,
						   .reserve_cores = vm->reserve_cores,
						   .cap_cores = vm->cap_cores};
		caps |= vm->cap_cores > 0;
		reserves |= vm->reserve_cores > 0;
	}
	/* Demand from the messages alone (vcpu_track_take_active): no map reads per vCPU. */
	registry_for_each_vcpu(slot, &d->reg)
	{
		int vm = d->reg.vcpus[slot].vm_id;

		if (vm >= 0 && vm < VS_MAX_VMS && vcpu_track_take_active(&d->vcpu_track[slot]))
			in[vm].active_vcpus++;
	}
	for (vm_id = 0; vm_id < d->reg.vm_ids; vm_id++)
		d->share.active_vcpus[vm_id] = in[vm_id].active_vcpus;
	for (id = 0; id < VS_MAX_ENCLAVES; id++) {
		if (!d->enclaves.e[id].used || !d->enclaves.e[id].enc.nr_cores)
			continue;
		if (plan_enclave(d, id, in, &plan)) {
			failed = true;
			continue;
		}
		warn_overcommit_once(d, id, &plan);
		overcommitted |= plan.reservations_overcommitted;
		registry_for_each_vm(vm_id, &d->reg)
		{
			const struct vs_vm_rec *vm = &d->reg.vms[vm_id];
			struct vs_vm_ctx v = {.flags = VS_VM_ACTIVE,
					      .weight = plan.bpf_weight[vm_id],
					      .cap_cores = vm->cap_cores,
					      .reserve_cores = vm->reserve_cores,
					      .home_node = vm->numa_node,
					      .enclave = (uint32_t)id};

			if (vm->enclave != id)
				continue;
			vs_err_if(vs_maps_write_vm_ctx(d, vm_id, &v), "cannot write vm_ctx[%d]",
				  vm_id);
			all.share_mcores[vm_id] = plan.share_mcores[vm_id];
			all.bpf_weight[vm_id] = plan.bpf_weight[vm_id];
		}
		all.nr_demanding += plan.nr_demanding;
		vs_err_if(vs_maps_set_enclave_plan(d, id, plan.core_slice_ns, plan.pair_window_ns),
			  "cannot write enclave_ctx[%d]", id);
		if (id == VS_ENCLAVE_DEFAULT) {
			all.core_slice_ns = plan.core_slice_ns;
			all.pair_window_ns = plan.pair_window_ns;
		}
	}
	d->share.error_logged = failed;
	d->share.overcommit_logged = overcommitted;
	all.reservations_overcommitted = overcommitted;
	vs_maps_set_plan(d, all.core_slice_ns, all.pair_window_ns, caps, reserves);
	d->share.plan = all;
}
