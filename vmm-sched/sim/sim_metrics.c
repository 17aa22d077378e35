/* Wait histograms of the simulator (see sim_metrics.h). */
#include "sim_metrics.h"

static unsigned int bucket_of(uint64_t v)
{
	unsigned int log2;

	if (v < SIM_HIST_SUB)
		return (unsigned int)v;
	log2 = 63 - (unsigned int)__builtin_clzll(v);
	/* The top bit picks the power of two, the next 3 bits the sub-bucket. */
	return (log2 - 2) * SIM_HIST_SUB + (unsigned int)((v >> (log2 - 3)) & (SIM_HIST_SUB - 1));
}

/* The midpoint of bucket @b. */
static uint64_t value_of(unsigned int b)
{
	unsigned int log2, sub;
	uint64_t lo, width;

	if (b < SIM_HIST_SUB)
		return b;
	log2 = b / SIM_HIST_SUB + 2;
	sub = b % SIM_HIST_SUB;
	width = 1ULL << (log2 - 3);
	lo = (1ULL << log2) + sub * width;
	return lo + width / 2;
}

void sim_hist_add(struct sim_hist *h, uint64_t v)
{
	h->count[bucket_of(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

uint64_t sim_hist_pct(const struct sim_hist *h, unsigned int pct)
{
	uint64_t want, seen = 0;
	unsigned int b;

	if (!h->n)
		return 0;
	/* The smallest value with at least pct% of the samples at or below it. */
	want = (h->n * pct + 99) / 100;
	if (!want)
		want = 1;
	for (b = 0; b < SIM_HIST_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= want) {
			uint64_t v = value_of(b);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}
