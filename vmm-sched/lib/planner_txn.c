/* From a plan to transactions and back (see planner_txn.h). */
#include "planner_txn.h"

#include <string.h>

static bool latched(const struct planner_core *core, const struct planner_state *st, unsigned int t,
		    const struct planner_vcpu *c)
{
	const struct planner_cpu_state *cs = &st->cpu[core->cpu[t]];

	return core->running_tid[t] == c->tid || (cs->tid == c->tid && cs->seqnum == c->seqnum);
}

unsigned int planner_txn_build(const struct planner_view *v, const struct planner_state *st,
			       const struct planner_plan *plan, struct planner_txn *out,
			       struct planner_txn_counts *counts)
{
	unsigned int i, t, n = 0;

	memset(counts, 0, sizeof(*counts));
	for (i = 0; i < plan->nr_cores; i++) {
		const struct planner_core_plan *cp = &plan->cores[i];
		const struct planner_core *core = &v->cores[i];
		unsigned int first = n;

		if (cp->owner == PLANNER_NONE)
			continue;
		for (t = 0; t < v->threads_per_core; t++) {
			const struct planner_vcpu *c;

			if (cp->vcpu[t] == PLANNER_NONE)
				continue;
			c = &v->vcpus[cp->vcpu[t]];
			if (latched(core, st, t, c)) {
				counts->latched++;
				continue;
			}
			out[n++] = (struct planner_txn){
			    .cpu = core->cpu[t],
			    .tid = c->tid,
			    .seqnum = c->seqnum,
			    .core = i,
			    .vcpu = (uint32_t)cp->vcpu[t],
			    .vm_id = (uint32_t)cp->owner,
			    .outcome = VS_TXN_NONE,
			};
		}
		if (n - first == PLANNER_THREADS)
			out[first].flags = out[first + 1].flags = VS_TXN_F_GROUP;
	}
	counts->built = n;
	return n;
}

static void refuse_core(const struct planner_view *v, struct planner_state *st,
			const struct planner_txn *x, struct planner_txn_counts *counts)
{
	const struct planner_core *c = &v->cores[x->core];
	struct planner_vm_state *vs = &st->vm[x->vm_id];
	unsigned int t;

	if (st->cpu[c->cpu[0]].refused_epoch == st->epoch + 1)
		return; /* its partner's refusal said so already */
	for (t = 0; t < v->threads_per_core; t++)
		st->cpu[c->cpu[t]].refused_epoch = st->epoch + 1;
	if (vs->granted_cores)
		vs->granted_cores--; /* not delivered: the deficit keeps what it is owed */
	counts->cores_refused++;
}

void planner_txn_apply(const struct planner_view *v, struct planner_state *st,
		       const struct planner_txn *txns, unsigned int n,
		       struct planner_txn_counts *counts)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct planner_txn *x = &txns[i];
		const struct planner_vcpu *c = &v->vcpus[x->vcpu];
		struct planner_cpu_state *cs = &st->cpu[x->cpu];

		counts->outcomes[x->outcome < VS_TXN_NR_OUTCOMES ? x->outcome : VS_TXN_NONE]++;
		cs->tid = 0;
		switch (x->outcome) {
		case VS_TXN_COMPLETE:
			cs->tid = x->tid;
			cs->seqnum = x->seqnum;
			st->vcpu[c->slot].latched_cpu1 = (uint32_t)x->cpu + 1;
			st->vcpu[c->slot].latched_seq = x->seqnum;
			break;
		case VS_TXN_NOT_RUNNABLE:
		case VS_TXN_UNKNOWN_VCPU:
			st->vcpu[c->slot].refused_epoch = st->epoch + 1;
			counts->vcpus_refused++;
			break;
		case VS_TXN_WRONG_VM:
		case VS_TXN_HOST_BUSY:
		case VS_TXN_NOT_IN_ENCLAVE:
		case VS_TXN_BAD_SLOT:
			refuse_core(v, st, x, counts);
			break;
		default: /* none, stale, group_failed */
			break;
		}
	}
}
