/*
 * In-place heapsort and binary heap of uint32 indices for the planner: no
 * allocation, O(n log n), deterministic whatever the input. @before(ctx, a,
 * b) is true if a comes strictly before b; callers break ties by id so the
 * order is total. Inline, so the compiler can inline @before into the loops.
 */
#ifndef VS_PLANNER_HEAP_H
#define VS_PLANNER_HEAP_H

#include <stdbool.h>
#include <stdint.h>

typedef bool (*planner_before_fn)(const void *ctx, uint32_t a, uint32_t b);

/* Sift a[i] down a heap of @n whose top comes *last* in the order if @max. */
static inline void planner_sift_down(uint32_t *a, uint32_t n, uint32_t i, planner_before_fn before,
				     const void *ctx, bool max)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, top = i, t;

		if (l < n && (max ? before(ctx, a[top], a[l]) : before(ctx, a[l], a[top])))
			top = l;
		if (r < n && (max ? before(ctx, a[top], a[r]) : before(ctx, a[r], a[top])))
			top = r;
		if (top == i)
			return;
		t = a[i];
		a[i] = a[top];
		a[top] = t;
		i = top;
	}
}

static inline void planner_sort(uint32_t *a, uint32_t n, planner_before_fn before, const void *ctx)
{
	uint32_t i, t;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		planner_sift_down(a, n, i, before, ctx, true);
	for (i = n - 1; i > 0; i--) {
		t = a[0];
		a[0] = a[i];
		a[i] = t;
		planner_sift_down(a, i, 0, before, ctx, true);
	}
}

static inline void planner_heap_push(uint32_t *a, uint32_t *n, uint32_t x, planner_before_fn before,
				     const void *ctx)
{
	uint32_t i = (*n)++;

	while (i > 0) {
		uint32_t up = (i - 1) / 2;

		if (!before(ctx, x, a[up]))
			break;
		a[i] = a[up];
		i = up;
	}
	a[i] = x;
}

static inline uint32_t planner_heap_pop(uint32_t *a, uint32_t *n, planner_before_fn before,
					const void *ctx)
{
	uint32_t top = a[0];

	a[0] = a[--*n];
	planner_sift_down(a, *n, 0, before, ctx, false);
	return top;
}

#endif
