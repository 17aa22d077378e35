/* The lower bound on forced idle (see sim_bound.h). */
#include "sim_bound.h"

#include <string.h>

void sim_bound_init(struct sim_bound *b, uint32_t cores, uint32_t tpc)
{
	memset(b, 0, sizeof(*b));
	b->cores = cores;
	b->tpc = tpc ? tpc : 1;
}

uint64_t sim_bound_max_busy(const struct sim_bound *b)
{
	uint64_t cores_left, busy, take;
	uint32_t r;

	take = b->full < b->cores ? b->full : b->cores;
	busy = take * b->tpc;
	cores_left = b->cores - take;
	for (r = b->tpc - 1; r >= 1 && cores_left; r--) {
		take = b->partial[r] < cores_left ? b->partial[r] : cores_left;
		busy += take * r;
		cores_left -= take;
	}
	return busy;
}

uint64_t sim_bound_idle_now(const struct sim_bound *b)
{
	uint64_t busy = sim_bound_max_busy(b);

	return b->runnable > busy ? (uint64_t)b->cores * b->tpc - busy : 0;
}

void sim_bound_advance(struct sim_bound *b, uint64_t now)
{
	if (now > b->last_at)
		b->lb_ns += sim_bound_idle_now(b) * (now - b->last_at);
	b->last_at = now;
}

void sim_bound_change(struct sim_bound *b, uint32_t from, uint32_t to)
{
	b->full -= from / b->tpc;
	if (from % b->tpc)
		b->partial[from % b->tpc]--;
	b->full += to / b->tpc;
	if (to % b->tpc)
		b->partial[to % b->tpc]++;
	b->runnable += (uint64_t)to - from;
}
