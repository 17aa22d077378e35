/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where ops.enqueue looks for an idle thread for a runnable vCPU, in order:
 * its previous CPU if on its VM's home node, then on the home node pass 0 the
 * cores the VM owns and pass 1 wholly free cores; then off the node its
 * previous CPU, pass 2 owned cores and pass 3 free cores. A VM at its cap
 * takes no free core. The vCPU goes to its VM's queue if none fits.
 */
#ifndef VS_RULES_ENQUEUE_H
#define VS_RULES_ENQUEUE_H

#include "core.h"

#define VS_ENQUEUE_PASSES 4

struct vs_enqueue_pass {
	bool open; /* the pass is searched at all */
	bool home; /* it looks at CPUs on the VM's home node */
	bool take; /* it looks for free cores to take, not owned ones */
	bool prev; /* the previous CPU is tried before it (when off the home node) */
};

/* Pass @pass of the search for a VM that @may_take_core, whose previous CPU is @prev_home. */
VS_RULE struct vs_enqueue_pass vs_enqueue_pass(__u32 pass, bool may_take_core, bool prev_home)
{
	struct vs_enqueue_pass p = {.home = pass < 2, .take = pass & 1};

	p.open = !p.take || may_take_core;
	p.prev = pass == 2 && !prev_home;
	return p;
}

/*
 * Does thread @th of core @c fit a vCPU of @vm (of @enclave) in a pass that
 * @take's free cores? A hint read without the lock: reserve_cpu_for decides.
 */
VS_RULE bool vs_enqueue_fits(const struct vs_core_view *c, __u32 th, __s32 vm, __u32 enclave,
			     bool take)
{
	if (!vs_view_open_to(c, enclave) || !vs_view_thread_empty(c, th))
		return false;
	if (take)
		return vs_view_thread_empty(c, th ^ 1);
	return c->owner == vm && !c->draining;
}

#endif /* VS_RULES_ENQUEUE_H */
