/*
 * What the simulated VMs do: VM templates read from a workload file (or the
 * built-in default), and each vCPU's next run and block lengths.
 *
 * File format (INI, read with inih): one section per kind of VM,
 *
 *   [vm NAME]
 *   count = 4          ; VMs of this kind (--vms N instead deals N VMs from the kinds in turn)
 *   vcpus = 2
 *   weight = 100       ; 1..10000
 *   reserve = 0        ; cores, 0: none
 *   cap = 0            ; cores, 0: none
 *   node = -1          ; home NUMA node, -1: none
 *   model = busy | duty | lock | bursty
 *   dist = exp | fixed ; duty: how run_us and block_us are drawn
 *   run_us = 2000      ; duty: run per burst; bursty: each vCPU's work per burst
 *   block_us = 2000    ; duty: sleep between bursts; bursty: mean gap between bursts
 *   hold_us = 200      ; lock: run time vCPU 0 holds the lock ...
 *   free_us = 800      ; ... and runs without it; the others spin while the holder is off a CPU
 *   hints = none | cs | always ; guest hints (docs/guest-abi.md) the VM publishes:
 *                      ; cs: a lock VM's holder is in a critical section while it
 *                      ; holds the lock; always: every vCPU claims one all the time (a liar)
 *
 * Models: busy never blocks; duty alternates run and block; lock is busy,
 * vCPU 0 takes a lock for hold_us of its run time in every hold_us + free_us,
 * and while it holds the lock off a CPU the VM's other vCPUs spin (run, do no
 * work); bursty wakes all of the VM's vCPUs at once, each with run_us of work.
 */
#ifndef VS_SIM_WORKLOAD_H
#define VS_SIM_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sim_rng.h"

enum sim_model { SIM_BUSY, SIM_DUTY, SIM_LOCK, SIM_BURSTY };
enum sim_hints { SIM_HINTS_NONE, SIM_HINTS_CS, SIM_HINTS_ALWAYS };

#define SIM_NAME_LEN	 32
#define SIM_MAX_KINDS	 64
#define SIM_MAX_VCPUS_VM 256

struct sim_vm_kind {
	char name[SIM_NAME_LEN];
	unsigned int count, vcpus, weight, reserve, cap;
	int node;
	enum sim_model model;
	enum sim_hints hints;
	int exp_dist; /* 1: exponential run/block, 0: fixed */
	uint64_t run_ns, block_ns, hold_ns, free_ns;
};

struct sim_workload {
	struct sim_vm_kind kinds[SIM_MAX_KINDS];
	unsigned int nr_kinds;
};

/* The built-in workload: half busy VMs, half duty-cycle ones, 2 vCPUs each. */
void sim_workload_default(struct sim_workload *w);

/* Reads @path into @w; 0, or -1 with "FILE:LINE: what" in @err. */
int sim_workload_load(struct sim_workload *w, const char *path, char *err, size_t errlen);

/* Same, from the text @text (tests). */
int sim_workload_parse(struct sim_workload *w, const char *text, char *err, size_t errlen);

/* Kind of the @i-th of @nr_vms VMs: by counts, or dealt in turn if @nr_vms is set. */
const struct sim_vm_kind *sim_workload_kind_of(const struct sim_workload *w, unsigned int i,
					       unsigned int nr_vms);
/* Total VMs the file's counts make. */
unsigned int sim_workload_count(const struct sim_workload *w);

/* A duty vCPU's next run length and block length. */
uint64_t sim_workload_run_len(const struct sim_vm_kind *k, struct sim_rng *r);
uint64_t sim_workload_block_len(const struct sim_vm_kind *k, struct sim_rng *r);

#endif
