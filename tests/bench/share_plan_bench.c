/*
 * Benchmark (make bench-plan, on the host, no VM): the agent's share plan
 * round at 8 to 1,024 CPUs and 10 to 4,096 VMs, in ns per round, for the
 * O(n log n) computation (lib/share.c) against the quadratic one it replaced
 * (tests/lib/share_quadratic.c), both measured in this run on the same inputs.
 * Drives the pure library directly, past the BPF ABI's VM limit. Prints a
 * table with ratios; nothing passes or fails on time. Exits 1 only if the two
 * computations disagree on a share.
 *
 * Hosts have 2 threads per core: the enclave has CPUs / 2 cores. Each VM has
 * a weight (mostly 100, some up to 1,000), one in eight a reservation of 1-2
 * cores while they add up to at most half the enclave, one in eight a cap of
 * 2-8, and 0-8 active vCPUs, so demand exceeds the enclave in most cells, as
 * on a busy host ("fill": weighted water-filling; "fits": every VM gets its
 * demand). Four input sets per cell are used in turn.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "share.h"
#include "tests/lib/share_quadratic.h"
#include "tests/lib/xorshift.h"

#define THREADS_PER_CORE 2
#define NR_SETS		 4
#define BATCHES		 5
#define BATCH_MIN_NS	 10000000ULL /* each batch runs at least this long */
#define GOAL_CPUS	 512
#define GOAL_VMS	 2000
#define GOAL_NS		 1000000ULL

static const unsigned int cpu_counts[] = {8, 64, 512, 1024};
static const int vm_counts[] = {10, 200, 2000, 4096};
#define NR_VM_COUNTS (sizeof(vm_counts) / sizeof(vm_counts[0]))
/* Growth is measured from the first cell with at least this many VMs that water-fills. */
#define GROWTH_FROM_VMS 200
/* ... and over at least this factor: a shorter step is mostly noise. */
#define GROWTH_MIN_SPAN 8
#define MAX_VMS		4096

struct input {
	struct share_vm_in vms[MAX_VMS];
};

static struct input sets[NR_SETS];
static struct share_vm_out out[MAX_VMS], ref[MAX_VMS];
static struct share_point points[2 * MAX_VMS];
static uint64_t rng_state = 0xb5ad4eceda1ce2a9ULL;

static uint64_t rnd(void)
{
	return xorshift64_next(&rng_state);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void make_inputs(int nr_vms, unsigned int cores)
{
	int s, i;

	for (s = 0; s < NR_SETS; s++) {
		unsigned int reserved = 0;

		for (i = 0; i < nr_vms; i++) {
			struct share_vm_in *v = &sets[s].vms[i];
			unsigned int active = (unsigned int)(rnd() % 9);

			v->weight = rnd() % 4 ? 100 : 100 * (unsigned int)(1 + rnd() % 10);
			v->reserve_cores = rnd() % 8 ? 0 : (unsigned int)(1 + rnd() % 2);
			if (reserved + v->reserve_cores > cores / 2)
				v->reserve_cores = 0;
			reserved += v->reserve_cores;
			v->cap_cores = rnd() % 8 ? 0 : (unsigned int)(2 + rnd() % 7);
			if (v->cap_cores && v->cap_cores < v->reserve_cores)
				v->cap_cores = v->reserve_cores;
			v->demand_mcores = share_demand_cores(active, THREADS_PER_CORE) * 1000;
		}
	}
}

static void round_new(const struct input *in, int nr_vms, unsigned int cores)
{
	char err[256];

	if (share_compute_n(in->vms, out, nr_vms, cores, points, NULL, err, sizeof(err))) {
		fprintf(stderr, "share-plan-bench: %s\n", err);
		exit(2);
	}
}

static void round_old(const struct input *in, int nr_vms, unsigned int cores)
{
	share_compute_quadratic(in->vms, ref, nr_vms, cores, NULL);
}

/* The best of BATCHES batch means, in ns per round: the least disturbed by others. */
static uint64_t time_rounds(void (*round)(const struct input *, int, unsigned int), int nr_vms,
			    unsigned int cores)
{
	uint64_t best = UINT64_MAX;
	int b;

	for (b = 0; b < BATCHES; b++) {
		uint64_t start = now_ns(), elapsed, rounds = 0;

		do {
			round(&sets[rounds % NR_SETS], nr_vms, cores);
			rounds++;
			elapsed = now_ns() - start;
		} while (elapsed < BATCH_MIN_NS);
		if (elapsed / rounds < best)
			best = elapsed / rounds;
	}
	return best;
}

/* Both computations give the same shares on every set; *kind: what set 0 needed. */
static int same_shares(int nr_vms, unsigned int cores, const char **kind)
{
	struct share_result res;
	char err[256];
	int s, i;

	if (share_compute_n(sets[0].vms, out, nr_vms, cores, points, &res, err, sizeof(err))) {
		fprintf(stderr, "share-plan-bench: %s\n", err);
		exit(2);
	}
	*kind = res.reservations_overcommitted		  ? "over"
		: res.total_want_mcores > cores * 1000ULL ? "fill"
							  : "fits";
	for (s = 0; s < NR_SETS; s++) {
		round_new(&sets[s], nr_vms, cores);
		round_old(&sets[s], nr_vms, cores);
		for (i = 0; i < nr_vms; i++) {
			if (out[i].share_mcores != ref[i].share_mcores ||
			    out[i].effective_weight != ref[i].effective_weight) {
				fprintf(stderr,
					"share-plan-bench: %u cores, %d VMs, VM %d: share %u, the "
					"quadratic computation gives %u\n",
					cores, nr_vms, i, out[i].share_mcores, ref[i].share_mcores);
				return 0;
			}
		}
	}
	return 1;
}

int main(void)
{
	uint64_t goal_ns = 0;
	size_t c, v;

	printf("share plan round, ns (best of %d batches of >= %llu ms), %d threads per core\n",
	       BATCHES, BATCH_MIN_NS / 1000000, THREADS_PER_CORE);
	printf("%6s %6s %5s %14s %14s %9s\n", "CPUs", "VMs", "kind", "quadratic", "n log n",
	       "speed-up");
	for (c = 0; c < sizeof(cpu_counts) / sizeof(cpu_counts[0]); c++) {
		unsigned int cores = cpu_counts[c] / THREADS_PER_CORE;
		uint64_t old_ns = 0, new_ns = 0, from_old = 0, from_new = 0;
		int from_n = 0;

		for (v = 0; v < NR_VM_COUNTS; v++) {
			int n = vm_counts[v];
			const char *kind;

			make_inputs(n, cores);
			if (!same_shares(n, cores, &kind))
				return 1;
			old_ns = time_rounds(round_old, n, cores);
			new_ns = time_rounds(round_new, n, cores);
			printf("%6u %6d %5s %14llu %14llu %8.1fx\n", cpu_counts[c], n, kind,
			       (unsigned long long)old_ns, (unsigned long long)new_ns,
			       (double)old_ns / (double)(new_ns ? new_ns : 1));
			if (!from_n && n >= GROWTH_FROM_VMS && strcmp(kind, "fill") == 0) {
				from_n = n;
				from_old = old_ns;
				from_new = new_ns;
			}
			if (cpu_counts[c] == GOAL_CPUS && n == GOAL_VMS)
				goal_ns = new_ns;
		}
		/* The exponent k of time ~ VMs^k: 2 is quadratic, n log n a little over 1. */
		if (from_n && vm_counts[NR_VM_COUNTS - 1] >= GROWTH_MIN_SPAN * from_n) {
			double grow = log((double)vm_counts[NR_VM_COUNTS - 1] / from_n);

			printf("%6s %d -> %d VMs: time grows as VMs^%.1f (quadratic), VMs^%.1f "
			       "(n log n)\n",
			       "", from_n, vm_counts[NR_VM_COUNTS - 1],
			       log((double)old_ns / (double)from_old) / grow,
			       log((double)new_ns / (double)from_new) / grow);
		}
	}
	printf("goal: %d CPUs x %d VMs under %llu ns per round: %llu ns, %s\n", GOAL_CPUS, GOAL_VMS,
	       GOAL_NS, (unsigned long long)goal_ns, goal_ns < GOAL_NS ? "met" : "NOT met");
	return 0;
}
