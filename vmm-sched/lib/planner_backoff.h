/*
 * How long the planner waits before its next epoch. An epoch whose commits
 * were mostly refused, or that had nothing to commit, changed nothing BPF's
 * rules would not have done anyway: the next one waits twice as long, up to
 * PLANNER_BACKOFF_MAX_FACTOR times the base epoch. Any change in which vCPUs
 * are runnable, or an epoch whose commits mostly completed, brings the base
 * epoch back. Pure: the agent's loop feeds it each epoch's counts.
 */
#ifndef VS_PLANNER_BACKOFF_H
#define VS_PLANNER_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define PLANNER_BACKOFF_MAX_FACTOR 16

struct planner_backoff {
	uint32_t base_ms;    /* --epoch-ms */
	uint32_t epoch_ms;   /* the epoch now */
	uint64_t runnable;   /* signature of the runnable vCPUs last seen */
	uint64_t lengthened; /* epochs after which the next one was made longer */
	uint64_t resets;     /* returns to the base epoch from a longer one */
};

/* What one epoch did (all enclaves together). */
struct planner_epoch_outcome {
	uint64_t runnable;  /* signature of the runnable vCPUs (planner_runnable_sig) */
	uint32_t txns;	    /* transactions committed */
	uint32_t completed; /* of them, VS_TXN_COMPLETE */
};

void planner_backoff_init(struct planner_backoff *b, uint32_t base_ms);
/* The epoch after one that did @o; returns the new epoch_ms. */
uint32_t planner_backoff_after_epoch(struct planner_backoff *b,
				     const struct planner_epoch_outcome *o);
/*
 * Between epochs (new messages): the runnable vCPUs are now @runnable.
 * Returns true if that ended a back-off (the caller re-arms its timer).
 */
bool planner_backoff_runnable_now(struct planner_backoff *b, uint64_t runnable);
/* Signature of a set of runnable vCPU slots: add each slot once, any order. */
uint64_t planner_runnable_sig_add(uint64_t sig, uint32_t slot);

#endif
