/*
 * What `vmm-schedctl top` shows, from two status replies some time apart:
 * per VM the cores the share plan gives it and the cores it got, waited
 * (steal) and kept its siblings idle over the interval; per core the VM on
 * each thread and host intrusions; the enclave's totals. Pure: the CLI
 * fetches the replies and drives the terminal (vmm-sched/ctl/top.c).
 */
#ifndef VS_TOP_VIEW_H
#define VS_TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/vmm_sched_abi.h"
#include "registry.h"

struct json_object;

enum top_sort {
	TOP_SORT_NAME,
	TOP_SORT_PLANNED,
	TOP_SORT_DELIVERED,
	TOP_SORT_WAIT,
	TOP_SORT_FORCED_IDLE,
	TOP_NR_SORTS,
};

struct top_vm_row {
	int id, pid, weight, vcpus;
	char name[VS_VM_NAME_LEN];
	char letter;	    /* its mark in the core grid */
	double planned;	    /* cores, from the share plan */
	double delivered;   /* cores its vCPUs ran, over the interval */
	double wait;	    /* cores of time its vCPUs were runnable but not running */
	double forced_idle; /* cores of sibling time kept idle for its pairing */
};

struct top_core_cell {
	int core, nr_threads;
	int cpu[2];
	int vm[2];    /* the VM on each thread, -1: none */
	bool host[2]; /* a host task runs there now: a host intrusion */
};

struct top_totals {
	char name[VS_ENCLAVE_NAME_LEN]; /* the enclave's, "" for all of them together */
	char cpus[128];
	int cores;
	double vcpu_pct, host_pct, idle_pct, forced_idle_pct;
	uint64_t host_intrusions; /* vCPUs host tasks pushed off during the interval */
};

struct top_frame {
	uint64_t interval_ns;
	enum top_sort sort;
	struct top_totals enclave; /* every enclave's CPUs together */
	int nr_enclaves;	   /* each enclave the status lists, by name */
	struct top_totals enclaves[VS_MAX_ENCLAVES];
	int nr_cores, nr_vms;
	struct top_core_cell cores[VS_MAX_CPUS];
	struct top_vm_row vms[VS_MAX_VMS];
};

/* "name", "planned", ... and the keys n p d w f; -1 if none. */
int top_sort_from_name(const char *name);
int top_sort_from_key(int key);
const char *top_sort_name(enum top_sort sort);

/*
 * Fills @f from the status replies @prev and @cur (@prev may be NULL: the
 * rates are then 0). @fallback_ns is the interval when the replies carry
 * no sample times. 0, or -1 if @cur is not a status reply.
 */
int top_frame_build(struct json_object *prev, struct json_object *cur, uint64_t fallback_ns,
		    enum top_sort sort, struct top_frame *f);
void top_frame_sort(struct top_frame *f, enum top_sort sort);

/*
 * The frame as text for a terminal @width columns wide, with ANSI colours if
 * @colour (a background per VM, host intrusions in red); plain text without.
 * Returns the bytes written to @buf (NUL-terminated, cut at @len).
 */
size_t top_frame_render(const struct top_frame *f, bool colour, int width, char *buf, size_t len);

/* The frame as the schema's top_frame (docs/control-protocol.schema.json). */
struct json_object *top_frame_json(const struct top_frame *f);

#endif
