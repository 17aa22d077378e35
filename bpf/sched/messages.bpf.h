/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Messages to the agent through the ring buffer.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/*
 * The agent is off the critical path, so most messages wake nobody: it reads
 * the ring on a timer (VS_MSG_DRAIN_MS in the daemon). A vCPU's arrival or
 * departure wakes it at once, and so does a ring a quarter full, well before
 * a burst could overflow it.
 */
static u64 msg_wakeup(u16 type)
{
	if (type == VS_MSG_VCPU_NEW || type == VS_MSG_VCPU_DEPARTED || type == VS_MSG_VCPU_DEAD ||
	    type == VS_MSG_VCPU_ESCAPED)
		return BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_query(&messages, BPF_RB_AVAIL_DATA) >
	    bpf_ringbuf_query(&messages, BPF_RB_RING_SIZE) / 4)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static void send_msg(struct vs_task *t, struct vs_vcpu_stats *st, u16 type)
{
	struct vs_cpu_stats *cs = cpu_stats_of(bpf_get_smp_processor_id());
	struct vs_msg *m;
	u32 seq = __sync_add_and_fetch(&st->seqnum, 1);

	/* Kept even when the message is dropped: the agent resyncs from it. */
	st->last_msg = type;
	m = bpf_ringbuf_reserve(&messages, sizeof(*m), 0);
	if (!m) {
		__sync_fetch_and_add(&msg_drops, 1);
		return;
	}
	m->type = type;
	m->length = sizeof(*m);
	m->seqnum = seq;
	m->tid = st->tid;
	m->vm_id = t->vm_id;
	m->vcpu_index = t->vcpu_index;
	m->cpu = bpf_get_smp_processor_id();
	m->cpu_seqnum = cs ? __sync_add_and_fetch(&cs->cpu_seqnum, 1) : 0;
	m->slot = t->slot;
	m->timestamp = bpf_ktime_get_ns();
	m->runtime = st->run_ns;
	bpf_ringbuf_submit(m, msg_wakeup(type));
}
