/*
 * Unit tests: the enclave's VM heaps (bpf/rules/vm_heap.h) that pick_owed_vm
 * reads instead of scanning every queued VM: the heap against a plain
 * reference, the snapshot's top entries and bound, and a pick from the heaps
 * against the full scan's fold (bpf/rules/owed_scan.h) over random VMs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/owed_scan.h"
#include "bpf/rules/vm_heap.h"

#define SEC 1000000000ULL

static __u64 rng_next(__u64 *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 17;
}

/* Heap order, and pos and vm pointing at each other, for every entry. */
static void assert_heap_sound(const struct vs_vm_heap *h)
{
	__u32 members = 0;

	for (__u32 i = 0; i < h->nr; i++) {
		assert_int_equal(h->pos[h->vm[i]], i + 1);
		if (i)
			assert_true(h->key[(i - 1) / 2] <= h->key[i]);
	}
	for (__u32 vm = 0; vm < VS_MAX_VMS; vm++)
		members += h->pos[vm] != 0;
	assert_int_equal(members, h->nr);
}

/* Random pushes, removals and re-keys against an array of keys; the top is always the least. */
static void heap_matches_reference(void **state)
{
	static struct vs_vm_heap h;
	static __u64 ref[VS_MAX_VMS];
	static bool in[VS_MAX_VMS];
	__u64 seed = 7;

	(void)state;
	for (int round = 0; round < 4; round++) {
		__u32 span = round == 3 ? VS_MAX_VMS : 64u << (2 * round);

		memset(&h, 0, sizeof(h));
		memset(in, 0, sizeof(in));
		for (int op = 0; op < 20000; op++) {
			__u32 vm = rng_next(&seed) % span;
			__u64 key = rng_next(&seed) % 1000;
			__u32 what = rng_next(&seed) % 3;

			if (what == 0) {
				assert_int_equal(vs_heap_push(&h, vm, key), !in[vm]);
				if (!in[vm])
					ref[vm] = key;
				in[vm] = true;
			} else if (what == 1) {
				assert_int_equal(vs_heap_remove(&h, vm), in[vm]);
				in[vm] = false;
			} else {
				assert_int_equal(vs_heap_rekey(&h, vm, key), in[vm]);
				if (in[vm])
					ref[vm] = key;
			}
			if (op % 97 == 0 || span <= 64)
				assert_heap_sound(&h);
			if (h.nr) {
				__u64 least = ~0ULL;

				for (__u32 v = 0; v < span; v++)
					if (in[v] && ref[v] < least)
						least = ref[v];
				assert_true(h.key[0] == least);
				assert_true(in[h.vm[0]] && ref[h.vm[0]] == least);
			}
		}
		assert_heap_sound(&h);
	}
}

/* Full heap: one more push is refused; lowering a key moves it up, a higher one does nothing. */
static void heap_full_and_lower(void **state)
{
	static struct vs_vm_heap h;

	(void)state;
	memset(&h, 0, sizeof(h));
	for (__u32 vm = 0; vm < VS_MAX_VMS; vm++)
		assert_true(vs_heap_push(&h, vm, 1000 + vm));
	assert_int_equal(h.nr, VS_HEAP_CAP);
	assert_false(vs_heap_push(&h, 5, 1));
	assert_false(vs_heap_push(&h, VS_MAX_VMS, 1));
	assert_true(vs_heap_push_or_lower(&h, 4000, 3));
	assert_int_equal(h.vm[0], 4000);
	assert_true(vs_heap_push_or_lower(&h, 4000, 9));
	assert_true(h.key[0] == 3);
	assert_true(vs_heap_key_fits(&h, 4000, 3));
	assert_false(vs_heap_key_fits(&h, 4000, 2));
	assert_heap_sound(&h);
	assert_true(vs_heap_remove(&h, 4000));
	assert_false(vs_heap_key_fits(&h, 4000, ~0ULL));
	assert_heap_sound(&h);
}

/*
 * The snapshot's top: whole levels from the least key, distinct, and a
 * bound no higher than any entry left out; all of a small heap with nothing
 * left.
 */
static void snap_top_orders_and_bounds(void **state)
{
	static struct vs_vm_heap h;
	struct vs_heap_snap s;
	__u64 seed = 99;

	(void)state;
	for (int run = 0; run < 3000; run++) {
		static const __u32 tops[] = {1, VS_HEAP_TOP_WAIT, VS_HEAP_TOP_VT};
		__u32 n = rng_next(&seed) % (run % 2 ? 20 : 300), k = tops[rng_next(&seed) % 3];
		__u16 vms[VS_HEAP_TOP_VT];
		__u64 keys[VS_HEAP_TOP_VT], rest;
		bool out[VS_MAX_VMS] = {0};
		__u32 got;

		memset(&h, 0, sizeof(h));
		for (__u32 i = 0; i < n; i++)
			vs_heap_push(&h, rng_next(&seed) % VS_MAX_VMS, rng_next(&seed) % 500);
		vs_heap_snapshot(&h, &s);
		got = vs_heap_snap_top(&s, k, vms, keys, &rest);
		assert_true(got <= k && got <= h.nr);
		for (__u32 i = 0; i < got; i++) {
			assert_false(out[vms[i]]);
			out[vms[i]] = true;
			assert_true(h.pos[vms[i]] != 0);
			assert_true(keys[i] == h.key[h.pos[vms[i]] - 1]);
			assert_int_equal(vms[i], h.vm[i]);
		}
		for (__u32 i = 0; i < h.nr; i++)
			if (!out[h.vm[i]])
				assert_true(rest <= h.key[i]);
		if (h.nr <= k)
			assert_int_equal(got, h.nr);
		if (got == h.nr)
			assert_true(rest == ~0ULL);
		else
			assert_true(rest != ~0ULL);
		if (h.nr)
			assert_true(got == (h.nr < k ? h.nr : k) && vms[0] == h.vm[0]);
	}
}

static void exact_rule_cases(void **state)
{
	const __u64 now = 100 * SEC, none = ~0ULL;

	(void)state;
	/* Every entry was offered: whatever the folds chose stands. */
	assert_true(
	    vs_heap_pick_exact(true, VS_VM_NONE, false, false, 0, none, none, now, VS_STARVED_NS));
	/* Entries left out, nobody chosen (all capped or empty): scan. */
	assert_false(vs_heap_pick_exact(false, VS_VM_NONE, false, false, 0, 50, 90 * SEC, now,
					VS_STARVED_NS));
	/* A starved VM chosen stands. */
	assert_true(
	    vs_heap_pick_exact(false, 3, true, false, 80, 50, 10 * SEC, now, VS_STARVED_NS));
	/* One left out may have waited past the guard: scan. */
	assert_false(
	    vs_heap_pick_exact(false, 3, false, false, 40, 50, 90 * SEC, now, VS_STARVED_NS));
	/* None can have: the vtime decides, against the bound of those left out. */
	assert_true(
	    vs_heap_pick_exact(false, 3, false, false, 50, 50, 96 * SEC, now, VS_STARVED_NS));
	assert_false(
	    vs_heap_pick_exact(false, 3, false, false, 51, 50, 96 * SEC, now, VS_STARVED_NS));
	/* A reservation's choice stands over any vtime, but not over a VM that may be starved. */
	assert_true(
	    vs_heap_pick_exact(false, 3, false, true, 999, 50, 96 * SEC, now, VS_STARVED_NS));
	assert_false(
	    vs_heap_pick_exact(false, 3, false, true, 999, 50, 90 * SEC, now, VS_STARVED_NS));
	/* A waiting heap with nothing left out leaves only the vtime. */
	assert_true(vs_heap_pick_exact(false, 3, false, false, 10, 50, none, now, VS_STARVED_NS));
}

/* One random VM of the property below. */
struct rvm {
	__u64 vtime, waiting_since;
	__s32 queued;
	bool capped, member, short_res; /* short of its reserved cores */
};

static void fold_add(struct vs_owed_scan *s, struct vs_reserve_scan *r, const struct rvm *v,
		     __u32 vm, __u64 now)
{
	if (v->capped || v->queued <= 0)
		return;
	vs_owed_scan_add(s, vm, v->queued, false, v->vtime, v->waiting_since, now);
	if (v->short_res)
		vs_reserve_scan_add(r, vm, v->queued, false, VS_RES_SHORT);
}

/*
 * The pick from the heaps as pick_from_heaps makes it (the snapshot's top
 * VMs and every reserving VM offered, the scan when vs_heap_pick_exact says
 * so) against the full scan, over random VMs with lazy keys up to the VM's
 * value, some capped, some empty, some starved, some short of a reservation:
 * the same vtime chosen (pair window 0: the pair preference looks only at
 * the offered VMs), or a starved VM, or a VM short of its reservation,
 * whenever the scan chose one.
 */
static void heap_pick_matches_scan(void **state)
{
	static struct vs_vm_heap vt, wait;
	static struct rvm vms[VS_MAX_VMS];
	struct vs_reserve_scan res_full, res_part;
	struct vs_heap_snap s;
	__u64 seed = 4242, scans = 0, heap_only = 0, reserved = 0;

	(void)state;
	for (int run = 0; run < 4000; run++) {
		__u32 n = 1 + rng_next(&seed) % (run % 3 ? 60 : 2000);
		__u64 now = 1000 * SEC;
		bool caps = rng_next(&seed) % 3 == 0, starve = rng_next(&seed) % 4 == 0;
		bool reserves = rng_next(&seed) % 3 == 0;
		__u16 top_vt[VS_HEAP_TOP_VT], top_w[VS_HEAP_TOP_VT];
		__u64 k_vt[VS_HEAP_TOP_VT], k_w[VS_HEAP_TOP_VT], rest_vt, rest_w;
		struct vs_owed_scan full, part;
		struct vs_owed_choice want, got;
		__u32 n_vt, n_w;

		memset(&vt, 0, sizeof(vt));
		memset(&wait, 0, sizeof(wait));
		vs_owed_scan_init(&full);
		vs_owed_scan_init(&part);
		vs_reserve_scan_init(&res_full);
		vs_reserve_scan_init(&res_part);
		for (__u32 vm = 0; vm < n; vm++) {
			struct rvm *v = &vms[vm];

			v->queued = rng_next(&seed) % 4 ? 1 + rng_next(&seed) % 3 : 0;
			v->capped = caps && rng_next(&seed) % 3 == 0;
			v->short_res = reserves && rng_next(&seed) % 40 == 0;
			v->vtime = 1000 + rng_next(&seed) % 5000;
			v->waiting_since =
			    now - (starve && rng_next(&seed) % 50 == 0 ? 6 * SEC : SEC / 10) -
			    rng_next(&seed) % SEC;
			/* In the heaps with a queued vCPU; an empty VM maybe still (lazy removal).
			 */
			v->member = v->queued > 0 || rng_next(&seed) % 2;
			if (v->member) {
				vs_heap_push(&vt, vm, v->vtime - rng_next(&seed) % 300);
				vs_heap_push(&wait, vm, v->waiting_since - rng_next(&seed) % SEC);
			}
			fold_add(&full, &res_full, v, vm, now);
		}
		want = vs_owed_scan_choose(&full, &res_full, 0);

		vs_heap_snapshot(&vt, &s);
		n_vt = vs_heap_snap_top(&s, VS_HEAP_TOP_VT, top_vt, k_vt, &rest_vt);
		vs_heap_snapshot(&wait, &s);
		n_w = vs_heap_snap_top(&s, VS_HEAP_TOP_WAIT, top_w, k_w, &rest_w);
		for (__u32 i = 0; i < n_vt; i++)
			fold_add(&part, &res_part, &vms[top_vt[i]], top_vt[i], now);
		for (__u32 i = 0; i < n_w; i++)
			fold_add(&part, &res_part, &vms[top_w[i]], top_w[i], now);
		/* offer_reserving_vms: every VM with a reservation, in id order. */
		for (__u32 vm = 0; vm < n; vm++)
			if (vms[vm].short_res)
				fold_add(&part, &res_part, &vms[vm], vm, now);
		got = vs_owed_scan_choose(&part, &res_part, 0);
		if (!vs_heap_pick_exact(rest_vt == ~0ULL && rest_w == ~0ULL, got.vm, got.starved,
					got.reserved,
					got.for_pair ? part.pair.vtime : part.best.vtime, rest_vt,
					rest_w, now, VS_STARVED_NS)) {
			scans++;
			got = want;
		} else {
			heap_only++;
		}
		assert_int_equal(got.starved, want.starved);
		if (want.starved) {
			assert_true(now > vms[got.vm].waiting_since + VS_STARVED_NS);
			continue;
		}
		/* Of several VMs short of their cores the first offered gets one: any of them. */
		assert_int_equal(got.reserved, want.reserved);
		if (want.reserved) {
			assert_true(vms[got.vm].short_res && vms[got.vm].queued > 0);
			reserved++;
			continue;
		}
		assert_int_equal(got.vm == VS_VM_NONE, want.vm == VS_VM_NONE);
		if (got.vm != VS_VM_NONE)
			assert_true(vms[got.vm].vtime == vms[want.vm].vtime);
	}
	/* Both ways were taken: the property saw the heaps decide, and the fallback. */
	assert_true(heap_only > 1000 && scans > 50 && reserved > 100);
	print_message("heap picks %llu, scans %llu, reservations %llu\n",
		      (unsigned long long)heap_only, (unsigned long long)scans,
		      (unsigned long long)reserved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(heap_matches_reference),	  cmocka_unit_test(heap_full_and_lower),
	    cmocka_unit_test(snap_top_orders_and_bounds), cmocka_unit_test(exact_rule_cases),
	    cmocka_unit_test(heap_pick_matches_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
