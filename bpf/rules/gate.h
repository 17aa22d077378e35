/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Closing a core to move it between enclaves (vs_core_gate): the core is
 * empty once no thread runs, leaves or is committed a vCPU; until then the
 * threads that still have one are kicked. Decided on the view under the lock.
 */
#ifndef VS_RULES_GATE_H
#define VS_RULES_GATE_H

#include "core.h"

struct vs_gate_close {
	bool empty;			/* the agent may now move the core */
	bool kick[VS_THREADS_PER_CORE]; /* that thread runs or awaits a vCPU */
};

VS_RULE struct vs_gate_close vs_gate_close(const struct vs_core_view *c)
{
	struct vs_gate_close g;

	g.empty = c->running_vm[0] == VS_VM_NONE && c->running_vm[1] == VS_VM_NONE &&
		  c->leaving_vm[0] == VS_VM_NONE && c->leaving_vm[1] == VS_VM_NONE &&
		  !c->claims[0] && !c->claims[1];
	g.kick[0] = c->running_vm[0] != VS_VM_NONE || c->claims[0];
	g.kick[1] = c->running_vm[1] != VS_VM_NONE || c->claims[1];
	return g;
}

#endif /* VS_RULES_GATE_H */
