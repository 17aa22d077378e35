/*
 * The share plan, redone every VS_SHARE_TICK_MS: each VM's demand is the
 * number of its vCPUs that ran or woke in the last interval (or are runnable
 * now), the plan (lib/share_plan.c) turns demand and settings into the
 * weights, caps and core slice the BPF fast path applies.
 */
#include <string.h>

#include "daemon.h"

/* One past the highest enrolled vCPU slot. */
static int vcpu_slots_in_use(const struct vs_registry *reg)
{
	int slot, n = 0;

	registry_for_each_vcpu(slot, reg) n = slot + 1;
	return n;
}

/*
 * Every enrolled vCPU's counters into d->share.vcpu_stats in one bpf() call,
 * not one per vCPU (about 1 us each). False if they must be read one by one.
 */
static bool read_vcpu_stats_batch(struct vs_daemon *d)
{
	int err;

	if (d->share.unbatched)
		return false;
	err = bpf_sched_read_vcpu_stats_batch(d, d->share.vcpu_stats, vcpu_slots_in_use(&d->reg));
	if (!err)
		return true;
	vs_warn("cannot read the vCPU counters in one batch (%s): reading them one by one, "
		"one bpf() call per vCPU each plan",
		strerror(-err));
	d->share.unbatched = true;
	return false;
}

/* Did the vCPU in @slot want a CPU since the last plan? */
static bool vcpu_active(struct vs_daemon *d, int slot, bool batched)
{
	enum vs_vcpu_state state = d->vcpu_track[slot].state;
	struct vs_vcpu_stats one;
	const struct vs_vcpu_stats *st = &d->share.vcpu_stats[slot];
	uint64_t activity;
	bool changed;

	if (!batched) {
		if (bpf_sched_read_vcpu_stats(d, slot, &one))
			return state == VS_VCPU_RUNNING || state == VS_VCPU_RUNNABLE;
		st = &one;
	}
	activity = st->runs + st->wakeups;
	changed = activity != d->share.activity[slot];
	d->share.activity[slot] = activity;
	return changed || state == VS_VCPU_RUNNING || state == VS_VCPU_RUNNABLE;
}

static void warn_overcommit_once(struct vs_daemon *d, const struct share_plan *p)
{
	if (p->reservations_overcommitted && !d->share.overcommit_logged)
		vs_warn("the VMs' reservations add up to more than the enclave's %d cores: only "
			"reserved VMs get cores while they all want them; lower a reservation "
			"(vmm-schedctl set PID --reserve N) or enlarge the enclave",
			d->enclave.nr_cores);
	d->share.overcommit_logged = p->reservations_overcommitted;
}

void share_tick(struct vs_daemon *d)
{
	struct share_plan_params pp = {
	    .nr_cores = (unsigned int)d->enclave.nr_cores,
	    .threads_per_core =
		(unsigned int)topology_threads_per_core(&d->topo, cpuset_next(&d->enclave.cpus, 0)),
	    .target_latency_ns = (uint64_t)d->opt.target_latency_ms * 1000000ULL,
	    .min_slice_ns = VS_CORE_SLICE_MIN_NS,
	    .max_slice_ns = VS_CORE_SLICE_MAX_NS,
	    .pair_window_ns = d->opt.pair_window_ms < 0 ? SHARE_PAIR_WINDOW_AUTO
							: (int64_t)d->opt.pair_window_ms * 1000000,
	};
	struct share_plan_vm in[VS_MAX_VMS];
	struct share_plan plan;
	bool caps = false, batched;
	char err[256];
	int vm_id, slot;

	memset(in, 0, sizeof(in));
	registry_for_each_vm(vm_id, &d->reg)
	{
		const struct vs_vm_rec *vm = &d->reg.vms[vm_id];

		in[vm_id] = (struct share_plan_vm){.used = true,
						   .weight = vm->weight,
						   .reserve_cores = vm->reserve_cores,
						   .cap_cores = vm->cap_cores};
		caps |= vm->cap_cores > 0;
	}
	batched = read_vcpu_stats_batch(d);
	registry_for_each_vcpu(slot, &d->reg)
	{
		int vm = d->reg.vcpus[slot].vm_id;

		if (vm >= 0 && vm < VS_MAX_VMS && vcpu_active(d, slot, batched))
			in[vm].active_vcpus++;
	}
	if (share_plan_compute(in, &pp, &plan, err, sizeof(err))) {
		if (!d->share.error_logged)
			vs_err("cannot plan the enclave's shares (%s): keeping the previous "
			       "weights; fix the VM's settings with vmm-schedctl set",
			       err);
		d->share.error_logged = true;
		return;
	}
	d->share.error_logged = false;
	warn_overcommit_once(d, &plan);
	registry_for_each_vm(vm_id, &d->reg)
	{
		const struct vs_vm_rec *vm = &d->reg.vms[vm_id];
		struct vs_vm_ctx v = {.flags = VS_VM_ACTIVE,
				      .weight = plan.bpf_weight[vm_id],
				      .cap_cores = vm->cap_cores,
				      .home_node = vm->numa_node};

		bpf_sched_write_vm_ctx(d, vm_id, &v);
	}
	bpf_sched_set_plan(d, plan.core_slice_ns, plan.pair_window_ns, caps);
	d->share.plan = plan;
}
