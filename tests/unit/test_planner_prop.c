/*
 * Property test of the planner (vmm-sched/lib/planner.c) over random
 * enclaves: for thousands of seeds, 1-16 cores (SMT or not, 1-3 NUMA nodes),
 * 1-12 VMs with random weights, reservations, caps and 0-6 runnable vCPUs,
 * shares from the agent's share computation (lib/share.c), planned for 40
 * epochs with random waits, host tasks and commit refusals. Every plan must
 * hold:
 *  - a core's vCPUs are all its owner's; no vCPU on two threads, none the
 *    scheduler refused this epoch;
 *  - no VM above its cap; no owned core without a vCPU; cores left to BPF
 *    have no owner;
 *  - packing: at most one of a VM's cores has a thread it leaves idle; no
 *    vCPU on a host task's thread, nor beside one under strict pairing;
 *  - work conservation: no usable core stays free while a VM wants more;
 *  - reservations: when min(reserve, want) of all VMs fit in the usable
 *    cores, every VM gets its min(reserve, want);
 *  - no starvation (seeds without host tasks and refusals, steady demand):
 *    a VM with share s milli-cores waits at most K = ceil(2000 / s) + 1
 *    epochs for a core, K_MAX at most (its deficit grows s/1000 of an epoch
 *    per epoch and is granted once it tops the others', whose deficits the
 *    grants keep within about an epoch of each other).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <cmocka.h>

#include "planner_txn.h"
#include "share.h"
#include "tests/lib/planner_fixture.h"
#include "tests/lib/xorshift.h"

#define SEEDS	   3000
#define EPOCHS	   40
#define MAX_CORES  16
#define MAX_VMS	   12
#define MAX_VCPUS  6
#define WAIT_SLACK 1 /* epochs beyond ceil(2000 / s) */

static struct fixture fx;
static struct planner_txn txns[2 * FX_CORES];
static uint64_t rng;

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)(xorshift64_next(&rng) % n);
}

/* A random enclave and its VMs; returns whether it has disturbances (host tasks, refusals). */
static bool build_enclave(unsigned int seed)
{
	unsigned int nr_cores = 1 + rnd(MAX_CORES), nr_vms = 1 + rnd(MAX_VMS), nodes = 1 + rnd(3);
	unsigned int i, reserved = 0, tpc = rnd(4) ? 2 : 1;
	struct share_vm_in in[MAX_VMS];
	struct share_vm_out out[MAX_VMS];
	struct share_result res;
	char err[256];

	fx_init(&fx, nr_cores);
	fx.view.threads_per_core = tpc;
	for (i = 0; i < nr_cores; i++) {
		fx.cores[i].node = (int)(i * nodes / nr_cores);
		if (tpc == 1)
			fx.cores[i].cpu[1] = -1;
	}
	for (i = 0; i < nr_vms; i++) {
		unsigned int nr = rnd(MAX_VCPUS + 1), k;
		struct planner_vm *m = fx_vm(&fx, (uint32_t)(i * 5 % FX_IDS), 0, nr);

		in[i] = (struct share_vm_in){.weight = rnd(3) ? 100 : 1 + rnd(1000)};
		if (!rnd(4) && reserved + 2 <= nr_cores / 2) {
			in[i].reserve_cores = 1 + rnd(2);
			reserved += in[i].reserve_cores;
		}
		if (!rnd(4))
			in[i].cap_cores = in[i].reserve_cores + 1 + rnd(3);
		in[i].demand_mcores = share_demand_cores(nr, tpc) * 1000;
		m->reserve_cores = in[i].reserve_cores;
		m->cap_cores = in[i].cap_cores;
		m->home_node = rnd(4) ? (int)rnd(nodes) : -1;
		for (k = 0; k < nr; k++)
			fx.vcpus[m->first_vcpu + k].tid = 1 + seed % 7 + m->first_vcpu + k;
	}
	if (share_compute(in, out, (int)nr_vms, nr_cores, &res, err, sizeof(err)))
		fail_msg("seed %u: share_compute: %s", seed, err);
	for (i = 0; i < nr_vms; i++)
		fx.vms[i].share_mcores = out[i].share_mcores;
	fx.view.relaxed = rnd(2);
	return rnd(2);
}

/* The state moves on: waits grow, some vCPUs ran; host tasks come and go. */
static void next_view(bool disturbed)
{
	unsigned int i;

	for (i = 0; i < fx.view.nr_vcpus; i++) {
		fx.vcpus[i].wait_ns = rnd(4) ? rnd(50) * 1000000ULL : 0;
		fx.vcpus[i].seqnum += rnd(2);
	}
	for (i = 0; i < fx.view.nr_cores; i++) {
		fx.cores[i].host[0] = fx.cores[i].host[1] = false;
		if (disturbed && !rnd(6))
			fx.cores[i].host[rnd(fx.view.threads_per_core)] = true;
	}
}

static int vm_of_vcpu(int k)
{
	unsigned int i;

	for (i = 0; i < fx.view.nr_vms; i++)
		if ((unsigned int)k >= fx.vms[i].first_vcpu &&
		    (unsigned int)k < fx.vms[i].first_vcpu + fx.vms[i].nr_vcpus)
			return (int)fx.vms[i].id;
	return -2;
}

static void check_plan(unsigned int seed, unsigned int epoch)
{
	unsigned int cores[FX_IDS] = {0}, gaps[FX_IDS] = {0}, want[FX_IDS], usable = 0, free = 0;
	unsigned int i, t, fit = 0, tpc = fx.view.threads_per_core;
	bool seen[FX_VCPUS] = {false}, hungry = false;

	for (i = 0; i < fx.view.nr_cores; i++) {
		const struct planner_core_plan *cp = &fx.plan.cores[i];
		unsigned int busy = 0, gap = 0;

		if (cp->to_bpf) {
			if (cp->owner != PLANNER_NONE)
				fail_msg("seed %u epoch %u: core %u left to BPF has owner %d", seed,
					 epoch, i, cp->owner);
			continue;
		}
		usable++;
		for (t = 0; t < PLANNER_THREADS; t++) {
			int k = cp->vcpu[t];

			if (k == PLANNER_NONE) {
				gap += t < tpc && !fx.cores[i].host[t];
				continue;
			}
			if (!fx.view.relaxed && tpc == 2 && fx.cores[i].host[!t])
				fail_msg("seed %u epoch %u: vCPU %d beside a host task", seed,
					 epoch, k);
			if (fx.cores[i].host[t])
				fail_msg("seed %u epoch %u: vCPU %d on a host task's thread", seed,
					 epoch, k);
			if (t >= tpc)
				fail_msg("seed %u: core %u thread %u exists not", seed, i, t);
			if (vm_of_vcpu(k) != cp->owner)
				fail_msg("seed %u epoch %u: core %u of VM %d runs a vCPU of VM %d",
					 seed, epoch, i, cp->owner, vm_of_vcpu(k));
			if (seen[k])
				fail_msg("seed %u epoch %u: vCPU %d on two threads", seed, epoch,
					 k);
			if (fx.st.vcpu[fx.vcpus[k].slot].refused_epoch == fx.st.epoch + 1)
				fail_msg("seed %u epoch %u: vCPU %d placed, refused this epoch",
					 seed, epoch, k);
			seen[k] = true;
			busy++;
		}
		if (cp->owner == PLANNER_NONE) {
			free++;
			continue;
		}
		if (!busy)
			fail_msg("seed %u epoch %u: core %u given to VM %d runs nothing", seed,
				 epoch, i, cp->owner);
		cores[cp->owner]++;
		gaps[cp->owner] += gap > 0;
	}
	for (i = 0; i < fx.view.nr_vms; i++) {
		const struct planner_vm *m = &fx.vms[i];
		unsigned int runnable = 0, k, r;

		for (k = 0; k < m->nr_vcpus; k++)
			runnable += fx.st.vcpu[fx.vcpus[m->first_vcpu + k].slot].refused_epoch !=
				    fx.st.epoch + 1;
		want[m->id] = (runnable + tpc - 1) / tpc;
		if (m->cap_cores && want[m->id] > m->cap_cores)
			want[m->id] = m->cap_cores;
		if (m->cap_cores && cores[m->id] > m->cap_cores)
			fail_msg("seed %u epoch %u: VM %u has %u cores, cap %u", seed, epoch, m->id,
				 cores[m->id], m->cap_cores);
		if (gaps[m->id] > 1)
			fail_msg("seed %u epoch %u: VM %u has an idle thread on %u of its cores",
				 seed, epoch, m->id, gaps[m->id]);
		hungry |= cores[m->id] < want[m->id];
		r = m->reserve_cores < want[m->id] ? m->reserve_cores : want[m->id];
		fit += r;
	}
	if (hungry && free)
		fail_msg("seed %u epoch %u: %u usable cores free while a VM wants more", seed,
			 epoch, free);
	if (fit > usable)
		return;
	for (i = 0; i < fx.view.nr_vms; i++) {
		const struct planner_vm *m = &fx.vms[i];
		unsigned int r = m->reserve_cores < want[m->id] ? m->reserve_cores : want[m->id];

		if (cores[m->id] < r)
			fail_msg("seed %u epoch %u: VM %u reserved %u, wants %u, got %u", seed,
				 epoch, m->id, m->reserve_cores, want[m->id], cores[m->id]);
	}
}

/* Commit the plan with random refusals, as the scheduler might. */
static void commit(bool disturbed)
{
	static const unsigned int outcomes[] = {VS_TXN_COMPLETE,     VS_TXN_STALE,
						VS_TXN_NOT_RUNNABLE, VS_TXN_WRONG_VM,
						VS_TXN_HOST_BUSY,    VS_TXN_COMPLETE};
	struct planner_txn_counts counts;
	unsigned int i, n = planner_txn_build(&fx.view, &fx.st, &fx.plan, txns, &counts);

	for (i = 0; i < n; i++)
		txns[i].outcome = disturbed && !rnd(5) ? outcomes[rnd(6)] : VS_TXN_COMPLETE;
	planner_txn_apply(&fx.view, &fx.st, txns, n, &counts);
}

static void adopt(void)
{
	fx_adopt(&fx);
}

static unsigned int bound_epochs(unsigned int share_mcores)
{
	return (2000 + share_mcores - 1) / share_mcores + WAIT_SLACK;
}

static void test_random_enclaves(void **state)
{
	unsigned int seed, e, i, checked = 0, worst = 0, worst_share = 0;

	for (seed = 1; seed <= SEEDS; seed++) {
		unsigned int waited[FX_VMS] = {0};
		bool disturbed;

		rng = 0x9e3779b97f4a7c15ULL * seed;
		disturbed = build_enclave(seed);
		for (e = 0; e < EPOCHS; e++) {
			next_view(disturbed);
			fx.view.elapsed_ns = FX_EPOCH;
			assert_int_equal(fx_plan(&fx), 0);
			check_plan(seed, e);
			if (disturbed) {
				commit(true);
				fx.view.elapsed_ns = 0; /* re-plan from the refusals */
				assert_int_equal(fx_plan(&fx), 0);
				check_plan(seed, e);
			}
			adopt();
			for (i = 0; !disturbed && i < fx.view.nr_vms; i++) {
				const struct planner_vm *m = &fx.vms[i];
				bool ran = false;
				unsigned int c;

				if (!m->nr_vcpus)
					continue;
				for (c = 0; c < fx.view.nr_cores; c++)
					ran |= fx.plan.cores[c].owner == (int)m->id;
				waited[i] = ran ? 0 : waited[i] + 1;
				if (!m->share_mcores)
					fail_msg("seed %u: VM %u has demand and no share", seed,
						 m->id);
				if (waited[i] > bound_epochs(m->share_mcores))
					fail_msg("seed %u epoch %u: VM %u (share %u) waited %u "
						 "epochs, bound %u",
						 seed, e, m->id, m->share_mcores, waited[i],
						 bound_epochs(m->share_mcores));
				if (waited[i] * m->share_mcores >
				    worst * (worst_share ? worst_share : 1)) {
					worst = waited[i];
					worst_share = m->share_mcores;
				}
				checked++;
			}
		}
	}
	print_message("%u seeds x %u epochs; %u VM-epochs checked for starvation; longest wait "
		      "relative to share: %u epochs at %u milli-cores\n",
		      SEEDS, EPOCHS, checked, worst, worst_share);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_enclaves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
