/*
 * Benchmark (make bench-planner, on the host, no VM): the agent's core
 * planner (lib/planner.c) and its commit side (lib/planner_txn.c) at 8 to
 * 1,024 CPUs and 10 to 4,096 VMs, in ns per epoch. Drives the pure library
 * directly, past the BPF ABI's limits. Prints a table; nothing passes or
 * fails on time. Times are medians over the epochs (at least 64 and 0.2 s).
 *
 * Hosts have 2 threads per core and 2 NUMA nodes. Each VM has 0-8 vCPUs, a
 * weight (mostly 100), one in eight a reservation of 1-2 cores while they add
 * up to at most half the enclave, one in eight a cap of 2-8, a home node.
 * Each epoch about half of each VM's vCPUs are runnable with random waits,
 * the shares come from lib/share.c for that demand (not timed), and the
 * plan's owners and vCPUs become the next view's (not timed), as if every
 * transaction committed. NR_VIEWS demand patterns are used in turn.
 * Columns per epoch: cores given, owner changes, of which "busy" while the
 * old owner's vCPU ran (the scheduler would refuse those: wrong_vm), cores
 * with an idle sibling, transactions built.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner.h"
#include "planner_txn.h"
#include "share.h"
#include "tests/lib/xorshift.h"

#define THREADS	      2
#define NODES	      2
#define MAX_VCPUS_VM  8
#define NR_VIEWS      8
#define WARMUP_EPOCHS 8
#define MIN_EPOCHS    64
#define MIN_TOTAL_NS  200000000ULL /* each cell plans at least this long */
#define MAX_SAMPLES   20000
#define EPOCH_NS      10000000ULL

struct cell {
	unsigned int cpus;
	unsigned int vms;
};

static const struct cell cells[] = {{8, 10}, {64, 200}, {512, 2000}, {1024, 4096}};
#define NR_CELLS (sizeof(cells) / sizeof(cells[0]))
#define MAX_CPUS 1024
#define MAX_VMS	 4096

struct vm_conf {
	struct share_vm_in share;
	unsigned int nr_vcpus;
	int home;
};

/* One demand pattern: the runnable vCPUs and the shares for them. */
struct view_set {
	struct planner_vm vms[MAX_VMS];
	struct planner_vcpu vcpus[MAX_VMS * MAX_VCPUS_VM];
	unsigned int nr_vcpus;
};

static struct vm_conf conf[MAX_VMS];
static struct view_set views[NR_VIEWS];
static struct planner_core cores[MAX_CPUS / THREADS];
static struct planner_core_plan core_plans[MAX_CPUS / THREADS];
static struct planner_txn txns[MAX_CPUS];
static struct share_vm_in share_in[MAX_VMS];
static struct share_vm_out share_out[MAX_VMS];
static struct share_point points[2 * MAX_VMS];
static int last_cpu[MAX_VMS * MAX_VCPUS_VM]; /* by slot */
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)(xorshift64_next(&rng_state) % n);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void make_vms(const struct cell *c)
{
	unsigned int i, reserved = 0, nr_cores = c->cpus / THREADS;

	for (i = 0; i < c->vms; i++) {
		struct vm_conf *v = &conf[i];

		*v = (struct vm_conf){.nr_vcpus = rnd(MAX_VCPUS_VM + 1), .home = (int)rnd(NODES)};
		v->share.weight = rnd(8) ? 100 : 100 + rnd(901);
		if (!rnd(8) && reserved + 2 <= nr_cores / 2) {
			v->share.reserve_cores = 1 + rnd(2);
			reserved += v->share.reserve_cores;
		}
		if (!rnd(8))
			v->share.cap_cores = v->share.reserve_cores + 2 + rnd(7);
	}
}

static int make_views(const struct cell *c)
{
	unsigned int s, i, k, nr_cores = c->cpus / THREADS;
	struct share_result res;
	char err[256];

	for (s = 0; s < NR_VIEWS; s++) {
		struct view_set *vs = &views[s];

		vs->nr_vcpus = 0;
		for (i = 0; i < c->vms; i++) {
			unsigned int n = 0;

			vs->vms[i] =
			    (struct planner_vm){.id = i,
						.reserve_cores = conf[i].share.reserve_cores,
						.cap_cores = conf[i].share.cap_cores,
						.home_node = conf[i].home,
						.first_vcpu = vs->nr_vcpus};
			for (k = 0; k < conf[i].nr_vcpus; k++) {
				if (rnd(2))
					continue;
				vs->vcpus[vs->nr_vcpus++] = (struct planner_vcpu){
				    .slot = i * MAX_VCPUS_VM + k,
				    .tid = 1000 + i * MAX_VCPUS_VM + k,
				    .seqnum = s,
				    .wait_ns = rnd(4) ? rnd(20) * 1000000ULL : 0,
				};
				n++;
			}
			vs->vms[i].nr_vcpus = n;
			share_in[i] = conf[i].share;
			share_in[i].demand_mcores = share_demand_cores(n, THREADS) * 1000;
		}
		if (share_compute_n(share_in, share_out, (int)c->vms, nr_cores, points, &res, err,
				    sizeof(err))) {
			fprintf(stderr, "planner-bench: share_compute_n: %s\n", err);
			return -1;
		}
		for (i = 0; i < c->vms; i++)
			vs->vms[i].share_mcores = share_out[i].share_mcores;
	}
	return 0;
}

static uint64_t plan_samples[MAX_SAMPLES], txn_samples[MAX_SAMPLES];

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median: robust to the preemptions of a machine shared with others. */
static uint64_t median(uint64_t *a, unsigned int n)
{
	qsort(a, n, sizeof(*a), cmp_u64);
	return a[n / 2];
}

/* The plan becomes the state: owners, running vCPUs, last CPUs. */
static void adopt(const struct planner_view *v, const struct planner_plan *p)
{
	unsigned int i, t;

	for (i = 0; i < v->nr_cores; i++) {
		cores[i].owner = p->cores[i].owner;
		for (t = 0; t < THREADS; t++) {
			int k = p->cores[i].vcpu[t];

			cores[i].running_tid[t] = k == PLANNER_NONE ? 0 : v->vcpus[k].tid;
			if (k != PLANNER_NONE)
				last_cpu[v->vcpus[k].slot] = cores[i].cpu[t];
		}
	}
}

static int run_cell(const struct cell *c, void *mem, size_t bytes)
{
	struct planner_limits lim = {
	    .max_cores = c->cpus / THREADS,
	    .max_vms = c->vms,
	    .max_vcpus = c->vms * MAX_VCPUS_VM,
	    .max_vm_id = c->vms,
	    .max_slots = c->vms * MAX_VCPUS_VM,
	    .max_cpu = c->cpus,
	};
	struct planner_state st;
	struct planner_plan plan = {.cores = core_plans};
	struct planner_view v = {
	    .cores = cores,
	    .nr_cores = c->cpus / THREADS,
	    .nr_vms = c->vms,
	    .threads_per_core = THREADS,
	    .epoch_ns = EPOCH_NS,
	    .elapsed_ns = EPOCH_NS,
	};
	struct planner_txn_counts counts;
	uint64_t plan_ns = 0, txn_ns = 0, changes = 0, idle_sib = 0, given = 0, built = 0, busy = 0;
	unsigned int i, k, e, epochs = 0;
	char err[256];

	make_vms(c);
	if (make_views(c) || planner_state_init(&st, &lim, mem, bytes, err, sizeof(err))) {
		if (err[0])
			fprintf(stderr, "planner-bench: %s\n", err);
		return -1;
	}
	for (i = 0; i < v.nr_cores; i++)
		cores[i] = (struct planner_core){.cpu = {(int)i, (int)(i + v.nr_cores)},
						 .node = (int)(i * NODES / v.nr_cores),
						 .owner = PLANNER_NONE};
	for (i = 0; i < c->vms * MAX_VCPUS_VM; i++)
		last_cpu[i] = -1;
	for (e = 0;; e++) {
		struct view_set *vs = &views[e % NR_VIEWS];
		uint64_t t0, t1, t2;
		unsigned int n;

		for (k = 0; k < vs->nr_vcpus; k++)
			vs->vcpus[k].last_cpu = last_cpu[vs->vcpus[k].slot];
		v.vms = vs->vms;
		v.vcpus = vs->vcpus;
		v.nr_vcpus = vs->nr_vcpus;
		if (e == 0 && planner_check_view(&v, &st, err, sizeof(err))) {
			fprintf(stderr, "planner-bench: %s\n", err);
			return -1;
		}
		t0 = now_ns();
		planner_plan_epoch(&v, &st, &plan);
		t1 = now_ns();
		n = planner_txn_build(&v, &st, &plan, txns, &counts);
		for (k = 0; k < n; k++)
			txns[k].outcome = VS_TXN_COMPLETE;
		planner_txn_apply(&v, &st, txns, n, &counts);
		t2 = now_ns();
		adopt(&v, &plan);
		if (e < WARMUP_EPOCHS)
			continue;
		epochs++;
		plan_ns += t1 - t0;
		txn_ns += t2 - t1;
		plan_samples[epochs - 1] = t1 - t0;
		txn_samples[epochs - 1] = t2 - t1;
		changes += plan.owner_changes;
		busy += plan.busy_handovers;
		idle_sib += plan.idle_siblings;
		given += plan.cores_given;
		built += counts.built;
		if ((epochs >= MIN_EPOCHS && plan_ns + txn_ns >= MIN_TOTAL_NS) ||
		    epochs == MAX_SAMPLES)
			break;
	}
	printf("%5u %5u %8u %8.0f %7.0f %6.1f %8.1f %5.1f %8.1f %6.1f\n", c->cpus, c->vms,
	       views[0].nr_vcpus, (double)median(plan_samples, epochs),
	       (double)median(txn_samples, epochs), (double)given / epochs,
	       (double)changes / epochs, (double)busy / epochs, (double)idle_sib / epochs,
	       (double)built / epochs);
	return 0;
}

int main(void)
{
	struct planner_limits big = {
	    .max_cores = MAX_CPUS / THREADS,
	    .max_vms = MAX_VMS,
	    .max_vcpus = MAX_VMS * MAX_VCPUS_VM,
	    .max_vm_id = MAX_VMS,
	    .max_slots = MAX_VMS * MAX_VCPUS_VM,
	    .max_cpu = MAX_CPUS,
	};
	size_t bytes = planner_state_bytes(&big);
	void *mem = aligned_alloc(8, (bytes + 7) & ~(size_t)7);
	unsigned int i;

	if (!mem) {
		fprintf(stderr, "planner-bench: out of memory\n");
		return 1;
	}
	printf("planner: ns per %llu ms epoch, median (plan; txn = build + apply); the other "
	       "columns are averages per epoch\n",
	       EPOCH_NS / 1000000ULL);
	printf("%5s %5s %8s %8s %7s %6s %8s %5s %8s %6s\n", "CPUs", "VMs", "runnable", "plan_ns",
	       "txn_ns", "given", "changes", "busy", "idle_sib", "txns");
	for (i = 0; i < NR_CELLS; i++)
		if (run_cell(&cells[i], mem, bytes)) {
			free(mem);
			return 1;
		}
	free(mem);
	return 0;
}
