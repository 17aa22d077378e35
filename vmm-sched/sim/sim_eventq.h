/*
 * The simulator's event queue: a binary min-heap ordered by (time, sequence
 * number), so events at the same instant run in the order they were posted
 * and a run is deterministic.
 */
#ifndef VS_SIM_EVENTQ_H
#define VS_SIM_EVENTQ_H

#include <stdbool.h>
#include <stdint.h>

enum sim_event_kind {
	SIM_EV_WAKE,	/* a blocked vCPU becomes runnable (arg: vCPU) */
	SIM_EV_BLOCK,	/* a running vCPU finished its burst (arg: vCPU, gen) */
	SIM_EV_TICK,	/* the scheduler tick on every CPU */
	SIM_EV_SWEEP,	/* the BPF placement sweep timer */
	SIM_EV_PLAN,	/* the agent's share plan round */
	SIM_EV_KICK,	/* a CPU reschedules at once (arg: CPU) */
	SIM_EV_LOCK,	/* a lock holder takes or drops its lock (arg: vCPU, gen) */
	SIM_EV_BURST,	/* a bursty VM wakes all its vCPUs (arg: VM) */
	SIM_EV_AGENT,	/* the agent policy's epoch (arg 0) or its delayed commit (arg 1) */
	SIM_EV_EXT_END, /* a critical section's slice extension runs out (arg: vCPU, gen) */
};

struct sim_event {
	uint64_t at;
	uint64_t seq;
	uint32_t kind;
	uint32_t arg;
	uint64_t gen; /* the vCPU's run generation the event belongs to */
};

struct sim_eventq {
	struct sim_event *heap;
	uint32_t len, cap;
	uint64_t next_seq;
};

int sim_eventq_init(struct sim_eventq *q, uint32_t cap);
void sim_eventq_free(struct sim_eventq *q);
/* Returns 0, or -1 if out of memory. */
int sim_eventq_post(struct sim_eventq *q, uint64_t at, uint32_t kind, uint32_t arg, uint64_t gen);
/* The earliest event into @ev; false if none. */
bool sim_eventq_pop(struct sim_eventq *q, struct sim_event *ev);

#endif
