/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMs that may have queued vCPUs, as a two-level bitmap (pick_owed_vm):
 * bit vm % 64 of word vm / 64, and bit w of the summary while word w may be
 * non-zero. A dispatch visits only the set bits, so its cost follows the VMs
 * with work, not the VMs enrolled. Set on every insert into a VM's queue;
 * cleared lazily by the pick that finds the queue empty.
 */
#ifndef VS_RULES_VM_BITS_H
#define VS_RULES_VM_BITS_H

#include "core.h"

#define VS_VM_WORDS (VS_MAX_VMS / 64)
_Static_assert(VS_VM_WORDS <= 64, "one summary word covers every word of the bitmap");

/*
 * An insert lands in the queue only after ops.enqueue returns, and under
 * single-threaded TCG the CPU doing it may be paused for up to a 100 ms round
 * robin. A VM none of whose vCPUs is between its insert and its run is
 * cleared at once; one with such a vCPU but an empty queue (an insert on its
 * way, or a vCPU moved to a CPU and not yet started) is kept as a candidate
 * this long after its last insert, so an insert still on its way is never
 * cleared.
 */
#define VS_QUEUED_GRACE_NS 250000000ULL

/*
 * The lowest set bit of @x (x != 0), without a branch: BPF has no ctz, and
 * a branch per step would give the verifier a state per result.
 */
VS_RULE __u32 vs_ctz64(__u64 x)
{
	__u64 v = (x & (~x + 1)) - 1; /* the bits below the lowest set one */

	v = v - ((v >> 1) & 0x5555555555555555ULL);
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (__u32)((v * 0x0101010101010101ULL) >> 56);
}

VS_RULE __u32 vs_vm_word(__u32 vm)
{
	return (vm / 64) & (VS_VM_WORDS - 1);
}

VS_RULE __u64 vs_vm_bit(__u32 vm)
{
	return 1ULL << (vm & 63);
}

/*
 * May the pick clear @vm's bit? Only if its queue is empty (@queued) and it
 * is not the VM whose vCPU leaves this CPU still runnable (@is_prev); then at
 * once if none of its vCPUs is between its insert and its run (@in_flight),
 * else once its last insert (@enqueued_at) is more than VS_QUEUED_GRACE_NS
 * before @now.
 */
VS_RULE bool vs_vm_bit_stale(__s32 queued, bool is_prev, __s32 in_flight, __u64 enqueued_at,
			     __u64 now)
{
	if (queued > 0 || is_prev)
		return false;
	return in_flight <= 0 || (now > enqueued_at && now - enqueued_at > VS_QUEUED_GRACE_NS);
}

#endif /* VS_RULES_VM_BITS_H */
