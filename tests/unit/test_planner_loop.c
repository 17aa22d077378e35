/*
 * The planner's whole loop against the scheduler's own commit rule: plan,
 * build transactions, decide each with vs_txn_decide() (bpf/rules/txn_decide.h,
 * the function the BPF scheduler runs under the core's lock) on a small fake
 * of the scheduler's state, groups all-or-nothing, apply the outcomes,
 * re-plan, and let committed vCPUs run. BPF's own handover when a core
 * slice ends is modelled as: a core whose commit was refused wrong_vm is
 * given up by its owner at the end of the epoch, half the time.
 *
 * Over 500 random enclaves x 30 epochs:
 *  - the fake scheduler never runs two VMs on one core;
 *  - every wrong_vm refusal is on a core the plan counted in busy_handovers;
 *  - nothing is ever stale (the view's seqnums are fresh), and on the idle
 *    host of the first epoch every transaction commits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/txn_decide.h"
#include "planner_txn.h"
#include "txn_outcome.h"
#include "tests/lib/planner_fixture.h"
#include "tests/lib/xorshift.h"

#define SEEDS  500
#define EPOCHS 30

static struct fixture fx;
static struct planner_txn txns[2 * FX_CORES];
static uint64_t rng;

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)(xorshift64_next(&rng) % n);
}

/* The view's index of the vCPU with @tid, -1 if none. */
static int vcpu_of_tid(uint32_t tid)
{
	unsigned int k;

	for (k = 0; tid && k < fx.view.nr_vcpus; k++)
		if (fx.vcpus[k].tid == tid)
			return (int)k;
	return -1;
}

static int vm_of_vcpu(int k)
{
	unsigned int i;

	for (i = 0; k >= 0 && i < fx.view.nr_vms; i++)
		if ((unsigned int)k >= fx.vms[i].first_vcpu &&
		    (unsigned int)k < fx.vms[i].first_vcpu + fx.vms[i].nr_vcpus)
			return (int)fx.vms[i].id;
	return VS_VM_NONE;
}

static bool running_anywhere(uint32_t tid)
{
	unsigned int i, t;

	for (i = 0; i < fx.view.nr_cores; i++)
		for (t = 0; t < fx.view.threads_per_core; t++)
			if (fx.cores[i].running_tid[t] == tid)
				return true;
	return false;
}

/* Decide @n transactions of one core: a flagged pair on one snapshot, both or neither. */
static void decide_core(struct planner_txn *x, unsigned int n)
{
	struct planner_core *core = &fx.cores[x[0].core];
	int take[2] = {0, 0};
	unsigned int i, t, failed = 0, grouped = 0;

	for (i = 0; i < n; i++)
		grouped += !!(x[i].flags & VS_TXN_F_GROUP);
	if (grouped == 1 && n == 1) {
		x[0].outcome = VS_TXN_BAD_SLOT; /* a group without its partner */
		return;
	}
	if (n == 2 && grouped != 2) {
		decide_core(&x[0], 1);
		decide_core(&x[1], 1);
		return;
	}

	for (i = 0; i < n; i++) {
		struct vs_txn_facts f = {
		    .in_enclave = 1,
		    .known_vcpu = 1,
		    .queued = !running_anywhere(x[i].tid),
		    .seq_txn = x[i].seqnum,
		    .seq_now = fx.vcpus[x[i].vcpu].seqnum,
		    .vm = (int)x[i].vm_id,
		    .owner = core->owner,
		    .sib_leaving = VS_VM_NONE,
		};

		for (t = 0; t < fx.view.threads_per_core; t++) {
			int vm = vm_of_vcpu(vcpu_of_tid(core->running_tid[t]));

			if (core->cpu[t] == x[i].cpu)
				f.this_running = vm;
			else
				f.sib_running = vm;
		}
		if (fx.view.threads_per_core == 1)
			f.sib_running = VS_VM_NONE;
		x[i].outcome = vs_txn_decide(&f, &take[i]);
		failed += x[i].outcome != VS_TXN_COMPLETE;
	}
	for (i = 0; i < n; i++) {
		if (failed && x[i].outcome == VS_TXN_COMPLETE) {
			x[i].outcome = VS_TXN_GROUP_FAILED;
			continue;
		}
		if (x[i].outcome != VS_TXN_COMPLETE)
			continue;
		/* committed: the vCPU runs there next (it preempts one of its own VM) */
		if (take[i])
			core->owner = (int)x[i].vm_id;
		for (t = 0; t < fx.view.threads_per_core; t++)
			if (core->cpu[t] == x[i].cpu)
				core->running_tid[t] = x[i].tid;
		fx.vcpus[x[i].vcpu].last_cpu = x[i].cpu;
		fx.vcpus[x[i].vcpu].seqnum++; /* its ON_CPU message */
	}
}

/* Commit one plan; returns the cores refused wrong_vm and checks them. */
static unsigned int commit(unsigned int seed, unsigned int epoch, bool *wrong_core)
{
	struct planner_txn_counts counts;
	unsigned int n = planner_txn_build(&fx.view, &fx.st, &fx.plan, txns, &counts), i, j, k,
		     wrong = 0, handovers = fx.plan.busy_handovers;
	bool busy_before[FX_CORES];

	for (i = 0; i < fx.view.nr_cores; i++)
		busy_before[i] = fx.cores[i].running_tid[0] || fx.cores[i].running_tid[1];
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && txns[j].core == txns[i].core; j++)
			;
		decide_core(&txns[i], j - i);
		for (k = i; k < j; k++) {
			if (txns[k].outcome == VS_TXN_STALE)
				fail_msg("seed %u epoch %u: stale on fresh seqnums", seed, epoch);
			if (epoch == 0 && txns[k].outcome != VS_TXN_COMPLETE)
				fail_msg("seed %u: %s on an idle host", seed,
					 txn_outcome_name(txns[k].outcome));
		}
		if (txns[i].outcome == VS_TXN_WRONG_VM ||
		    (j - i > 1 && txns[i + 1].outcome == VS_TXN_WRONG_VM)) {
			wrong++;
			wrong_core[txns[i].core] = true;
			if (!busy_before[txns[i].core])
				fail_msg("seed %u epoch %u: wrong_vm on idle core %u", seed, epoch,
					 txns[i].core);
		}
	}
	if (wrong > handovers)
		fail_msg("seed %u epoch %u: %u cores refused wrong_vm, %u busy handovers planned",
			 seed, epoch, wrong, handovers);
	planner_txn_apply(&fx.view, &fx.st, txns, n, &counts);
	return wrong;
}

static void check_pairing(unsigned int seed, unsigned int epoch)
{
	unsigned int i, t;

	for (i = 0; i < fx.view.nr_cores; i++)
		for (t = 0; t < fx.view.threads_per_core; t++) {
			int vm = vm_of_vcpu(vcpu_of_tid(fx.cores[i].running_tid[t]));

			if (vm != VS_VM_NONE && vm != fx.cores[i].owner)
				fail_msg("seed %u epoch %u: core %u of VM %d runs VM %d", seed,
					 epoch, i, fx.cores[i].owner, vm);
		}
}

static void build_enclave(void)
{
	unsigned int nr_cores = 1 + rnd(8), nr_vms = 1 + rnd(6), i, k;

	fx_init(&fx, nr_cores);
	for (i = 0; i < nr_vms; i++) {
		struct planner_vm *m = fx_vm(&fx, i * 3, 0, 1 + rnd(4));

		m->share_mcores = 1000 * nr_cores / nr_vms;
		for (k = 0; k < m->nr_vcpus; k++)
			fx.vcpus[m->first_vcpu + k].wait_ns = rnd(10) * 1000000ULL;
	}
}

static void test_loop_against_the_commit_rule(void **state)
{
	unsigned int seed, e, i, refused_total = 0, handed_over = 0;

	for (seed = 1; seed <= SEEDS; seed++) {
		rng = 0xd1b54a32d192ed03ULL * seed;
		build_enclave();
		for (e = 0; e < EPOCHS; e++) {
			bool wrong_core[FX_CORES] = {false};
			unsigned int wrong;

			fx.view.elapsed_ns = FX_EPOCH;
			assert_int_equal(fx_plan(&fx), 0);
			wrong = commit(seed, e, wrong_core);
			check_pairing(seed, e);
			fx.view.elapsed_ns = 0; /* re-plan from the refusals */
			assert_int_equal(fx_plan(&fx), 0);
			wrong += commit(seed, e, wrong_core);
			check_pairing(seed, e);
			refused_total += wrong;
			/* BPF ends some refused owners' turns: the core goes free */
			for (i = 0; i < fx.view.nr_cores; i++) {
				if (!wrong_core[i] || rnd(2))
					continue;
				fx.cores[i].owner = PLANNER_NONE;
				fx.cores[i].running_tid[0] = fx.cores[i].running_tid[1] = 0;
				handed_over++;
			}
		}
	}
	print_message("%u seeds x %u epochs: %u wrong_vm refusals, %u cores handed over by BPF\n",
		      SEEDS, EPOCHS, refused_total, handed_over);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_loop_against_the_commit_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
