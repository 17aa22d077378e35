/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vCPU of @vm starts on thread @th (ops.running), decided on the core's
 * view under its lock once the thread records it as running there. It takes
 * a core free of other VMs (a vCPU that got here without a claim: enrolled
 * while running, a kernel fallback); it must leave at once if it runs beside
 * another VM (pairing broken: counted), beside a host task in strict mode
 * (committed before the host task started), or on a core its VM may not use.
 */
#ifndef VS_RULES_RUNNING_H
#define VS_RULES_RUNNING_H

#include "core.h"

struct vs_running_out {
	bool take_core;	   /* hand the core to @vm first */
	bool elsewhere;	   /* the core is closed or serves another enclave */
	bool beside_host;  /* a host task runs on the sibling (strict) */
	bool bad;	   /* another VM owns the core or runs on the sibling */
	bool wake_sibling; /* the sibling is empty: it may take a vCPU of @vm */
};

VS_RULE struct vs_running_out vs_running_decide(const struct vs_core_view *c, __u32 th, __s32 vm,
						__u32 enclave)
{
	struct vs_running_out o = {0};
	__u32 sib = (th ^ 1) & 1;

	o.elsewhere = !vs_view_open_to(c, enclave);
	o.take_core = c->owner != vm && !o.elsewhere && vs_view_handover_ok(c, th, vm);
	o.beside_host = vs_view_host_blocks(c, th);
	o.bad = (c->owner != vm && !o.take_core) || vs_view_sibling_runs_other(c, th, vm);
	o.wake_sibling = vs_view_thread_empty(c, sib) && c->cpu[sib] >= 0;
	return o;
}

/* Must the vCPU leave the CPU at once? */
VS_RULE bool vs_running_cut(const struct vs_running_out *o)
{
	return o->bad || o->beside_host || o->elsewhere;
}

#endif /* VS_RULES_RUNNING_H */
