/*
 * The agent's view of each vCPU and CPU, rebuilt from kernel messages
 * (bpf/vmm_sched_abi.h). Messages about one vCPU carry its seqnum; messages
 * from one CPU carry that CPU's cpu_seqnum. Ring-buffer delivery interleaves
 * CPUs, so a message older than what was applied is counted and ignored.
 */
#ifndef VS_VCPU_TRACK_H
#define VS_VCPU_TRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/vmm_sched_abi.h"

enum vs_vcpu_state {
	VS_VCPU_UNKNOWN = 0,
	VS_VCPU_RUNNABLE,
	VS_VCPU_RUNNING,
	VS_VCPU_BLOCKED,
	VS_VCPU_DEPARTED,
	VS_VCPU_DEAD,
};

struct vs_vcpu_track {
	bool seen;
	uint32_t seqnum;
	enum vs_vcpu_state state;
	int cpu; /* where it runs or last ran, -1 if never */
	uint64_t last_event_ns;
	uint64_t applied, stale, resyncs;
	/* Woke or got a CPU (or was resynced) since vcpu_track_take_active() last asked. */
	bool active;
	uint16_t last_type; /* the latest message's type (VS_MSG_VCPU_*), 0: none */
};

struct vs_cpu_track {
	bool seen;
	uint32_t cpu_seqnum;
	int running_tid; /* the vCPU this CPU last reported running, 0 if none */
	uint64_t stale;
};

enum vs_apply_result { VS_APPLIED = 0, VS_STALE = 1, VS_INVALID = -1 };

const char *vcpu_state_name(enum vs_vcpu_state state);
const char *msg_type_name(uint16_t type);
/* True if m is a well-formed message the agent understands. */
bool msg_valid(const struct vs_msg *m, uint32_t len);
void vcpu_track_init(struct vs_vcpu_track *t);
enum vs_apply_result vcpu_track_apply(struct vs_vcpu_track *t, const struct vs_msg *m);
/*
 * After messages were lost (ring buffer full, agent restarted): take the
 * vCPU's state from what the scheduler keeps in its maps (vcpu_stats: seqnum,
 * last_msg, last_cpu). Older messages still queued then count as stale.
 */
void vcpu_track_resync(struct vs_vcpu_track *t, uint32_t seqnum, uint32_t last_msg, int last_cpu);
/*
 * Did the vCPU want a CPU since the last call: it woke or ran (a WAKEUP or
 * ON_CPU message, stale ones included: the event happened), is runnable or
 * running now, or was resynced (messages were lost: assume it did)? The
 * agent's demand comes from this alone (docs/design.md, "One source of demand").
 */
bool vcpu_track_take_active(struct vs_vcpu_track *t);
/*
 * Known to run or want a CPU, by the messages: running, or runnable since a
 * wakeup or preemption. A vCPU whose latest message is VCPU_NEW entered
 * SCHED_EXT possibly asleep (a paused VM): not known runnable until it wakes
 * or runs. The planner's epochs run only while some vCPU is.
 */
bool vcpu_track_known_runnable(const struct vs_vcpu_track *t);
void cpu_track_init(struct vs_cpu_track *c);
enum vs_apply_result cpu_track_apply(struct vs_cpu_track *c, const struct vs_msg *m);
/* The same for a CPU: cpu_stats.cpu_seqnum and the vCPU core_state says runs there (0: none). */
void cpu_track_resync(struct vs_cpu_track *c, uint32_t cpu_seqnum, int running_tid);

#endif
