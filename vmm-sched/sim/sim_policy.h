/*
 * A scheduling policy in the simulator: the hooks the simulated kernel calls,
 * mirroring sched_ext's ops. "bpf" runs the BPF scheduler's rules
 * (sim_policy_bpf.c); a planner (the agent placing vCPUs itself) plugs in
 * here as another set of hooks, and may use plan() to commit its decisions.
 *
 * The simulated kernel guarantees: hooks run one at a time (a sequential
 * world: no claims are needed, a start is atomic), the policy only changes
 * the world through sim.h's actions, and the simulator counts every start
 * that breaks pairing.
 */
#ifndef VS_SIM_POLICY_H
#define VS_SIM_POLICY_H

#include <stdbool.h>
#include <stdio.h>

#include "sim.h"

/* What a CPU's dispatch decided. */
enum sim_decision {
	SIM_IDLE,      /* run nothing (prev, if runnable, goes back through enqueue) */
	SIM_KEEP_PREV, /* prev runs on with a new slice */
	SIM_RUN,       /* run *next (queued, of the core's owner) */
};

struct sim_policy_ops {
	const char *name;
	/* Allocate policy_data; 0 or -1. */
	int (*init)(struct sim *s);
	void (*free)(struct sim *s);
	/*
	 * ops.enqueue: @v became runnable (woke, or was preempted: @last when its
	 * CPU is going idle, SCX_ENQ_LAST). Starts it on an idle CPU or queues it.
	 */
	void (*enqueue)(struct sim *s, struct sim_vcpu *v, bool last);
	/*
	 * ops.dispatch: @cpu needs something to run; @prev is the vCPU still on
	 * it and runnable (its slice ended or it was kicked), or NULL.
	 */
	enum sim_decision (*dispatch)(struct sim *s, uint32_t cpu, struct sim_vcpu *prev,
				      struct sim_vcpu **next);
	/* ops.tick on a CPU running a vCPU: true to end its slice now. */
	bool (*tick)(struct sim *s, uint32_t cpu);
	/* The sweep timer fired. */
	void (*sweep)(struct sim *s);
	/* The agent's round (every plan_ns), after the share plan set weights. */
	void (*plan)(struct sim *s);
	/* SIM_EV_AGENT fired with @arg (a policy posts its own; NULL: none). */
	void (*agent)(struct sim *s, uint32_t arg);
	/* Extra fields for the summary line (" key=value..."), or NULL. */
	void (*report)(const struct sim *s, FILE *f);
};

extern const struct sim_policy_ops sim_policy_bpf;
extern const struct sim_policy_ops sim_policy_agent; /* sim_policy_agent.c */
extern const struct sim_policy_ops sim_policy_batch; /* sim_policy_batch.c */

/* The "bpf" policy's hooks, which the agent policy falls back to. */
void sim_bpf_enqueue(struct sim *s, struct sim_vcpu *v, bool last);
enum sim_decision sim_bpf_dispatch(struct sim *s, uint32_t cpu, struct sim_vcpu *prev,
				   struct sim_vcpu **next);
bool sim_bpf_tick(struct sim *s, uint32_t cpu);
void sim_bpf_sweep(struct sim *s);

/* The policy called @name, or NULL. */
const struct sim_policy_ops *sim_policy_by_name(const char *name);

#endif
