/*
 * Rate limit for repeated log lines: at most @burst lines per @interval_ns
 * for one subject; the rest are counted and the count is reported with the
 * first line let through afterwards.
 */
#ifndef VS_RATELIMIT_H
#define VS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct vs_ratelimit {
	uint64_t window_start_ns; /* 0: no line yet */
	uint32_t in_window;	  /* lines let through in the current window */
	uint64_t suppressed;	  /* lines held back since the last one let through */
};

/*
 * May a line be logged at @now_ns? If so, *suppressed is how many were held
 * back since the previous line (to say so), and the count starts again.
 */
bool ratelimit_allow(struct vs_ratelimit *rl, uint64_t now_ns, uint64_t interval_ns, uint32_t burst,
		     uint64_t *suppressed);

#endif
