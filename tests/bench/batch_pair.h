/* SPDX-License-Identifier: GPL-2.0 */
/*
 * batch-pair, the benchmark's batch-pairing baseline: what its BPF side and
 * its loader agree on. Shares nothing with vmm_sched's ABI.
 */
#ifndef BENCH_BATCH_PAIR_H
#define BENCH_BATCH_PAIR_H

#define BP_MAX_CPUS 256
#define BP_MAX_VMS  16
#define BP_NO_VM    (-1)

/* Counters in .bss, read by the loader at exit. */
struct bp_stats {
	unsigned long long batches;	    /* a core given to a VM (new owner or renewed) */
	unsigned long long drains;	    /* owner changes that had to wait for the sibling */
	unsigned long long extended;	    /* a vCPU kept its CPU for lack of another of its VM */
	unsigned long long overlaps;	    /* self-check: a vCPU started beside another VM's */
	unsigned long long switch_overlaps; /* switched to a vCPU beside another VM's */
	unsigned long long unknown;	    /* SCHED_EXT tasks of no registered VM */
};

#endif
