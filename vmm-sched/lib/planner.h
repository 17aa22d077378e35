/*
 * The agent's core planner (issue 14), pure: from a plain view of an enclave
 * (its cores, its VMs' shares and runnable vCPUs) decide for the next epoch
 * which VM owns each core and which vCPU runs on each of its threads. The
 * agent (or the simulator) turns the plan into transactions with
 * planner_txn.h; BPF latches them, and decides locally wherever no latched
 * decision is live.
 *
 * Rules, in order:
 *  - Never two VMs on one core. A core given to a VM runs only its vCPUs; a
 *    core with one of them leaves the sibling idle.
 *  - Cores refused to the plan this epoch (planner_txn_apply), and cores
 *    with a host task on a thread under strict pairing, are left out: BPF's
 *    local rules run them. Relaxed, such a core takes one vCPU, and is
 *    handed out after the cores with both threads free.
 *  - A VM wants ceil(runnable vCPUs / threads per core) cores, at most its
 *    cap. Reservations first: a VM with reserve R gets min(R, want) cores,
 *    most owed VM first if they do not all fit. Then the other cores go one
 *    at a time to the most owed VM that still wants one.
 *  - "Owed" is a per-VM deficit carried across epochs: share x elapsed time -
 *    core time delivered (a core owned for the epoch delivers its length).
 *    Each core granted lowers the VM's key by one epoch, so cores spread in
 *    proportion to what is owed. A VM without demand banks no credit, and
 *    the deficit is clamped (PLANNER_CLAMP_EPOCHS) so a long-idle or
 *    long-alone VM neither hoards nor owes without bound.
 *  - Which cores: a VM keeps the cores it owns now (those its vCPUs run on
 *    first, then those on its home node), then takes free ones on its home
 *    node, then elsewhere, idle ones first: the scheduler refuses a commit
 *    onto a core where another VM's vCPU runs (wrong_vm). Owner changes,
 *    and those of busy cores, are counted.
 *  - Which vCPUs: the longest-waiting ones, packed two to a core, each on
 *    the thread it is committed to (seqnum unchanged since) or else last
 *    ran on, when that thread is the VM's, so a VM's vCPUs fill both
 *    siblings of a core before taking another core, and a committed vCPU
 *    is not planned elsewhere (the scheduler would refuse: not_runnable).
 *
 * Deterministic (ties go to the lower VM id, core index, vCPU slot), no
 * allocation and no syscalls in planner_plan_epoch(): all working memory is
 * carved out of the caller's buffer at planner_state_init(). Cost O(n log n)
 * in cores + VMs + vCPUs: a bounded heap keeps the VMs that can get a core
 * (as many as usable cores, plus the reserved ones), heapsorts order them
 * and each VM's vCPUs, one heap hands out the cores.
 *
 * A round: planner_check_view(), planner_plan_epoch(), planner_txn_build(),
 * commit, planner_txn_apply(), and if anything was refused, a re-plan of the
 * same epoch (elapsed_ns 0) from the refusals.
 */
#ifndef VS_PLANNER_H
#define VS_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLANNER_NONE	     (-1)
#define PLANNER_THREADS	     2	/* hardware threads per core at most */
#define PLANNER_MAX_NODES    64 /* NUMA node ids 0..63; -1: unknown */
#define PLANNER_CLAMP_EPOCHS 4	/* |deficit| <= this many epochs x max(1, share in cores) */

/* One core of the enclave, as the agent sees it now. */
struct planner_core {
	int cpu[PLANNER_THREADS];   /* the threads' CPU ids; cpu[1] = -1 without SMT */
	int node;		    /* NUMA node, -1 if unknown */
	int owner;		    /* VM id owning it now, or PLANNER_NONE */
	bool host[PLANNER_THREADS]; /* a host (non-vCPU) task runs on that thread */
	/* tid of the vCPU running on each thread now, 0 if none (planner_txn.h) */
	uint32_t running_tid[PLANNER_THREADS];
};

/* One enrolled VM of the enclave. */
struct planner_vm {
	uint32_t id;		    /* the agent's VM id, < planner_limits.max_vm_id */
	unsigned int share_mcores;  /* its share (lib/share_plan.c) in milli-cores */
	unsigned int reserve_cores; /* 0: none */
	unsigned int cap_cores;	    /* 0: none */
	int home_node;		    /* -1 if unknown */
	/* its runnable vCPUs: planner_view.vcpus[first_vcpu .. first_vcpu + nr_vcpus) */
	unsigned int first_vcpu;
	unsigned int nr_vcpus;
	/* core time its cores gave it since the last plan with elapsed_ns > 0, if measured */
	uint64_t delivered_ns;
};

/* One runnable vCPU (waiting or running). */
struct planner_vcpu {
	uint32_t slot;	  /* the vCPU's slot, < planner_limits.max_slots */
	uint32_t tid;	  /* its thread, what a transaction names */
	uint32_t seqnum;  /* the latest message seqnum the agent saw for it */
	uint64_t wait_ns; /* waited so far (0 while running) */
	int last_cpu;	  /* CPU it last ran on, -1 if none */
};

struct planner_view {
	const struct planner_core *cores;
	unsigned int nr_cores;
	const struct planner_vm *vms; /* distinct ids, any order */
	unsigned int nr_vms;
	const struct planner_vcpu *vcpus;
	unsigned int nr_vcpus;
	unsigned int threads_per_core; /* 1 or 2: every core has this many CPUs */
	uint64_t epoch_ns;	       /* length of the epoch being planned, > 0 */
	/*
	 * Time since the previous plan: the deficits advance by it. 0 re-plans
	 * the same epoch (after refusals) without charging anyone.
	 */
	uint64_t elapsed_ns;
	/*
	 * The enclave pairs relaxed (VS_PAIRING_RELAXED): a vCPU may run beside
	 * a host task, so a core with one on a thread still takes one vCPU.
	 * Strict: such a core is left to BPF.
	 */
	bool relaxed;
	/*
	 * The caller measured each VM's delivered_ns (a simulator does); else
	 * delivery is what the last plan gave, less the cores refused.
	 */
	bool measured;
};

/* Sizes of the working memory; views larger than these are refused. */
struct planner_limits {
	unsigned int max_cores;
	unsigned int max_vms;
	unsigned int max_vcpus;
	unsigned int max_vm_id; /* VM ids are < this */
	unsigned int max_slots; /* vCPU slots are < this */
	unsigned int max_cpu;	/* CPU ids are < this */
};

/* Per VM id, carried across epochs. */
struct planner_vm_state {
	int64_t deficit_ns;	/* owed core time: > 0 owed, < 0 ahead */
	uint32_t granted_cores; /* cores the last plan gave it, less refused ones */
	uint32_t pad;
};

/* Per vCPU slot. */
struct planner_vcpu_state {
	uint32_t refused_epoch; /* == epoch + 1: not runnable for the plan this epoch */
	uint32_t latched_cpu1;	/* CPU + 1 it was committed to, 0: none */
	uint32_t latched_seq;	/* its seqnum then: the commit holds while it is unchanged */
};

/* Per CPU: what the agent committed there and the scheduler latched. */
struct planner_cpu_state {
	uint32_t tid; /* 0: nothing latched */
	uint32_t seqnum;
	uint32_t refused_epoch; /* == epoch + 1: left to BPF this epoch */
};

struct planner_state {
	struct planner_limits lim;
	uint32_t epoch;			 /* advances with each plan whose elapsed_ns > 0 */
	struct planner_vm_state *vm;	 /* [max_vm_id] */
	struct planner_vcpu_state *vcpu; /* [max_slots] */
	struct planner_cpu_state *cpu;	 /* [max_cpu] */
	/* working memory of one plan */
	int64_t *key;	      /* [max_vms] deficit at the start of the plan */
	uint32_t *vm_order;   /* [max_vms] */
	uint32_t *heap;	      /* [max_vms] */
	uint32_t *want;	      /* [max_vms] cores wanted */
	uint32_t *got;	      /* [max_vms] cores granted */
	uint32_t *placed;     /* [max_vms] cores placed so far */
	uint32_t *core_start; /* [max_vms] its cores in vm_cores */
	uint32_t *vm_cores;   /* [max_cores] cores by VM */
	uint32_t *vcpu_order; /* [max_vcpus] */
	uint32_t *runnable;   /* [max_vms] runnable vCPUs after refusals */
	uint32_t *free_cores; /* [max_cores] by node */
	int32_t *vm_index;    /* [max_vm_id] index into view->vms, -1 */
	int32_t *cpu_core;    /* [max_cpu] core index * 2 + thread, -1 */
	uint8_t *core_usable; /* [max_cores] */
};

/* Per core of the plan. */
struct planner_core_plan {
	int owner;   /* VM id, or PLANNER_NONE: no VM (or left to BPF) */
	bool to_bpf; /* left out (host task, refused): BPF's rules decide */
	/* per thread: index into view->vcpus, or PLANNER_NONE */
	int vcpu[PLANNER_THREADS];
};

struct planner_plan {
	struct planner_core_plan *cores; /* [view->nr_cores], caller's */
	unsigned int nr_cores;
	unsigned int cores_given;    /* cores with an owner VM */
	unsigned int vcpus_placed;   /* threads with a vCPU */
	unsigned int idle_siblings;  /* given cores running one vCPU on an SMT core */
	unsigned int owner_changes;  /* cores moving from one VM to another */
	unsigned int owner_grants;   /* cores given from no owner */
	unsigned int owner_releases; /* cores taken from a VM, given to none */
	/* cores changing owner while the old owner's vCPU runs: refused (wrong_vm) until it stops
	 */
	unsigned int busy_handovers;
	unsigned int reserved_short; /* VMs whose reservation did not fit */
};

/* Bytes of working memory for @lim; give planner_state_init() at least this. */
size_t planner_state_bytes(const struct planner_limits *lim);

/*
 * Carve @st's arrays out of @mem (@bytes long, aligned for uint64_t) and
 * zero them. Returns 0, or -1 with a message if @bytes is too small or a
 * limit is 0.
 */
int planner_state_init(struct planner_state *st, const struct planner_limits *lim, void *mem,
		       size_t bytes, char *err, size_t errlen);

/*
 * Check @v against @st's limits and itself (threads per core, CPU ids,
 * nodes, VM ids, vCPU ranges; no CPU, VM id or vCPU twice). Returns 0, or
 * -1 with a message naming the bad core, VM or vCPU. planner_plan_epoch()
 * assumes a checked view. @st's working memory is used, its carried state
 * is not touched.
 */
int planner_check_view(const struct planner_view *v, struct planner_state *st, char *err,
		       size_t errlen);

/*
 * Plan the next epoch of @v into @plan (plan->cores has v->nr_cores
 * entries) and update @st (deficits, epoch). A checked view is required.
 */
void planner_plan_epoch(const struct planner_view *v, struct planner_state *st,
			struct planner_plan *plan);

/* Forget what @st carries for VM @id (it left; its id may be reused). */
void planner_forget_vm(struct planner_state *st, uint32_t id);

#endif
