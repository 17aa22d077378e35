/*
 * vmm-sched-sim: a deterministic discrete-event simulator of an SMT host
 * running VMs under vmm-sched's rules. This header is the simulated world:
 * the host's CPUs and cores, the VMs and their vCPUs, and what a scheduling
 * policy (sim_policy.h) may do to them (sim_host.c: start, stop, queue).
 */
#ifndef VS_SIM_H
#define VS_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/rules/hints.h"
#include "bpf/vmm_sched_abi.h"
#include "sim_eventq.h"
#include "sim_bound.h"
#include "sim_fair_ref.h"
#include "sim_metrics.h"
#include "sim_rng.h"
#include "sim_vmheap.h"
#include "sim_workload.h"

#define SIM_NONE    (-1)
#define SIM_MS	    1000000ULL
#define SIM_MAX_TPC 2 /* the rules' core view has VS_THREADS_PER_CORE threads */

struct sim_policy_ops;

struct sim_params {
	uint64_t seed;
	unsigned int cpus;	       /* hardware threads */
	unsigned int threads_per_core; /* 1..SIM_MAX_TPC, dividing cpus */
	unsigned int nodes;	       /* NUMA nodes, dividing the cores */
	unsigned int nr_vms;	       /* 0: the workload's counts */
	uint64_t duration_ns;
	uint64_t tick_ns;	    /* the scheduler tick (HZ=1000: 1 ms) */
	uint64_t plan_ns;	    /* the agent's share plan round (VS_SHARE_TICK_MS) */
	uint64_t vcpu_slice_ns;	    /* BPF slice_ns */
	uint64_t target_latency_ns; /* the agent's --target-latency-ms */
	int64_t pair_window_ns;	    /* the agent's --pair-window-ms, SHARE_PAIR_WINDOW_AUTO */
	uint64_t epoch_ns;	    /* policy agent: the planner's epoch (--epoch-ms) */
	uint64_t agent_delay_ns;    /* policy agent: plan to commit (--agent-delay-us) */
	bool trace;		    /* every dispatch decision on stderr */
	bool check_every_event;	    /* re-check pairing on every core after each event */
	/*
	 * Charge a kept vCPU's vtime at each refilled slice, as BPF does (at the
	 * refill and each tick); false is the what-if of the scheduler before
	 * 30 Nov 2026, which charged only when a vCPU stopped.
	 */
	bool charge_kept;
	/* Guest hints (the kinds' `hints`): --cs-extension-us and --cs-budget-pct */
	uint64_t cs_ext_ns;
	uint32_t cs_budget_pct;
	bool scan_like_bpf; /* scan every VM and CPU as BPF does, not the heaps and masks (tests) */
	const struct sim_policy_ops *policy;
};

/* The defaults of the daemon and the BPF scheduler. */
void sim_params_default(struct sim_params *p);

/* SIM_READY: runnable, neither queued nor running (between a stop and its enqueue) */
enum sim_vcpu_state { SIM_BLOCKED, SIM_READY, SIM_QUEUED, SIM_RUNNING };

struct sim_vcpu {
	uint32_t vm, idx;
	enum sim_vcpu_state state;
	int32_t cpu;	  /* running on, SIM_NONE if not */
	int32_t last_cpu; /* the CPU it last ran on (scx_bpf_task_cpu) */
	int32_t qnext, qprev;
	uint64_t runnable_at; /* when it last became runnable (wait is measured from here) */
	uint64_t started_at;
	uint64_t charged_at; /* its vtime is charged up to here */
	uint64_t slice_end;  /* its vCPU slice runs out (checked at ticks) */
	uint64_t work_left;  /* run time until it blocks; UINT64_MAX: never */
	uint64_t gen;	     /* bumped when it stops: invalidates its BLOCK event */
	bool active;	     /* ran or woke since the last plan round */
	uint64_t ext_at;     /* its slice was extended for a critical section then; 0: not */
	bool ext_done;	     /* it got its extension in this run */
};

struct sim_vm {
	const struct sim_vm_kind *kind;
	uint32_t first_vcpu, nr_vcpus;
	/* The BPF scheduler's state of the VM (vs_vm_state, vm_ctx) */
	uint64_t vtime;
	uint64_t last_run_ns;
	uint64_t waiting_since; /* its oldest queued vCPU waits since (vs_queued_stamp) */
	uint32_t bpf_weight;	/* from the share plan; 0: VS_WEIGHT_SCALE */
	uint32_t share_mcores;
	/* Its queue (the VM's DSQ, FIFO) and counts */
	int32_t qhead, qtail;
	uint32_t queued, running, owned_cores;
	uint32_t last_core; /* the core it was last given (BPF's vm_last_core) */
	/* lock model: vCPU 0 holds the lock; its run time left in this phase */
	bool locked;
	uint64_t lock_phase_left;
	uint64_t lock_since; /* the holder's phase clock runs from here while it runs */
	/* BPF's vs_vm_state, for its hint budget window (bpf/rules/hints.h) */
	struct vs_vm_state hint;
	struct sim_vm_metrics m;
};

struct sim_core {
	int32_t owner; /* VM or SIM_NONE */
	bool draining;
	uint64_t owner_since;
	uint32_t first_cpu;
	uint32_t node;
	uint32_t idle_threads;
};

struct sim_cpu {
	int32_t running; /* vCPU or SIM_NONE */
	uint32_t core, thread;
};

struct sim {
	struct sim_params p;
	struct sim_workload w;
	struct sim_rng rng;
	struct sim_eventq q;
	uint64_t now;
	uint32_t nr_cpus, nr_cores, nr_vms, nr_vcpus, tpc;
	struct sim_cpu *cpus;
	struct sim_core *cores;
	struct sim_vm *vms;
	struct sim_vcpu *vcpus;
	/* VMs with queued vCPUs: bit v of word v / 64, walked in VM order as BPF scans */
	uint64_t *queued_mask;
	uint32_t mask_words;
	/* Cores by index (bit c of word c / 64): each VM's own, and the wholly empty ones */
	uint64_t *owned_mask; /* core_words per VM */
	uint64_t *empty_cores;
	uint32_t core_words;
	/* The same VMs by (vtime, id), those with 2+ queued by (vtime, id), and by wait */
	struct sim_vmheap by_vtime, pair_by_vtime, by_waiting;
	/* The agent's plan as BPF sees it */
	uint64_t core_slice_ns, pair_window_ns;
	bool caps_in_use, reserves_in_use;
	uint64_t vtime_floor;
	/* sweep timer (one bpf_timer: a new start replaces the pending one) */
	uint64_t sweep_gen;
	const struct sim_policy_ops *policy;
	void *policy_data;
	void *plan_work; /* sim_plan.c */
	struct sim_totals t;
	struct sim_bound bound;
	struct sim_fair_ref fair_ref;
};

/* Builds the world; 0, or -1 with a message in @err. */
int sim_init(struct sim *s, const struct sim_params *p, const struct sim_workload *w, char *err,
	     size_t errlen);
void sim_free(struct sim *s);
/* Runs to p.duration_ns; 0, or -1 (out of memory). */
int sim_run(struct sim *s);

/* --- What policies may do (sim_host.c) --- */

static inline struct sim_core *sim_core_of(struct sim *s, uint32_t cpu)
{
	return &s->cores[s->cpus[cpu].core];
}
static inline uint32_t sim_sibling(struct sim *s, uint32_t cpu, uint32_t th)
{
	return sim_core_of(s, cpu)->first_cpu + th;
}
/* The cores @vm owns, core_words words. */
static inline uint64_t *sim_owned_mask(struct sim *s, int32_t vm)
{
	return &s->owned_mask[(size_t)vm * s->core_words];
}
/* VM of the vCPU running on @cpu, or SIM_NONE. */
int32_t sim_running_vm(const struct sim *s, uint32_t cpu);
/* Puts @v at the tail of its VM's queue. */
void sim_enqueue(struct sim *s, struct sim_vcpu *v);
/* First queued vCPU of @vm, or NULL. */
struct sim_vcpu *sim_queue_first(struct sim *s, int32_t vm);
/* Takes @v off its queue and runs it on idle @cpu now (checks pairing). */
void sim_start(struct sim *s, uint32_t cpu, struct sim_vcpu *v);
/* Takes the vCPU on @cpu off it, charging its run; it stays runnable (not queued). */
struct sim_vcpu *sim_preempt(struct sim *s, uint32_t cpu);
/* The core of @cpu now belongs to @vm (SIM_NONE: nobody). */
void sim_set_owner(struct sim *s, struct sim_core *core, int32_t vm);
/* Re-arms the sweep timer at now + @delay (replacing a pending one). */
void sim_request_sweep(struct sim *s, uint64_t delay);
/* Makes @cpu reschedule now (scx_bpf_kick_cpu with SCX_KICK_PREEMPT). */
void sim_kick(struct sim *s, uint32_t cpu);
/* Charges @v's VM the vtime of its run since it was last charged. */
void sim_charge(struct sim *s, struct sim_vcpu *v);
/* Raises @vm's vtime to @vtime (never lowers: counts a regression if asked to). */
void sim_set_vtime(struct sim *s, struct sim_vm *vm, uint64_t vtime);
/* Ends @vm's stretch with queued vCPUs and no start at now (the run's end). */
void sim_end_starve(struct sim *s, struct sim_vm *vm);
/* Brings one VM's integrals up to now (before changing its share or lock). */
void sim_vm_account(struct sim *s, struct sim_vm *vm);
/* Updates the integrals up to now (call before changing what they integrate). */
void sim_integrate(struct sim *s);

/* --- Guest hints (sim_hints.c) --- */

/* The VS_HINT_* flags @v's guest publishes now. */
uint32_t sim_hint_of(const struct sim *s, const struct sim_vcpu *v);
/* @v ran @ran ns: its VM's hint budget window counts it. */
void sim_hint_charge_run(struct sim *s, struct sim_vcpu *v, uint64_t ran);
/* At a tick that would end @v's slice for @cut: extend it for a critical section? */
bool sim_hint_extend(struct sim *s, struct sim_vcpu *v, enum vs_cut cut);
/* @v's extension, if any, ends now (a tick, its timer, or a stop): its VM's budget pays. */
void sim_hint_end_extension(struct sim *s, struct sim_vcpu *v);

#endif
