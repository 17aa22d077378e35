/*
 * The duty payload's wakeup latency histogram: per wake, the guest TSC cycles
 * from the programmed timer deadline to the first instruction after HLT.
 * Log-linear buckets (8 per power of two, so a bucket is at most 12.5% wide)
 * over the whole 64-bit range. Header-only and free of libc: the guest
 * records, the VMM reads percentiles, the unit test checks both.
 */
#ifndef TESTVMM_WAKE_HIST_H
#define TESTVMM_WAKE_HIST_H

#include <stdint.h>

#include "guest_abi.h"

#define WAKE_HIST_SUB	  8 /* buckets per power of two */
#define WAKE_HIST_BUCKETS 496

/* One per vCPU, a page each from GUEST_HIST_GPA. The guest is the only writer, except
 * that the VMM clears max_cycles when it starts a new measurement window. */
struct wake_hist {
	uint64_t count;
	uint64_t max_cycles;
	uint64_t sum_cycles;
	uint64_t reserved;
	uint64_t buckets[WAKE_HIST_BUCKETS];
};

_Static_assert(sizeof(struct wake_hist) <= GUEST_HIST_SIZE, "a histogram outgrows its page");

/* Values 0-7 have a bucket each; above, the top bit picks the octave, the next 3 the bucket. */
static inline unsigned int wake_hist_bucket(uint64_t cycles)
{
	unsigned int msb;

	if (cycles < WAKE_HIST_SUB)
		return (unsigned int)cycles;
	msb = 63 - (unsigned int)__builtin_clzll(cycles);
	return (msb - 2) * WAKE_HIST_SUB + (unsigned int)((cycles >> (msb - 3)) & 7);
}

/* The smallest value that falls into bucket b. */
static inline uint64_t wake_hist_low(unsigned int b)
{
	if (b < WAKE_HIST_SUB)
		return b;
	return (uint64_t)(WAKE_HIST_SUB + b % WAKE_HIST_SUB) << (b / WAKE_HIST_SUB - 1);
}

/* The largest value that falls into bucket b. */
static inline uint64_t wake_hist_high(unsigned int b)
{
	return b + 1 >= WAKE_HIST_BUCKETS ? UINT64_MAX : wake_hist_low(b + 1) - 1;
}

static inline void wake_hist_record(volatile struct wake_hist *h, uint64_t cycles)
{
	h->buckets[wake_hist_bucket(cycles)]++;
	h->sum_cycles += cycles;
	if (cycles > h->max_cycles)
		h->max_cycles = cycles;
	h->count++;
}

/*
 * The upper bound of the bucket holding the q-th part in 10000 of count
 * values (q = 9900: p99), from per-bucket counts; 0 when count is 0.
 */
static inline uint64_t wake_hist_percentile(const uint64_t *buckets, uint64_t count, unsigned int q)
{
	uint64_t rank = (count * q + 9999) / 10000, seen = 0;

	if (!count)
		return 0;
	if (!rank)
		rank = 1;
	for (unsigned int b = 0; b < WAKE_HIST_BUCKETS; b++) {
		seen += buckets[b];
		if (seen >= rank)
			return wake_hist_high(b);
	}
	return UINT64_MAX;
}

#endif
