/*
 * The simulator's random numbers: splitmix64, one stream per simulation,
 * seeded from --seed, so a run is a pure function of its seed and inputs.
 */
#ifndef VS_SIM_RNG_H
#define VS_SIM_RNG_H

#include <math.h>
#include <stdint.h>

struct sim_rng {
	uint64_t s;
};

static inline uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n 0 gives 0. */
static inline uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
	return n ? sim_rng_next(r) % n : 0;
}

/* Exponentially distributed with the given mean, at least 1. */
static inline uint64_t sim_rng_exp(struct sim_rng *r, uint64_t mean)
{
	/* 53 random bits in (0, 1]: never log(0). */
	double u = ((double)(sim_rng_next(r) >> 11) + 1.0) / 9007199254740992.0;
	double x = -log(u) * (double)mean;

	return x < 1.0 ? 1 : x > 1e18 ? (uint64_t)1e18 : (uint64_t)x;
}

#endif
