/*
 * What the simulator measures: per VM (work, waits, forced idle, shares,
 * owner changes) and for the whole run (pairing and cap violations).
 */
#ifndef VS_SIM_METRICS_H
#define VS_SIM_METRICS_H

#include <stdint.h>

/*
 * Wait times, log-linear: 8 buckets per power of two, so a percentile is
 * within 1/8 (12.5%) of the true value; reported as the bucket's midpoint.
 */
#define SIM_HIST_SUB	 8
#define SIM_HIST_BUCKETS (64 * SIM_HIST_SUB)

struct sim_hist {
	uint32_t count[SIM_HIST_BUCKETS];
	uint64_t n, max;
};

void sim_hist_add(struct sim_hist *h, uint64_t v);
/* The @pct-th percentile (0..100), 0 if empty. */
uint64_t sim_hist_pct(const struct sim_hist *h, unsigned int pct);

struct sim_vm_metrics {
	uint64_t run_ns;	  /* vCPU time */
	uint64_t work_ns;	  /* vCPU time doing work (not spinning on a lock) */
	uint64_t spin_ns;	  /* vCPU time spinning for a lock holder that is off a CPU */
	uint64_t forced_idle_ns;  /* threads of its cores idle while vCPUs waited */
	uint64_t owned_core_ns;	  /* integral of its owned cores */
	uint64_t planned_core_ns; /* integral of its planned share (share_mcores / 1000) */
	uint64_t owner_changes;	  /* times a core was handed to it */
	uint32_t max_owned;	  /* most cores it owned at once */
	uint32_t overlaps;	  /* its vCPUs started beside another VM's */
	uint32_t idle_owned;	  /* threads of cores it owns that are idle now */
	uint64_t last_at;	  /* integrals are up to here */
	uint64_t last_waiting;	  /* sim_totals.waiting_ns at last_at */
	uint64_t waiting_since;	  /* it has had queued vCPUs and started none since (0: not) */
	uint64_t max_starve_ns;	  /* longest such stretch, once one of its vCPUs had run */
	uint64_t first_wait_ns;	  /* the stretch before its first vCPU ran */
	uint64_t cs_extensions;	  /* slices extended for a critical section (guest hints) */
	uint64_t cs_extended_ns;  /* time run on them past the slice's end */
	struct sim_hist wait;
};

struct sim_totals {
	uint64_t events;
	uint64_t overlaps;	    /* a thread started a vCPU beside another VM's vCPU */
	uint64_t owner_mismatches;  /* a vCPU started on a core its VM does not own */
	uint64_t vtime_regressions; /* a VM's vtime went down */
	uint64_t cap_overshoot_max; /* most cores a capped VM owned above its cap */
	uint64_t forced_idle_ns;    /* thread time idle while some vCPU waited */
	uint64_t waiting_ns;	    /* time some vCPU waited (integral clock) */
	uint64_t busy_thread_ns;    /* thread time running vCPUs */
	uint64_t plan_rounds;
	uint64_t starved_grants; /* cores handed over by the starvation guard (BPF's counter) */
	uint64_t starved_early;	 /* ... to a VM that had waited less than the guard */
	uint64_t split_grants;	 /* cores given to a VM while a core it owned had an idle thread */
	uint64_t sibling_waits; /* offers held back for the VM's last core (vs_waits_for_sibling) */
	uint64_t core_slice_max; /* the longest core slice a plan set */
	uint32_t idle_threads;	 /* now */
	uint32_t queued;	 /* vCPUs queued now */
	uint64_t last_at;
};

#endif
