/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The enclave gate (vs_core_gate): how the agent moves a core between enclaves.
 * Part of bpf/vmm_sched.bpf.c, which includes the bpf/sched headers in order:
 * each may use what the headers before it define.
 */

/*
 * The agent's gate for moving a core between enclaves (struct
 * vs_core_gate_args). Closing stops the core taking vCPUs (every claim path
 * checks `closed` under the lock) and kicks what runs there; the agent calls
 * again until it reports empty, then changes cpu_ctx and opens the core,
 * which takes its enclave and pairing from there, unowned.
 */
SEC("syscall")
int vs_core_gate(struct vs_core_gate_args *args)
{
	struct vs_core_state *core;
	struct vs_enclave_ctx *ec;
	struct vs_gate_close gate;
	struct vs_core_view view;
	s32 cpu0, kick0 = -1, kick1 = -1;
	u32 enclave = VS_MAX_ENCLAVES, strict = 1;
	struct vs_cpu_ctx *c;
	u64 now = bpf_ktime_get_ns();

	cpu0 = args->core_cpu;
	if (cpu0 < 0 || cpu0 >= VS_MAX_CPUS)
		return -1;
	c = cpu_ctx_of(cpu0);
	if (!c)
		return -1;
	/* Found whether or not the CPU is in an enclave now: core_of() needs that. */
	{
		u32 key = c->core_id;

		core = bpf_map_lookup_elem(&core_state, &key);
	}
	if (!core)
		return -1;
	if (c->flags & VS_CPU_IN_ENCLAVE)
		enclave = c->enclave;
	ec = enclave_ctx_of(enclave);
	if (ec && (ec->flags & VS_ENCLAVE_USED))
		strict = ec->pairing == VS_PAIRING_STRICT;
	bpf_spin_lock(&core->lock);
	if (args->open) {
		core->enclave = enclave;
		core->strict = strict;
		count_owner_change(core->owner, VS_VM_NONE);
		core->owner = VS_VM_NONE;
		core->owner_since = now;
		core->draining = 0;
		core->host[0] = core->host[1] = 0;
		core->closed = enclave >= VS_MAX_ENCLAVES;
		args->empty = 0;
	} else {
		core->closed = 1;
		core_view_read(core, &view);
		gate = vs_gate_close(&view);
		args->empty = gate.empty;
		/* Empty, it may be moved or rewritten by the agent: it counts for no VM now. */
		if (gate.empty) {
			count_owner_change(core->owner, VS_VM_NONE);
			core->owner = VS_VM_NONE;
		}
		if (gate.kick[0])
			kick0 = core->cpu[0];
		if (gate.kick[1])
			kick1 = core->cpu[1];
	}
	bpf_spin_unlock(&core->lock);
	if (kick0 >= 0 && bpf_ksym_exists(scx_bpf_kick_cpu))
		scx_bpf_kick_cpu(kick0, SCX_KICK_PREEMPT);
	if (kick1 >= 0 && bpf_ksym_exists(scx_bpf_kick_cpu))
		scx_bpf_kick_cpu(kick1, SCX_KICK_PREEMPT);
	return 0;
}
