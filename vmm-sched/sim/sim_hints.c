/*
 * Guest hints in the simulator: critical-section slice extensions as
 * bpf/sched/tick.bpf.h grants them, on the pure rules of bpf/rules/hints.h
 * (the same budget window, the same once-per-run extension, ended by a timer
 * after cs_ext_ns or by the first tick or stop after it began). What a VM
 * publishes is its kind's `hints` (sim_workload.h). Idle hints and directed
 * yields are not modelled.
 */
#include "bpf/rules/hints.h"
#include "sim.h"

uint32_t sim_hint_of(const struct sim *s, const struct sim_vcpu *v)
{
	const struct sim_vm *vm = &s->vms[v->vm];

	switch (vm->kind->hints) {
	case SIM_HINTS_CS:
		/* The lock model's holder is vCPU 0; its lock stays held while it is off a CPU. */
		return vm->kind->model == SIM_LOCK && v->idx == 0 && vm->locked ? VS_HINT_CS : 0;
	case SIM_HINTS_ALWAYS:
		return VS_HINT_CS;
	default:
		return 0;
	}
}

void sim_hint_charge_run(struct sim *s, struct sim_vcpu *v, uint64_t ran)
{
	struct sim_vm *vm = &s->vms[v->vm];

	vs_hint_window_roll(&vm->hint, s->now);
	vm->hint.hint_win_run_ns += ran;
}

bool sim_hint_extend(struct sim *s, struct sim_vcpu *v, enum vs_cut cut)
{
	struct sim_vm *vm = &s->vms[v->vm];

	if (cut == VS_CUT_PAIRING)
		return false;
	vs_hint_window_roll(&vm->hint, s->now);
	if (!vs_hint_may_extend(sim_hint_of(s, v), cut, v->ext_done, s->p.cs_ext_ns,
				vm->hint.hint_win_ext_ns, vm->hint.hint_win_run_ns,
				vm->hint.hint_prev_run_ns, s->p.cs_budget_pct))
		return false;
	v->ext_at = s->now;
	v->ext_done = true;
	v->slice_end = s->now + s->p.cs_ext_ns;
	vm->m.cs_extensions++;
	/* BPF's ext_timer: it kicks the CPU if the extended vCPU still runs there. */
	sim_eventq_post(&s->q, s->now + s->p.cs_ext_ns, SIM_EV_EXT_END, (uint32_t)(v - s->vcpus),
			v->gen);
	return true;
}

void sim_hint_end_extension(struct sim *s, struct sim_vcpu *v)
{
	struct sim_vm *vm = &s->vms[v->vm];
	uint64_t ext = s->now > v->ext_at ? s->now - v->ext_at : 0;

	if (!v->ext_at)
		return;
	v->ext_at = 0;
	vm->hint.hint_win_ext_ns += ext;
	vm->m.cs_extended_ns += ext;
}
