/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VM's cap (vm_ctx.cap_cores): it takes no further core while it owns that
 * many. Counts are read without the cores' locks, so two cores changing hands
 * at once may overshoot a cap by a core until the next handover (dispatch
 * then gives one up: the owner is over its cap).
 */
#ifndef VS_RULES_CAP_H
#define VS_RULES_CAP_H

#include "core.h"

/*
 * Is a VM owning @owned cores within @cap_cores (0: no cap) with one more
 * core, or (@owns_this) with the core in question, which it owns already?
 */
VS_RULE bool vs_within_cap(__u32 owned, __u32 cap_cores, bool owns_this)
{
	if (!cap_cores)
		return true;
	return owns_this ? owned <= cap_cores : owned < cap_cores;
}

#endif /* VS_RULES_CAP_H */
