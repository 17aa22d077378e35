/* The simulator's CSV and summary (see sim_report.h). */
#include "sim_report.h"

#include <math.h>

#include "sim.h"
#include "sim_policy.h"

#define NS_MS 1e6
#define NS_US 1e3

double sim_fairness_err_pct(const struct sim *s, unsigned int i)
{
	const struct sim_vm_metrics *m = &s->vms[i].m;

	if (!m->planned_core_ns)
		return 0;
	return ((double)m->owned_core_ns - (double)m->planned_core_ns) * 100.0 /
	       (double)m->planned_core_ns;
}

double sim_bound_ratio(const struct sim *s)
{
	if (!s->bound.lb_ns)
		return -1;
	return (double)s->t.forced_idle_ns / (double)s->bound.lb_ns;
}

double sim_fair_ref_ratio(const struct sim *s)
{
	if (!s->fair_ref.fr_ns)
		return -1;
	return (double)s->t.forced_idle_ns / (double)s->fair_ref.fr_ns;
}

static const char *const model_names[] = {"busy", "duty", "lock", "bursty"};
static const char *const hints_names[] = {"none", "cs", "always"};

void sim_report_csv(const struct sim *s, FILE *f)
{
	uint64_t work = 0, run = 0, spin = 0, owned = 0, planned = 0, changes = 0, exts = 0,
		 ext_ns = 0;
	double worst_err = 0, ratio = sim_bound_ratio(s);
	uint64_t p99_max = 0, wait_max = 0, starve_max = 0, first_max = 0;
	unsigned int i;

	fprintf(f, "vm,kind,model,vcpus,weight,reserve,cap,work_ms,run_ms,spin_ms,wait_p50_us,"
		   "wait_p99_us,wait_max_us,forced_idle_ms,owned_core_ms,planned_core_ms,"
		   "fairness_err_pct,owner_changes,max_owned_cores,overlaps,no_start_max_ms,"
		   "first_wait_ms,lower_bound_ms,"
		   "forced_idle_over_bound,fair_ref_ms,hints,cs_extensions,cs_extended_ms\n");
	for (i = 0; i < s->nr_vms; i++) {
		const struct sim_vm *vm = &s->vms[i];
		const struct sim_vm_metrics *m = &vm->m;
		double err = sim_fairness_err_pct(s, i);

		fprintf(f,
			"%u,%s,%s,%u,%u,%u,%u,%.3f,%.3f,%.3f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%.2f,"
			"%llu,%u,%u,%.3f,%.3f,,,,%s,%llu,%.3f\n",
			i, vm->kind->name, model_names[vm->kind->model], vm->nr_vcpus,
			vm->kind->weight, vm->kind->reserve, vm->kind->cap, m->work_ns / NS_MS,
			m->run_ns / NS_MS, m->spin_ns / NS_MS, sim_hist_pct(&m->wait, 50) / NS_US,
			sim_hist_pct(&m->wait, 99) / NS_US, m->wait.max / NS_US,
			m->forced_idle_ns / NS_MS, m->owned_core_ns / NS_MS,
			m->planned_core_ns / NS_MS, err, (unsigned long long)m->owner_changes,
			m->max_owned, m->overlaps, m->max_starve_ns / NS_MS,
			m->first_wait_ns / NS_MS, hints_names[vm->kind->hints],
			(unsigned long long)m->cs_extensions, m->cs_extended_ns / NS_MS);
		work += m->work_ns;
		exts += m->cs_extensions;
		ext_ns += m->cs_extended_ns;
		run += m->run_ns;
		spin += m->spin_ns;
		owned += m->owned_core_ns;
		planned += m->planned_core_ns;
		changes += m->owner_changes;
		if (fabs(err) > fabs(worst_err))
			worst_err = err;
		if (sim_hist_pct(&m->wait, 99) > p99_max)
			p99_max = sim_hist_pct(&m->wait, 99);
		if (m->wait.max > wait_max)
			wait_max = m->wait.max;
		if (m->max_starve_ns > starve_max)
			starve_max = m->max_starve_ns;
		if (m->first_wait_ns > first_max)
			first_max = m->first_wait_ns;
	}
	/* The "all" row: sums, the worst VM's wait and fairness error, the bound, the reference. */
	fprintf(
	    f,
	    "all,,,%u,,,,%.3f,%.3f,%.3f,,%.1f,%.1f,%.3f,%.3f,%.3f,%.2f,%llu,,%llu,%.3f,%.3f,%.3f,",
	    s->nr_vcpus, work / NS_MS, run / NS_MS, spin / NS_MS, p99_max / NS_US, wait_max / NS_US,
	    s->t.forced_idle_ns / NS_MS, owned / NS_MS, planned / NS_MS, worst_err,
	    (unsigned long long)changes, (unsigned long long)s->t.overlaps, starve_max / NS_MS,
	    first_max / NS_MS, s->bound.lb_ns / NS_MS);
	if (ratio >= 0)
		fprintf(f, "%.3f", ratio);
	fprintf(f, ",%.3f,,%llu,%.3f\n", s->fair_ref.fr_ns / NS_MS, (unsigned long long)exts,
		ext_ns / NS_MS);
}

void sim_report_summary(const struct sim *s, FILE *f, double wall_s)
{
	double secs = s->p.duration_ns / 1e9, ratio = sim_bound_ratio(s), worst_err = 0;
	double ratio_fair = sim_fair_ref_ratio(s);
	uint64_t work = 0, p99_max = 0, spin = 0, exts = 0;
	unsigned int i;

	for (i = 0; i < s->nr_vms; i++) {
		double err = sim_fairness_err_pct(s, i);

		work += s->vms[i].m.work_ns;
		spin += s->vms[i].m.spin_ns;
		exts += s->vms[i].m.cs_extensions;
		if (fabs(err) > fabs(worst_err))
			worst_err = err;
		if (sim_hist_pct(&s->vms[i].m.wait, 99) > p99_max)
			p99_max = sim_hist_pct(&s->vms[i].m.wait, 99);
	}
	fprintf(f,
		"policy=%s%s seed=%llu cpus=%u tpc=%u vms=%u vcpus=%u secs=%g work_cpu_s=%.3f "
		"busy=%.1f%% forced_idle_ms=%.3f lower_bound_ms=%.3f ",
		s->policy->name, s->p.charge_kept ? "" : "-no-charge-kept",
		(unsigned long long)s->p.seed, s->nr_cpus, s->tpc, s->nr_vms, s->nr_vcpus, secs,
		work / 1e9,
		s->t.busy_thread_ns * 100.0 / ((double)s->nr_cpus * (double)s->p.duration_ns),
		s->t.forced_idle_ns / NS_MS, s->bound.lb_ns / NS_MS);
	if (ratio >= 0)
		fprintf(f, "ratio=%.3f ", ratio);
	else
		fprintf(f, "ratio=- ");
	fprintf(f, "fair_ref_ms=%.3f ", s->fair_ref.fr_ns / NS_MS);
	if (ratio_fair >= 0)
		fprintf(f, "ratio_fair=%.3f ", ratio_fair);
	else
		fprintf(f, "ratio_fair=- ");
	fprintf(
	    f,
	    "wait_p99_max_us=%.1f fairness_err_worst_pct=%.2f overlaps=%llu starved_grants=%llu "
	    "split_grants=%llu sibling_waits=%llu spin_ms=%.3f cs_extensions=%llu events=%llu",
	    p99_max / NS_US, worst_err, (unsigned long long)s->t.overlaps,
	    (unsigned long long)s->t.starved_grants, (unsigned long long)s->t.split_grants,
	    (unsigned long long)s->t.sibling_waits, spin / NS_MS, (unsigned long long)exts,
	    (unsigned long long)s->t.events);
	if (s->policy->report)
		s->policy->report(s, f);
	if (wall_s > 0)
		fprintf(f, " speed=%.2f", secs / wall_s);
	fprintf(f, "\n");
}
