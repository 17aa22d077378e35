/*
 * Guest hints in vmm-sched-sim (vmm-sched/sim/sim_hints.c): a lock VM whose
 * holder publishes its critical sections spins less, a VM that claims one all
 * the time gets no more core time than an honest twin and no more extension
 * than its budget, and a VM that publishes nothing is never extended.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "vmm-sched/sim/sim.h"
#include "tests/lib/sim_checks.h"

#define MS SIM_MS

/* The benchmark's 2x mix on 3 cores, its lock VM with 4 vCPUs and `hints = HINTS`. */
#define MIX(LOCK_HINTS, BUSY2_HINTS)                                                               \
	"[vm busy]\nvcpus = 2\n"                                                                   \
	"[vm busy2]\nvcpus = 2\nhints = " BUSY2_HINTS "\n"                                         \
	"[vm latency]\ncount = 2\nvcpus = 2\nmodel = duty\ndist = fixed\nrun_us = 200\n"           \
	"block_us = 800\n"                                                                         \
	"[vm lock]\nvcpus = 4\nmodel = lock\nhold_us = 40\nfree_us = 160\nhints = " LOCK_HINTS     \
	"\n"                                                                                       \
	"[vm single]\ncount = 2\nvcpus = 1\n"

enum { BUSY, BUSY2, LAT0, LAT1, LOCK, SINGLE0, SINGLE1, NR_VMS };

static void run(struct sim *s, const char *text, uint64_t seed, uint64_t ext_us)
{
	struct sim_params p;

	sim_params_bench(&p, 6, 4000, seed);
	p.cs_ext_ns = ext_us * 1000;
	sim_run_workload(s, text, &p);
	assert_int_equal(s->nr_vms, NR_VMS);
}

static uint64_t extensions(const struct sim *s)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < s->nr_vms; i++)
		n += s->vms[i].m.cs_extensions;
	return n;
}

static void hints_parse_and_refuse(void **state)
{
	struct sim_workload w;
	char err[256];

	(void)state;
	assert_int_equal(sim_workload_parse(&w, "[vm a]\nhints = cs\n[vm b]\nhints = always\n", err,
					    sizeof(err)),
			 0);
	assert_int_equal(w.kinds[0].hints, SIM_HINTS_CS);
	assert_int_equal(w.kinds[1].hints, SIM_HINTS_ALWAYS);
	assert_int_equal(sim_workload_parse(&w, "[vm a]\nvcpus = 2\n", err, sizeof(err)), 0);
	assert_int_equal(w.kinds[0].hints, SIM_HINTS_NONE);
	assert_int_equal(sim_workload_parse(&w, "[vm a]\nhints = yes\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "hints 'yes' is not one of none, cs, always"));
}

/*
 * The lock VM's 4 vCPUs span two cores, so a cut of the holder in its
 * critical section leaves the others spinning. Published critical sections
 * cut that spinning on every seed; the VM is extended, nobody else is.
 */
static void critical_sections_cut_spinning(void **state)
{
	static struct sim off, on;
	uint64_t seed, spin_off = 0, spin_on = 0;

	(void)state;
	for (seed = 1; seed <= 4; seed++) {
		run(&off, MIX("none", "none"), seed, 50);
		run(&on, MIX("cs", "none"), seed, 50);
		assert_int_equal(extensions(&off), 0);
		assert_true(on.vms[LOCK].m.cs_extensions > 0);
		assert_int_equal(extensions(&on), on.vms[LOCK].m.cs_extensions);
		/*
		 * Its timer kicks after 50 us; one kept by that dispatch is charged to
		 * the next tick, as BPF does: at most a tick and 50 us each.
		 */
		assert_true(on.vms[LOCK].m.cs_extended_ns <=
			    on.vms[LOCK].m.cs_extensions * (MS + 50000));
		assert_true(off.vms[LOCK].m.spin_ns > 0);
		print_message("seed %llu: lock VM spin %.1f ms without hints, %.1f ms with "
			      "(%llu extensions)\n",
			      (unsigned long long)seed, off.vms[LOCK].m.spin_ns / 1e6,
			      on.vms[LOCK].m.spin_ns / 1e6,
			      (unsigned long long)on.vms[LOCK].m.cs_extensions);
		spin_off += off.vms[LOCK].m.spin_ns;
		spin_on += on.vms[LOCK].m.spin_ns;
		sim_free(&off);
		sim_free(&on);
	}
	/* Over the seeds, at most 60% of the spinning is left. */
	assert_true(spin_on * 10 <= spin_off * 6);
}

/* No extension length (--cs-extension-us 0): critical sections change nothing. */
static void no_extension_no_change(void **state)
{
	static struct sim off, zero;
	unsigned int i;

	(void)state;
	run(&off, MIX("none", "none"), 1, 50);
	run(&zero, MIX("cs", "always"), 1, 0);
	assert_int_equal(extensions(&zero), 0);
	for (i = 0; i < NR_VMS; i++)
		assert_int_equal(zero.vms[i].m.run_ns, off.vms[i].m.run_ns);
	sim_free(&off);
	sim_free(&zero);
}

/*
 * A liar (every vCPU in a critical section all the time) is extended within
 * its budget: 3% of its vCPU time, the budget of a 1 s window counted on the
 * larger of its own and the last one's vCPU time, with the last extension of
 * each window charged up to its tick (10 ms of slack over 4 s). It pays in vtime, so
 * it owns no more core time than its honest twin, and the other VMs keep
 * their core time within 2% of a run without the liar's hints.
 */
static void a_liar_spends_only_its_own_share(void **state)
{
	static struct sim honest, liar;
	const struct sim_vm_metrics *l, *b;
	unsigned int i;

	(void)state;
	run(&honest, MIX("none", "none"), 1, 50);
	run(&liar, MIX("none", "always"), 1, 50);
	l = &liar.vms[BUSY2].m;
	b = &liar.vms[BUSY].m;
	assert_true(l->cs_extensions > 0);
	assert_true(l->cs_extended_ns * 100 <= l->run_ns * 3 + 10 * MS * 100);
	assert_true(l->owned_core_ns * 100 <= b->owned_core_ns * 102);
	for (i = 0; i < NR_VMS; i++) {
		uint64_t was = honest.vms[i].m.owned_core_ns, now = liar.vms[i].m.owned_core_ns;

		if (i == BUSY2)
			continue;
		assert_true(now * 100 >= was * 98);
	}
	sim_free(&honest);
	sim_free(&liar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hints_parse_and_refuse),
	    cmocka_unit_test(critical_sections_cut_spinning),
	    cmocka_unit_test(no_extension_no_change),
	    cmocka_unit_test(a_liar_spends_only_its_own_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
