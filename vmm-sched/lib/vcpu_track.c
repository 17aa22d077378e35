#include "vcpu_track.h"

const char *vcpu_state_name(enum vs_vcpu_state state)
{
	switch (state) {
	case VS_VCPU_RUNNABLE:
		return "runnable";
	case VS_VCPU_RUNNING:
		return "running";
	case VS_VCPU_BLOCKED:
		return "blocked";
	case VS_VCPU_DEPARTED:
		return "departed";
	case VS_VCPU_DEAD:
		return "dead";
	case VS_VCPU_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *msg_type_name(uint16_t type)
{
	static const char *const names[] = {
	    [VS_MSG_VCPU_NEW] = "new",	       [VS_MSG_VCPU_WAKEUP] = "wakeup",
	    [VS_MSG_VCPU_BLOCKED] = "blocked", [VS_MSG_VCPU_PREEMPTED] = "preempted",
	    [VS_MSG_VCPU_YIELD] = "yield",     [VS_MSG_VCPU_DEPARTED] = "departed",
	    [VS_MSG_VCPU_DEAD] = "dead",       [VS_MSG_VCPU_ON_CPU] = "on-cpu",
	    [VS_MSG_VCPU_ESCAPED] = "escaped",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "invalid";
}

bool msg_valid(const struct vs_msg *m, uint32_t len)
{
	return m && len >= sizeof(*m) && m->length == sizeof(*m) && m->type >= VS_MSG_VCPU_NEW &&
	       m->type <= VS_MSG_VCPU_ESCAPED && m->cpu >= 0 && m->cpu < VS_MAX_CPUS;
}

/* Serial-number comparison: true if a is after b, across wrap-around. */
static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* The state a vCPU is in after a message of @type about it. */
static enum vs_vcpu_state state_after(uint16_t type)
{
	switch (type) {
	case VS_MSG_VCPU_NEW:
	case VS_MSG_VCPU_WAKEUP:
	case VS_MSG_VCPU_PREEMPTED:
	case VS_MSG_VCPU_YIELD:
	case VS_MSG_VCPU_ESCAPED: /* when seen as the last message; applied, it changes nothing */
		return VS_VCPU_RUNNABLE;
	case VS_MSG_VCPU_ON_CPU:
		return VS_VCPU_RUNNING;
	case VS_MSG_VCPU_BLOCKED:
		return VS_VCPU_BLOCKED;
	case VS_MSG_VCPU_DEPARTED:
		return VS_VCPU_DEPARTED;
	case VS_MSG_VCPU_DEAD:
		return VS_VCPU_DEAD;
	}
	return VS_VCPU_UNKNOWN;
}

void vcpu_track_init(struct vs_vcpu_track *t)
{
	*t = (struct vs_vcpu_track){.state = VS_VCPU_UNKNOWN, .cpu = -1};
}

enum vs_apply_result vcpu_track_apply(struct vs_vcpu_track *t, const struct vs_msg *m)
{
	if (!msg_valid(m, m ? m->length : 0))
		return VS_INVALID;
	if (m->type == VS_MSG_VCPU_WAKEUP || m->type == VS_MSG_VCPU_ON_CPU)
		t->active = true;
	if (t->seen && !seq_after(m->seqnum, t->seqnum)) {
		t->stale++;
		return VS_STALE;
	}
	t->seen = true;
	t->seqnum = m->seqnum;
	t->last_event_ns = m->timestamp;
	t->applied++;
	if (m->type == VS_MSG_VCPU_ON_CPU)
		t->cpu = m->cpu;
	if (m->type != VS_MSG_VCPU_ESCAPED) {
		t->state = state_after(m->type);
		t->last_type = m->type;
	}
	return VS_APPLIED;
}

void vcpu_track_resync(struct vs_vcpu_track *t, uint32_t seqnum, uint32_t last_msg, int last_cpu)
{
	t->seen = true;
	t->seqnum = seqnum;
	t->state = last_msg >= VS_MSG_VCPU_NEW && last_msg <= VS_MSG_VCPU_ESCAPED
		       ? state_after((uint16_t)last_msg)
		       : VS_VCPU_UNKNOWN;
	if (last_cpu >= 0 && last_cpu < VS_MAX_CPUS)
		t->cpu = last_cpu;
	t->last_type = t->state != VS_VCPU_UNKNOWN ? (uint16_t)last_msg : 0;
	t->resyncs++;
	t->active = true;
}

bool vcpu_track_known_runnable(const struct vs_vcpu_track *t)
{
	return t->seen && (t->state == VS_VCPU_RUNNING ||
			   (t->state == VS_VCPU_RUNNABLE && t->last_type != VS_MSG_VCPU_NEW));
}

bool vcpu_track_take_active(struct vs_vcpu_track *t)
{
	bool active = t->active || t->state == VS_VCPU_RUNNING || t->state == VS_VCPU_RUNNABLE;

	t->active = false;
	return active;
}

void cpu_track_init(struct vs_cpu_track *c)
{
	*c = (struct vs_cpu_track){0};
}

enum vs_apply_result cpu_track_apply(struct vs_cpu_track *c, const struct vs_msg *m)
{
	if (!msg_valid(m, m ? m->length : 0))
		return VS_INVALID;
	if (c->seen && !seq_after(m->cpu_seqnum, c->cpu_seqnum)) {
		c->stale++;
		return VS_STALE;
	}
	c->seen = true;
	c->cpu_seqnum = m->cpu_seqnum;
	if (m->type == VS_MSG_VCPU_ON_CPU)
		c->running_tid = (int)m->tid;
	else if (m->type != VS_MSG_VCPU_ESCAPED && c->running_tid == (int)m->tid)
		c->running_tid = 0;
	return VS_APPLIED;
}

void cpu_track_resync(struct vs_cpu_track *c, uint32_t cpu_seqnum, int running_tid)
{
	c->seen = true;
	c->cpu_seqnum = cpu_seqnum;
	c->running_tid = running_tid;
}
