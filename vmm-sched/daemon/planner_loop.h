/*
 * --placement agent: each epoch the agent builds the planner's view of every
 * enclave (lib/planner.h) from its messages, the core_state map and the
 * share plan, plans, and commits the plan as transactions (txn.c) in one
 * run of the commit program. BPF's local rules decide wherever no commit is
 * live, so a slow or dead agent costs nothing but the plan.
 */
#ifndef VS_PLANNER_LOOP_H
#define VS_PLANNER_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/vmm_sched_abi.h"
#include "planner_backoff.h"

struct vs_daemon;

struct vs_planner_stats {
	bool take_core;	      /* the scheduler takes VS_TXN_F_TAKE_CORE (probed at start) */
	uint64_t epochs;      /* epochs planned (one per enclave with work) */
	uint64_t replans;     /* second plans of an epoch, from refusals */
	uint64_t idle_epochs; /* timer expiries with no runnable vCPU: the timer stops */
	uint64_t view_errors; /* views the planner refused (logged once) */
	uint64_t commit_errors;
	uint64_t txns;		 /* transactions committed */
	uint64_t latched;	 /* threads skipped: their decision was latched already */
	uint64_t take_core_txns; /* of txns, with VS_TXN_F_TAKE_CORE */
	uint64_t outcomes[VS_TXN_NR_OUTCOMES];
	uint64_t cores_refused;	       /* cores left to BPF for the rest of an epoch by a refusal */
	uint64_t bpf_threads;	       /* enclave threads per epoch the plan left to BPF's rules */
	uint64_t plan_ns, plan_max_ns; /* planner_plan_epoch() alone */
	uint64_t epoch_ns, epoch_max_ns; /* a whole epoch: view, plans, commits */
	struct planner_backoff backoff;	 /* the epoch now, and how often it changed */
};

/* Allocates the planner's memory and probes TAKE_CORE; 0, or -1 with err. */
int planner_loop_start(struct vs_daemon *d, char *err, size_t errlen);
void planner_loop_stop(struct vs_daemon *d);
/* Does any enrolled vCPU run or wait to (the epoch timer runs only then)? */
bool planner_loop_wanted(struct vs_daemon *d);
/* One epoch for every enclave; false if nothing was runnable. */
bool planner_loop_epoch(struct vs_daemon *d);
/* The epoch the timer should run at now (ms), backed off or not. */
uint32_t planner_loop_epoch_ms(const struct vs_daemon *d);
/*
 * New messages while the epoch is backed off: true if the runnable vCPUs
 * changed, which brings the base epoch back (re-arm the timer).
 */
bool planner_loop_runnable_changed(struct vs_daemon *d);
/* NULL unless --placement agent. */
const struct vs_planner_stats *planner_loop_stats(const struct vs_daemon *d);

#endif
