/* When to rescan /proc for VM threads: the decisions, without the scanning. */
#include "rescan_debounce.h"

void rescan_debounce_event(struct vs_rescan_debounce *s, uint64_t now_ns)
{
	if (!s->pending) {
		s->pending = true;
		s->first_ns = now_ns;
	}
	s->last_ns = now_ns;
}

bool rescan_debounce_due(const struct vs_rescan_debounce *s, uint64_t now_ns)
{
	if (!s->pending)
		return false;
	/* A clock that went backwards (it should not) must not hold a rescan forever. */
	if (now_ns < s->last_ns || now_ns < s->rescan_ns)
		return true;
	if (s->rescan_ns && now_ns - s->rescan_ns < VS_RESCAN_MIN_GAP_NS)
		return false;
	return now_ns - s->last_ns >= VS_RESCAN_QUIET_NS ||
	       now_ns - s->first_ns >= VS_RESCAN_MAX_DELAY_NS;
}

void rescan_debounce_done(struct vs_rescan_debounce *s, uint64_t now_ns)
{
	s->pending = false;
	s->rescan_ns = now_ns;
}

enum vs_full_rescan rescan_full_due(bool events_mode, bool events_lost, uint64_t now_ns,
				    uint64_t last_ns, uint64_t safety_ns)
{
	uint64_t period = events_mode ? safety_ns : VS_RESCAN_POLL_NS;

	if (events_mode && events_lost)
		return VS_FULL_RESCAN_OVERFLOW;
	if (now_ns >= last_ns && now_ns - last_ns < period)
		return VS_FULL_RESCAN_NONE;
	return events_mode ? VS_FULL_RESCAN_SAFETY : VS_FULL_RESCAN_POLL;
}
