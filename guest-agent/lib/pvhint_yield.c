// SPDX-License-Identifier: LGPL-2.1-or-later
/* Whether an outermost pvhint_exit() should give the vCPU back (pvhint_yield.h). */
#include "pvhint_yield.h"

bool pvhint_yield_due(const struct pvhint_h2g_slot *slots, unsigned int nr_slots, int cpu,
		      struct pvhint_yield_seen *seen)
{
	const struct pvhint_h2g_slot *s;
	uint32_t seq, flags = 0;
	uint64_t ext = 0, disabled = 0;
	int tries;

	if (!slots || cpu < 0 || (unsigned int)cpu >= nr_slots)
		return false;
	s = &slots[cpu];
	/* One load on the common path: the host part may be uncached memory. */
	if (!(__atomic_load_n(&s->flags, __ATOMIC_RELAXED) & PVHINT_H2G_YIELD_ON_EXIT))
		return false;
	for (tries = 0; tries < PVHINT_YIELD_SEQ_TRIES; tries++) {
		seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
		ext = __atomic_load_n(&s->extensions, __ATOMIC_RELAXED);
		disabled = __atomic_load_n(&s->disabled, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq)
			break;
	}
	if (tries == PVHINT_YIELD_SEQ_TRIES || flags != PVHINT_H2G_YIELD_ON_EXIT || disabled ||
	    !ext)
		return false;
	if (seen->cpu == cpu && seen->extensions == ext)
		return false; /* this request was acknowledged already */
	seen->cpu = cpu;
	seen->extensions = ext;
	return true;
}
