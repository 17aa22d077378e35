/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMs of an enclave with vCPUs to run, ordered (pick_owed_vm): a binary
 * min-heap of VM ids with an index (pos) so any entry can be re-keyed or
 * removed in O(log n). An enclave keeps two, one keyed by vtime and one by
 * waiting_since, so a pick reads the few VMs owed most and the few waiting
 * longest instead of every VM with queued vCPUs.
 *
 * The keys are lazy: a running VM's vtime grows at every charge and its
 * waiting_since when its oldest vCPU starts, and the heap is not told. Both
 * only grow while the VM is in the heap, so a key is never above its VM's
 * value; a pick offers the VMs the snapshot lists, with their real values, to
 * the same folds as the full scan (owed_scan.h), re-keys the ones it found
 * stale, and falls back to the scan when the VMs it did not offer could
 * still hold a better choice (vs_heap_pick_exact).
 *
 * Pure: the scheduler keeps each enclave's pair under a bpf_spin_lock, and
 * only the short operations here run under it.
 */
#ifndef VS_RULES_VM_HEAP_H
#define VS_RULES_VM_HEAP_H

#include "core.h"

#define VS_HEAP_CAP	 VS_MAX_VMS
#define VS_HEAP_LEVELS	 12 /* log2(VS_HEAP_CAP): the longest sift */
#define VS_HEAP_SNAP	 15 /* entries a pick copies under the lock: four levels */
#define VS_HEAP_TOP_VT	 7  /* a pick offers the vtime heap's first three levels */
#define VS_HEAP_TOP_WAIT 3  /* and the waiting heap's first two */

_Static_assert((VS_HEAP_CAP & (VS_HEAP_CAP - 1)) == 0, "masks keep heap indexes in bounds");
_Static_assert(1 << VS_HEAP_LEVELS == VS_HEAP_CAP, "a sift crosses every level");
_Static_assert(VS_HEAP_CAP <= 65535, "pos and vm fit in 16 bits");
_Static_assert(2 * VS_HEAP_TOP_VT + 1 == VS_HEAP_SNAP && 2 * VS_HEAP_TOP_WAIT + 1 <= VS_HEAP_SNAP,
	       "the copy holds the level below each top, which bounds the rest");

struct vs_vm_heap {
	__u32 nr;
	__u32 cursor; /* a sift's index, through memory (vs_heap_launder) */
	__u64 key[VS_HEAP_CAP];
	__u16 vm[VS_HEAP_CAP];
	__u16 pos[VS_MAX_VMS]; /* 1 + the index of the VM's entry; 0: not in the heap */
};

/* The first entries of a heap, copied under its lock and read after. */
struct vs_heap_snap {
	__u32 nr; /* the heap's, not the copy's */
	__u64 key[VS_HEAP_SNAP];
	__u16 vm[VS_HEAP_SNAP];
};

VS_RULE __u32 vs_heap_ix(__u32 i)
{
	return i & (VS_HEAP_CAP - 1);
}

/*
 * @i through memory, masked. The BPF verifier follows an index's exact range
 * through a loop, so each path through a sift (which child, at every level)
 * would be a state of its own: 2^12 of them. Read back from a map value the
 * index is only "below VS_HEAP_CAP", and the paths of one level merge.
 */
VS_RULE __u32 vs_heap_launder(struct vs_vm_heap *h, __u32 i)
{
	h->cursor = i;
	return vs_heap_ix(*(volatile __u32 *)&h->cursor);
}

VS_RULE bool vs_heap_has(const struct vs_vm_heap *h, __u32 vm)
{
	return h->pos[vm & (VS_MAX_VMS - 1)] != 0;
}

VS_RULE void vs_heap_put(struct vs_vm_heap *h, __u32 i, __u16 vm, __u64 key)
{
	i = vs_heap_ix(i);
	h->key[i] = key;
	h->vm[i] = vm;
	h->pos[vm & (VS_MAX_VMS - 1)] = (__u16)(i + 1);
}

/* Moves the entry at @i up while its parent's key is larger. */
VS_RULE void vs_heap_sift_up(struct vs_vm_heap *h, __u32 i)
{
	__u64 key;
	__u16 vm;
	__u32 step, p;

	i = vs_heap_ix(i);
	key = h->key[i];
	vm = h->vm[i];
	for (step = 0; step < VS_HEAP_LEVELS && i > 0; step++) {
		i = vs_heap_launder(h, i);
		if (!i)
			break;
		p = vs_heap_ix((i - 1) / 2);
		if (h->key[p] <= key)
			break;
		vs_heap_put(h, i, h->vm[p], h->key[p]);
		i = p;
	}
	vs_heap_put(h, i, vm, key);
}

/* Moves the entry at @i down while a child's key is smaller. */
VS_RULE void vs_heap_sift_down(struct vs_vm_heap *h, __u32 i)
{
	__u64 key;
	__u16 vm;
	__u32 step, c, r, nr = h->nr;

	if (nr > VS_HEAP_CAP)
		nr = VS_HEAP_CAP;
	i = vs_heap_ix(i);
	key = h->key[i];
	vm = h->vm[i];
	for (step = 0; step < VS_HEAP_LEVELS; step++) {
		i = vs_heap_launder(h, i);
		c = 2 * i + 1;
		if (c >= nr)
			break;
		r = c + 1;
		c = vs_heap_ix(c);
		if (r < nr && h->key[vs_heap_ix(r)] < h->key[c])
			c = vs_heap_ix(r);
		if (h->key[c] >= key)
			break;
		vs_heap_put(h, i, h->vm[c], h->key[c]);
		i = c;
	}
	vs_heap_put(h, i, vm, key);
}

/* Adds @vm with @key; false if it is in already, or the heap is full. */
VS_RULE bool vs_heap_push(struct vs_vm_heap *h, __u32 vm, __u64 key)
{
	__u32 i = h->nr;

	if (vm >= VS_MAX_VMS || vs_heap_has(h, vm) || i >= VS_HEAP_CAP)
		return false;
	h->nr = i + 1;
	vs_heap_put(h, i, (__u16)vm, key);
	vs_heap_sift_up(h, i);
	return true;
}

/* Gives @vm's entry @key, moving it up or down; false if @vm is not in. */
VS_RULE bool vs_heap_rekey(struct vs_vm_heap *h, __u32 vm, __u64 key)
{
	__u32 i;
	__u64 old;

	if (vm >= VS_MAX_VMS || !vs_heap_has(h, vm))
		return false;
	i = vs_heap_ix(h->pos[vm & (VS_MAX_VMS - 1)] - 1);
	old = h->key[i];
	h->key[i] = key;
	if (key < old)
		vs_heap_sift_up(h, i);
	else
		vs_heap_sift_down(h, i);
	return true;
}

/* Takes @vm out; false if it is not in. */
VS_RULE bool vs_heap_remove(struct vs_vm_heap *h, __u32 vm)
{
	__u32 i, last;
	__u64 old;

	if (vm >= VS_MAX_VMS || !vs_heap_has(h, vm) || !h->nr)
		return false;
	i = vs_heap_ix(h->pos[vm & (VS_MAX_VMS - 1)] - 1);
	last = vs_heap_ix(h->nr - 1);
	h->nr = last;
	h->pos[vm & (VS_MAX_VMS - 1)] = 0;
	if (i == last)
		return true;
	old = h->key[i];
	vs_heap_put(h, i, h->vm[last], h->key[last]);
	if (h->key[i] < old)
		vs_heap_sift_up(h, i);
	else
		vs_heap_sift_down(h, i);
	return true;
}

/* Is @vm in, with a key no higher than @value (so the lazy keys still bound it)? */
VS_RULE bool vs_heap_key_fits(const struct vs_vm_heap *h, __u32 vm, __u64 value)
{
	__u16 pos = h->pos[vm & (VS_MAX_VMS - 1)];

	return pos && h->key[vs_heap_ix(pos - 1)] <= value;
}

/* Adds @vm with @key, or lowers its key to @key if higher; false if the heap is full. */
VS_RULE bool vs_heap_push_or_lower(struct vs_vm_heap *h, __u32 vm, __u64 key)
{
	__u16 pos;

	if (vm >= VS_MAX_VMS)
		return false;
	pos = h->pos[vm & (VS_MAX_VMS - 1)];
	if (!pos)
		return vs_heap_push(h, vm, key);
	if (h->key[vs_heap_ix(pos - 1)] > key)
		vs_heap_rekey(h, vm, key);
	return true;
}

/* Copies the first VS_HEAP_SNAP entries: the only read a pick makes under the lock. */
VS_RULE void vs_heap_snapshot(const struct vs_vm_heap *h, struct vs_heap_snap *s)
{
	__u32 i;

	s->nr = h->nr;
	for (i = 0; i < VS_HEAP_SNAP; i++) {
		/* Opaque to clang: its strength-reduced pointer started below the value. */
		__asm__ volatile("" : "+r"(i));
		if (i >= VS_HEAP_SNAP)
			break;
		s->key[i] = h->key[i];
		s->vm[i] = h->vm[i];
	}
}

/*
 * The first @top entries of snapshot @s (@top = 2^levels - 1: whole levels,
 * VS_HEAP_TOP_VT or VS_HEAP_TOP_WAIT), into @vms and @keys; returns how many.
 * *@rest_key: a lower bound on the key of every entry not returned (~0: none
 * left): each lies under a node of the next level, whose key is no higher.
 * Whole levels rather than the least keys in order, so the loops have fixed
 * bounds and no index read from the heap: the verifier walks them in one pass.
 */
VS_RULE __u32 vs_heap_snap_top(const struct vs_heap_snap *s, __u32 top, __u16 *vms, __u64 *keys,
			       __u64 *rest_key)
{
	__u32 i, n = 0, nr = s->nr;
	__u64 rest = ~0ULL;

	if (top > VS_HEAP_TOP_VT)
		top = VS_HEAP_TOP_VT;
	for (i = 0; i < VS_HEAP_TOP_VT; i++) {
		if (i >= top || i >= nr)
			break;
		vms[i] = s->vm[i];
		keys[i] = s->key[i];
		n = i + 1;
	}
	for (i = VS_HEAP_TOP_VT; i < VS_HEAP_SNAP; i++) {
		__u32 j = i - VS_HEAP_TOP_VT + top; /* the level below the top */

		if (j >= 2 * top + 1 || j >= nr)
			break;
		if (s->key[j % VS_HEAP_SNAP] < rest)
			rest = s->key[j % VS_HEAP_SNAP];
	}
	*rest_key = rest;
	return n;
}

/*
 * May a pick that offered only the snapshot's VMs trust its choice? The VMs
 * not offered have vtime >= @rest_vt and waiting_since >= @rest_wait (keys
 * are never above their VM's values). @chosen: the fold's VM (VS_VM_NONE:
 * nobody), @starved whether it came for the guard, @reserved for a
 * reservation (the caller offers every reserving VM), @vt its vtime; @offered_all:
 * the snapshots listed every entry of both heaps. Not trusted, the caller
 * scans: when nobody was chosen (every VM offered capped or empty), when a VM
 * not offered may be starved while the choice is not, or when one may have
 * less vtime than a choice made by vtime. The pair preference is not checked: a VM with
 * two vCPUs beyond the offered ones is not looked for (docs/design.md).
 */
VS_RULE bool vs_heap_pick_exact(bool offered_all, __s32 chosen, bool starved, bool reserved,
				__u64 vt, __u64 rest_vt, __u64 rest_wait, __u64 now,
				__u64 starved_ns)
{
	if (offered_all)
		return true;
	if (chosen == VS_VM_NONE)
		return false;
	if (starved)
		return true;
	if (rest_wait != ~0ULL && rest_wait && now > rest_wait + starved_ns)
		return false;
	return reserved || vt <= rest_vt;
}

#endif /* VS_RULES_VM_HEAP_H */
