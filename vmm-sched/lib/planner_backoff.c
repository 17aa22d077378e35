/* The planner's epoch back-off (planner_backoff.h). */
#include "planner_backoff.h"

void planner_backoff_init(struct planner_backoff *b, uint32_t base_ms)
{
	*b = (struct planner_backoff){.base_ms = base_ms ? base_ms : 1};
	b->epoch_ms = b->base_ms;
}

static void back_to_base(struct planner_backoff *b)
{
	if (b->epoch_ms != b->base_ms)
		b->resets++;
	b->epoch_ms = b->base_ms;
}

uint32_t planner_backoff_after_epoch(struct planner_backoff *b,
				     const struct planner_epoch_outcome *o)
{
	uint64_t max = (uint64_t)b->base_ms * PLANNER_BACKOFF_MAX_FACTOR;
	bool changed = o->runnable != b->runnable;
	/* Nothing to commit (all latched), or most commits refused. */
	bool futile = !o->txns || (uint64_t)o->completed * 2 < o->txns;

	b->runnable = o->runnable;
	if (changed || !futile) {
		back_to_base(b);
		return b->epoch_ms;
	}
	if (b->epoch_ms < max) {
		b->epoch_ms = (uint64_t)b->epoch_ms * 2 < max ? b->epoch_ms * 2 : (uint32_t)max;
		b->lengthened++;
	}
	return b->epoch_ms;
}

bool planner_backoff_runnable_now(struct planner_backoff *b, uint64_t runnable)
{
	if (b->epoch_ms == b->base_ms || runnable == b->runnable)
		return false;
	b->runnable = runnable;
	back_to_base(b);
	return true;
}

/* A 64-bit mix of the slot (splitmix64's finaliser), summed: order does not matter. */
uint64_t planner_runnable_sig_add(uint64_t sig, uint32_t slot)
{
	uint64_t z = (uint64_t)slot + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return sig + (z ^ (z >> 31));
}
