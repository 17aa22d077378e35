/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A core as the pairing rules see it, and the predicates on it that every
 * rule shares. The scheduler copies the view from core_state (under the
 * core's lock where the decision must hold), a rule decides on it, and the
 * scheduler applies the outcome; the unit tests and the simulator build views
 * of their own. Pure: plain integers, no helpers, maps or globals.
 */
#ifndef VS_RULES_CORE_H
#define VS_RULES_CORE_H

#ifndef __VMLINUX_H__
#include <stdbool.h>
#endif

#include "../vmm_sched_abi.h"

/* Small rules are inlined: the BPF verifier then checks them in their caller's context. */
#ifndef VS_RULE
#define VS_RULE static inline __attribute__((always_inline))
#endif

/* struct vs_core_state without its lock and counters. */
struct vs_core_view {
	__s32 owner;	/* VM id or VS_VM_NONE */
	__u32 draining; /* the owner must hand over */
	__u32 closed;	/* being taken out of its enclave */
	__u32 enclave;	/* the enclave it serves */
	__u32 strict;	/* strict pairing: no vCPU beside a host task */
	__u64 owner_since;
	__s32 running_vm[VS_THREADS_PER_CORE];
	__s32 leaving_vm[VS_THREADS_PER_CORE];
	__u32 claims[VS_THREADS_PER_CORE];
	__u32 host[VS_THREADS_PER_CORE];
	__s32 cpu[VS_THREADS_PER_CORE]; /* -1: no such thread */
};

/* May the core start a vCPU of a VM of @enclave? */
VS_RULE bool vs_core_open_to(__u32 closed, __u32 core_enclave, __u32 enclave)
{
	return !closed && core_enclave == enclave;
}

/* Does a host task on the sibling keep this thread from starting a vCPU? */
VS_RULE bool vs_host_blocks(__u32 strict, __u32 sib_host)
{
	return strict && sib_host;
}

/*
 * Does the sibling run a vCPU of a VM other than @vm, or still show the
 * vCPU it is switching away from?
 */
VS_RULE bool vs_sibling_runs_other(__s32 sib_running, __s32 sib_leaving, __s32 vm)
{
	return (sib_running != VS_VM_NONE && sib_running != vm) ||
	       (sib_leaving != VS_VM_NONE && sib_leaving != vm);
}

/* Nothing of a VM on a thread: no vCPU running or committed, no host task. */
VS_RULE bool vs_thread_empty(__s32 running_vm, __u32 host, __u32 claims)
{
	return running_vm == VS_VM_NONE && !host && !claims;
}

/* The same predicates on a view, for thread @th. */
VS_RULE bool vs_view_open_to(const struct vs_core_view *c, __u32 enclave)
{
	return vs_core_open_to(c->closed, c->enclave, enclave);
}

VS_RULE bool vs_view_host_blocks(const struct vs_core_view *c, __u32 th)
{
	return vs_host_blocks(c->strict, c->host[(th ^ 1) & 1]);
}

VS_RULE bool vs_view_sibling_runs_other(const struct vs_core_view *c, __u32 th, __s32 vm)
{
	return vs_sibling_runs_other(c->running_vm[(th ^ 1) & 1], c->leaving_vm[(th ^ 1) & 1], vm);
}

/*
 * May thread @th hand the core to @vm? Only if no thread runs a vCPU of
 * another VM (this thread's own excepted: it is switching away from it) and
 * nothing is committed to either thread.
 */
VS_RULE bool vs_view_handover_ok(const struct vs_core_view *c, __u32 th, __s32 vm)
{
	return !vs_view_sibling_runs_other(c, th, vm) && !c->claims[0] && !c->claims[1];
}

VS_RULE bool vs_view_thread_empty(const struct vs_core_view *c, __u32 th)
{
	return vs_thread_empty(c->running_vm[th & 1], c->host[th & 1], c->claims[th & 1]);
}

#endif /* VS_RULES_CORE_H */
