/*
 * In-place heapsort and binary heap of uint32 indices for the planner: no
 * allocation, O(n log n), deterministic whatever the input. @before(ctx, a,
 * b) is true if a comes strictly before b; callers break ties by id so the
 * order is total.
 */
#ifndef VS_PLANNER_HEAP_H
#define VS_PLANNER_HEAP_H

#include <stdbool.h>
#include <stdint.h>

typedef bool (*planner_before_fn)(const void *ctx, uint32_t a, uint32_t b);

/* Sort @a[0..n) so that @before holds between neighbours (or they tie). */
void planner_sort(uint32_t *a, uint32_t n, planner_before_fn before, const void *ctx);

/* A heap whose top a[0] comes before all others. */
void planner_heap_push(uint32_t *a, uint32_t *n, uint32_t x, planner_before_fn before,
		       const void *ctx);
uint32_t planner_heap_pop(uint32_t *a, uint32_t *n, planner_before_fn before, const void *ctx);

#endif
