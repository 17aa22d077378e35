#include "ratelimit.h"

bool ratelimit_allow(struct vs_ratelimit *rl, uint64_t now_ns, uint64_t interval_ns, uint32_t burst,
		     uint64_t *suppressed)
{
	if (!rl->window_start_ns || now_ns - rl->window_start_ns >= interval_ns ||
	    now_ns < rl->window_start_ns) {
		rl->window_start_ns = now_ns ? now_ns : 1;
		rl->in_window = 0;
	}
	if (rl->in_window >= burst) {
		rl->suppressed++;
		return false;
	}
	rl->in_window++;
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}
