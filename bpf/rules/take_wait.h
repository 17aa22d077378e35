/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How long a core take (VS_TXN_F_TAKE_CORE) waits: from the commit to its
 * vCPU running on the taken core, counted in decade buckets of microseconds.
 */
#ifndef VS_RULES_TAKE_WAIT_H
#define VS_RULES_TAKE_WAIT_H

#include "../vmm_sched_abi.h"

/* <10 us, <100 us, <1 ms, <10 ms, >=10 ms */
#define VS_TAKE_WAIT_BUCKETS 5

static inline __u32 vs_take_wait_bucket(__u64 ns)
{
	__u64 bound = 10000;
	__u32 b;

	for (b = 0; b < VS_TAKE_WAIT_BUCKETS - 1; b++, bound *= 10)
		if (ns < bound)
			return b;
	return VS_TAKE_WAIT_BUCKETS - 1;
}

#endif /* VS_RULES_TAKE_WAIT_H */
