/*
 * What the simulator's tests check after a run: the safety properties, the
 * longest a VM went without a vCPU start, and the run's CSV (for determinism).
 * Include after cmocka.h.
 */
#ifndef VS_TESTS_SIM_CHECKS_H
#define VS_TESTS_SIM_CHECKS_H

#include <stdbool.h>
#include <stdio.h>

#include "vmm-sched/sim/sim.h"
#include "vmm-sched/sim/sim_report.h"

/* Overlaps, unowned starts, cap overshoot past one core, forced idle below its bound. */
static inline bool sim_safety_broken(const struct sim *s, char *why, size_t len)
{
	if (!s->t.overlaps && !s->t.owner_mismatches && s->t.cap_overshoot_max <= 1 &&
	    s->t.forced_idle_ns >= s->bound.lb_ns)
		return false;
	snprintf(why, len,
		 "overlaps %llu, owner mismatches %llu, cap overshoot %llu, forced idle %llu < "
		 "bound %llu",
		 (unsigned long long)s->t.overlaps, (unsigned long long)s->t.owner_mismatches,
		 (unsigned long long)s->t.cap_overshoot_max,
		 (unsigned long long)s->t.forced_idle_ns, (unsigned long long)s->bound.lb_ns);
	return true;
}

/*
 * A VM that went longer than @starve_ns without starting a vCPU while it had
 * one queued, before its first run as well as after.
 */
static inline bool sim_starved_past(const struct sim *s, uint64_t starve_ns, char *why, size_t len)
{
	for (uint32_t i = 0; i < s->nr_vms; i++) {
		const struct sim_vm_metrics *m = &s->vms[i].m;
		uint64_t worst =
		    m->max_starve_ns > m->first_wait_ns ? m->max_starve_ns : m->first_wait_ns;

		if (worst > starve_ns) {
			snprintf(why, len, "VM %u started no vCPU for %llu ms%s (guard %llu ms)", i,
				 (unsigned long long)worst / SIM_MS,
				 worst == m->max_starve_ns ? "" : " before its first run",
				 (unsigned long long)starve_ns / SIM_MS);
			return true;
		}
	}
	return false;
}

/* The benchmark's host (@cpus threads, two per core) for @ms simulated ms with @seed. */
static inline void sim_params_bench(struct sim_params *p, uint32_t cpus, uint64_t ms, uint64_t seed)
{
	sim_params_default(p);
	p->cpus = cpus;
	p->threads_per_core = 2;
	p->duration_ns = ms * SIM_MS;
	p->seed = seed;
}

/* Runs the workload @text with @p; it must parse, run and break no pairing. */
static inline void sim_run_workload(struct sim *s, const char *text, const struct sim_params *p)
{
	struct sim_workload w;
	char err[256];

	assert_int_equal(sim_workload_parse(&w, text, err, sizeof(err)), 0);
	assert_int_equal(sim_init(s, p, &w, err, sizeof(err)), 0);
	assert_int_equal(sim_run(s), 0);
	assert_int_equal(s->t.overlaps, 0);
}

/* The run's CSV as a string (the caller frees it); frees the simulation. */
static inline char *sim_csv_then_free(struct sim *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	sim_report_csv(s, f);
	fclose(f);
	sim_free(s);
	return buf;
}

#endif
