/* The deterministic xorshift64 generator the randomized tests and benchmarks share. */
#ifndef VS_TESTS_XORSHIFT_H
#define VS_TESTS_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64_next(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif
