/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Agent transactions (vs_commit).
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/* Transactions: the agent's explicit placements (see vmm_sched_abi.h). */

/*
 * A vCPU a VS_TXN_F_TAKE_CORE commit took a core for, waiting (claimed for
 * its CPU, still on its VM's DSQ) until the sibling no longer runs the old
 * VM; by CPU, tid 0: none. The take timer moves it (txn_take_timer_fn).
 */
struct txn_take {
	u32 tid;
	u32 slot;
	s32 vm;
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_MAX_CPUS);
	__type(key, u32);
	__type(value, struct txn_take);
} txn_takes_pending SEC(".maps");
__u64 txn_takes; /* commits that took a core from another VM */

struct take_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct take_timer);
} take_timer SEC(".maps");

static void request_take_check(u64 delay_ns)
{
	u32 zero = 0;
	struct take_timer *tt = bpf_map_lookup_elem(&take_timer, &zero);

	if (tt)
		bpf_timer_start(&tt->timer, delay_ns, 0);
}

/*
 * Move each waiting taken vCPU onto its CPU once the sibling runs nothing of
 * another VM (running or still switching away from it). Runs outside any rq
 * lock, as a move into another CPU's local DSQ needs.
 */
static int txn_take_timer_fn(void *map, int *key, struct take_timer *tt)
{
	bool waiting = false;
	u32 cpu;

	bpf_for(cpu, 0, nr_cpus)
	{
		struct txn_take *tk = bpf_map_lookup_elem(&txn_takes_pending, &cpu);
		struct vs_core_state *core;
		struct vs_claim *c;
		bool ready;
		u32 tid, th;
		s32 vm;

		if (!tk || !tk->tid)
			continue;
		tid = tk->tid;
		vm = tk->vm;
		core = core_of(cpu, &th);
		c = claim_of_slot(tk->slot);
		if (!core || !c) {
			tk->tid = 0;
			continue;
		}
		bpf_spin_lock(&core->lock);
		ready = !sibling_runs_other(core, th, vm);
		bpf_spin_unlock(&core->lock);
		if (!ready) {
			waiting = true;
			continue;
		}
		tk->tid = 0;
		/* Lost if a dequeue released the claim (and the CPU's claim with it). */
		if (!claim_taken_back(c, cpu) ||
		    !move_vcpu(vm, cpu, SCX_DSQ_LOCAL_ON | cpu, tid, NULL))
			take_started[tk->slot & (VS_MAX_VCPUS - 1)] = 0;
	}
	if (waiting)
		request_take_check(100 * 1000);
	return 0;
}

struct txn_member {
	struct vs_txn_facts f;
	u32 cpu;
	u32 tid;
	u32 slot;
	u32 outcome;
	u32 enclave; /* of the vCPU's VM */
	int take_core;
};

/* Is vCPU @tid of @vm waiting, uncommitted, on its VM's DSQ? */
static bool vcpu_waiting(s32 vm, u32 tid)
{
	struct bpf_iter_scx_dsq it;
	struct task_struct *p;
	bool found = false;

	if (vm < 0 || vm >= vs_max_vms)
		return false;
	bpf_iter_scx_dsq_new(&it, VS_DSQ_VM(vm), 0);
	while ((p = bpf_iter_scx_dsq_next(&it))) {
		if (p->pid == tid) {
			found = true;
			break;
		}
	}
	bpf_iter_scx_dsq_destroy(&it);
	return found;
}

/*
 * Would one more core put @vm over its cap (asked only for a TAKE_CORE commit,
 * @flags)? Global, so the verifier checks its loop over the cores once, not
 * at every commit path that inlines it.
 */
__noinline int txn_vm_at_cap(s32 vm, u32 flags)
{
	if (!(flags & VS_TXN_F_TAKE_CORE))
		return 0;
	return !vm_within_cap(vm, false);
}

/* The facts about slot @cpu that need no lock. */
static void txn_gather(struct txn_member *m, u32 cpu, struct vs_txn *tx)
{
	struct vs_vcpu_stats *st;
	struct vs_vcpu_id *id;
	struct vs_claim *c;
	u32 tid = tx->tid, slot;

	m->cpu = cpu;
	m->tid = tid;
	m->f.seq_txn = tx->seqnum;
	m->f.vm = VS_VM_NONE;
	id = bpf_map_lookup_elem(&vcpu_map, &tid);
	if (!id || id->vm_id >= vs_max_vms)
		return;
	slot = id->slot;
	m->slot = slot;
	st = bpf_map_lookup_elem(&vcpu_stats, &slot);
	c = claim_of_slot(slot);
	if (!st || !c)
		return;
	m->f.known_vcpu = 1;
	m->f.vm = id->vm_id;
	m->enclave = vm_enclave(id->vm_id);
	m->f.seq_now = st->seqnum;
	m->f.queued = !c->cpu1 && vcpu_waiting(m->f.vm, tid);
	/* Without branches here: the verifier then walks one state on, not two. */
	m->f.may_take_core = !!(tx->flags & VS_TXN_F_TAKE_CORE);
	m->f.at_cap = txn_vm_at_cap(m->f.vm, tx->flags);
}

/* The facts about thread @th of @core; called with the core locked. */
static void txn_core_facts(struct txn_member *m, struct vs_core_state *core, u32 th)
{
	m->f.in_enclave = core_open_to(core, m->enclave);
	m->f.host_blocks = host_blocks(core, th ^ 1);
	m->f.owner = core->owner;
	m->f.draining = core->draining;
	m->f.this_running = core->running_vm[th & 1];
	/*
	 * Both: a sibling switching from another VM to this one runs the other
	 * until the switch, and one switching from this VM to another has
	 * already recorded the other (its claim has ended).
	 */
	m->f.sib_running = core->running_vm[(th ^ 1) & 1];
	m->f.sib_leaving = core->leaving_vm[(th ^ 1) & 1];
	m->f.claims = core->claims[0] + core->claims[1];
}

static void txn_finish(struct vs_txn *tx, u32 outcome)
{
	if (outcome >= VS_TXN_NR_OUTCOMES)
		outcome = VS_TXN_BAD_SLOT;
	tx->outcome = outcome;
	tx->committed_at = bpf_ktime_get_ns();
	__sync_fetch_and_add(&txn_outcomes[outcome], 1);
	__sync_lock_test_and_set(&tx->state, VS_TXN_DONE);
}

/*
 * Move a decided member's vCPU onto its CPU (@held: its claim, if the caller
 * took it); on a lost race the claims go back.
 */
static u32 txn_move(struct txn_member *m, struct vs_claim *held)
{
	if (move_vcpu(m->f.vm, m->cpu, SCX_DSQ_LOCAL_ON | m->cpu, m->tid, held))
		return VS_TXN_COMPLETE;
	return VS_TXN_NOT_RUNNABLE;
}

/*
 * Takes the claim of a decided member's vCPU for its CPU; NULL if another
 * path holds it.
 */
static struct vs_claim *claim_member(struct txn_member *m)
{
	struct vs_claim *c = claim_of_slot(m->slot);

	return c && __sync_val_compare_and_swap(&c->cpu1, 0, m->cpu + 1) == 0 ? c : NULL;
}

/*
 * A group member was taken by another path before the moves: neither moves.
 * @a_claim: member a's claim, taken before b's failed (unless a dequeue has
 * released it since, dropping a's CPU claim with it).
 */
static void txn_abort_group(struct txn_member *a, struct txn_member *b, struct vs_claim *a_claim,
			    struct vs_txn *tx0, struct vs_txn *tx1)
{
	if (!a_claim || claim_taken_back(a_claim, a->cpu))
		drop_claim(a->cpu);
	drop_claim(b->cpu);
	txn_finish(tx0, a_claim ? VS_TXN_GROUP_FAILED : VS_TXN_NOT_RUNNABLE);
	txn_finish(tx1, a_claim ? VS_TXN_NOT_RUNNABLE : VS_TXN_GROUP_FAILED);
}

/*
 * A decided member that took its core from another VM (VS_TXN_TAKE_BUSY; the
 * core is its VM's, its thread carries the claim): claim its vCPU (unless
 * @held) and leave it to the take timer, which moves it once the sibling is
 * off the old VM; kick the threads still running another VM.
 */
static u32 txn_take_busy(struct txn_member *m, struct vs_claim *held, struct vs_core_state *core)
{
	struct txn_take *tk = bpf_map_lookup_elem(&txn_takes_pending, &m->cpu);
	s32 sib = m->cpu == (u32)core->cpu[0] ? core->cpu[1] : core->cpu[0];

	if (!tk) {
		/* Not reachable for an enclave CPU; give the claims back. */
		if (!held || claim_taken_back(held, m->cpu))
			drop_claim(m->cpu);
		return VS_TXN_NOT_RUNNABLE;
	}
	if (!held && !claim_member(m)) {
		drop_claim(m->cpu);
		return VS_TXN_NOT_RUNNABLE;
	}
	take_started[m->slot & (VS_MAX_VCPUS - 1)] = bpf_ktime_get_ns();
	tk->slot = m->slot;
	tk->vm = m->f.vm;
	tk->tid = m->tid;
	__sync_fetch_and_add(&txn_takes, 1);
	if (m->f.this_running != VS_VM_NONE && m->f.this_running != m->f.vm)
		kick_cpu(m->cpu);
	if ((m->f.sib_running != VS_VM_NONE && m->f.sib_running != m->f.vm) ||
	    (m->f.sib_leaving != VS_VM_NONE && m->f.sib_leaving != m->f.vm))
		kick_cpu(sib);
	request_take_check(0);
	return VS_TXN_COMPLETE;
}

static u32 txn_commit_single(u32 cpu, struct vs_txn *tx)
{
	struct txn_member m = {};
	struct vs_core_state *core;
	u64 now = bpf_ktime_get_ns();
	u32 th;

	txn_gather(&m, cpu, tx);
	m.f.owner = VS_VM_NONE;
	m.f.this_running = m.f.sib_running = m.f.sib_leaving = VS_VM_NONE;
	core = core_of(cpu, &th);
	if (!core)
		return vs_txn_decide(&m.f, &m.take_core);
	bpf_spin_lock(&core->lock);
	txn_core_facts(&m, core, th);
	m.outcome = vs_txn_decide(&m.f, &m.take_core);
	if (m.outcome == VS_TXN_COMPLETE) {
		if (m.take_core)
			set_owner(core, m.f.vm, now);
		core->claims[th & 1]++;
	}
	bpf_spin_unlock(&core->lock);
	if (m.outcome != VS_TXN_COMPLETE)
		return m.outcome;
	if (m.take_core == VS_TXN_TAKE_BUSY)
		return txn_take_busy(&m, NULL, core);
	return txn_move(&m, NULL);
}

/*
 * A group commit: both threads of one core, vCPUs of one VM, decided on one
 * snapshot of the core under its lock: both commit or neither does.
 */
static void txn_commit_group(u32 cpu0, struct vs_txn *tx0, u32 cpu1, struct vs_txn *tx1)
{
	struct txn_member a = {}, b = {};
	struct vs_claim *a_claim, *b_claim;
	struct vs_core_state *core;
	u64 now = bpf_ktime_get_ns();
	int take;
	u32 th;

	txn_gather(&a, cpu0, tx0);
	txn_gather(&b, cpu1, tx1);
	core = core_of(cpu0, &th);
	if (!core) {
		txn_finish(tx0, VS_TXN_NOT_IN_ENCLAVE);
		txn_finish(tx1, VS_TXN_GROUP_FAILED);
		return;
	}
	bpf_spin_lock(&core->lock);
	txn_core_facts(&a, core, th);
	txn_core_facts(&b, core, th ^ 1);
	a.outcome = vs_txn_decide(&a.f, &a.take_core);
	b.outcome = vs_txn_decide(&b.f, &b.take_core);
	if (vs_txn_decide_group(a.outcome, a.take_core, a.f.vm, b.outcome, b.take_core, b.f.vm,
				&a.outcome, &b.outcome, &take)) {
		if (take)
			set_owner(core, a.f.vm, now);
		core->claims[0]++;
		core->claims[1]++;
	}
	bpf_spin_unlock(&core->lock);
	if (a.outcome != VS_TXN_COMPLETE || b.outcome != VS_TXN_COMPLETE) {
		txn_finish(tx0, a.outcome);
		txn_finish(tx1, b.outcome);
		return;
	}
	/*
	 * Both claims before either move: a CPU dispatching meanwhile cannot take
	 * one member from its DSQ (it must win the same compare-and-swap).
	 */
	a_claim = claim_member(&a);
	if (!a_claim) {
		txn_abort_group(&a, &b, NULL, tx0, tx1);
		return;
	}
	b_claim = claim_member(&b);
	if (!b_claim) {
		txn_abort_group(&a, &b, a_claim, tx0, tx1);
		return;
	}
	if (take == VS_TXN_TAKE_BUSY) {
		/* Both wait for the old VM to leave the core: the take timer moves each. */
		a.outcome = txn_take_busy(&a, a_claim, core);
		b.outcome = txn_take_busy(&b, b_claim, core);
		__sync_fetch_and_sub(&txn_takes, 1); /* one core taken, counted once */
	} else {
		a.outcome = txn_move(&a, a_claim);
		b.outcome = txn_move(&b, b_claim);
	}
	if (a.outcome != b.outcome)
		__sync_fetch_and_add(&txn_group_partial, 1);
	txn_finish(tx0, a.outcome);
	txn_finish(tx1, b.outcome);
}

/*
 * Commit every pending transaction slot. Run by the agent (BPF_PROG_RUN), like
 * ghOSt's commit syscall; outside any rq lock, so it may move vCPUs into any
 * CPU's local DSQ. A group slot is committed together with its sibling's.
 */
SEC("syscall")
int vs_commit(struct vs_commit_args *args)
{
	u32 cpu, committed = 0, complete = 0;

	/* The DSQ iterator needs RCU; struct_ops programs have it implicitly, syscall ones do not.
	 */
	bpf_rcu_read_lock();
	bpf_for(cpu, 0, nr_cpus)
	{
		struct vs_txn *tx = bpf_map_lookup_elem(&txns, &cpu), *sx;
		struct vs_cpu_ctx *c;
		u32 sib, outcome;

		if (!tx || tx->state != VS_TXN_PENDING)
			continue;
		if (tx->flags & ~(VS_TXN_F_GROUP | VS_TXN_F_TAKE_CORE)) {
			txn_finish(tx, VS_TXN_BAD_SLOT);
			committed++;
			continue;
		}
		if (!(tx->flags & VS_TXN_F_GROUP)) {
			outcome = txn_commit_single(cpu, tx);
			txn_finish(tx, outcome);
			committed++;
			complete += outcome == VS_TXN_COMPLETE;
			continue;
		}
		c = cpu_ctx_of(cpu);
		sib = c && c->sibling >= 0 ? c->sibling : cpu;
		sx = bpf_map_lookup_elem(&txns, &sib);
		if (!sx || sib == cpu || sx->state != VS_TXN_PENDING ||
		    !(sx->flags & VS_TXN_F_GROUP)) {
			txn_finish(tx, VS_TXN_BAD_SLOT);
			committed++;
			continue;
		}
		txn_commit_group(cpu, tx, sib, sx);
		committed += 2;
		complete += (tx->outcome == VS_TXN_COMPLETE) + (sx->outcome == VS_TXN_COMPLETE);
	}
	bpf_rcu_read_unlock();
	args->committed = committed;
	args->complete = complete;
	return 0;
}
