/*
 * The host's enclaves: named sets of whole cores, each with its own pairing
 * mode and vCPU slice; a VM belongs to one. Every change an operator asks
 * for is checked here first (no system calls), so a refused change names its
 * reason and leaves everything as it was. The rebalance plan is computed
 * here too.
 */
#ifndef VS_ENCLAVE_SET_H
#define VS_ENCLAVE_SET_H

#include <stdbool.h>
#include <stddef.h>

#include "enclave.h"

#define VS_ENCLAVE_DEFAULT_NAME "default"

struct vs_enclave_def {
	bool used;
	char name[VS_ENCLAVE_NAME_LEN];
	struct vs_enclave enc;
	bool relaxed;	       /* VS_PAIRING_RELAXED, else strict */
	unsigned int slice_us; /* vCPU time slice */
};

struct vs_enclave_set {
	struct vs_enclave_def e[VS_MAX_ENCLAVES]; /* index = enclave id; 0 = default */
};

/* What an enclave's VMs ask of it (the agent sums its VMs). */
struct vs_enclave_load {
	int nr_vms;
	int reserve_cores; /* their reservations */
	int demand_cores;  /* cores their active vCPUs would fill */
};

void enclave_set_init(struct vs_enclave_set *set);
/* The id of enclave @name, or -1. */
int enclave_set_find(const struct vs_enclave_set *set, const char *name);
/* The id of the enclave holding @cpu, or -1. */
int enclave_set_of_cpu(const struct vs_enclave_set *set, int cpu);
/* Every CPU of every enclave. */
void enclave_set_all_cpus(const struct vs_enclave_set *set, struct vs_cpuset *out);
/* 1..31 of A-Z a-z 0-9 . _ -; else -1 with err. */
int enclave_name_check(const char *name, char *err, size_t errlen);

/* A free id for a new enclave @name, or -1 with err (bad or taken name, no room). */
int enclave_check_create(const struct vs_enclave_set *set, const char *name, char *err,
			 size_t errlen);
/*
 * May @cpus join enclave @id? Every CPU online, with all its SMT siblings
 * listed, in no other enclave and not in @id already. -1 with err naming the
 * first CPU that fails.
 */
int enclave_check_add(const struct vs_enclave_set *set, const struct vs_topology *topo, int id,
		      const struct vs_cpuset *cpus, char *err, size_t errlen);
/*
 * May @cpus leave enclave @id, given what its VMs ask (@load)? Whole cores
 * of @id only; not its last core while it has VMs; the cores left must hold
 * the VMs' reservations. -1 with err.
 */
int enclave_check_remove(const struct vs_enclave_set *set, const struct vs_topology *topo, int id,
			 const struct vs_cpuset *cpus, const struct vs_enclave_load *load,
			 char *err, size_t errlen);
/* May enclave @id go? Never the default one; with VMs only with @force. */
int enclave_check_destroy(const struct vs_enclave_set *set, int id,
			  const struct vs_enclave_load *load, bool force, char *err, size_t errlen);
/*
 * May a VM reserving @reserve_cores move into enclave @to, whose VMs ask
 * @load_to? It needs a core, and the reservations must fit.
 */
int enclave_check_vm_move(const struct vs_enclave_set *set, int to, int reserve_cores,
			  const struct vs_enclave_load *load_to, char *err, size_t errlen);

/* One step of a rebalance: the core of @core_cpu goes from enclave @from to @to. */
struct vs_enclave_move {
	int core_cpu;
	int from, to;
};
/*
 * Cores to move between enclaves so each holds what its VMs need: first
 * every enclave with VMs gets max(1, their reservations), then cores go one
 * at a time to the enclave whose demand is least met, and the rest stay where
 * they are. Writes up to @max moves (the fewest that reach the targets) and
 * their number to *nr; -1 with err if the reservations exceed all cores.
 */
int enclave_rebalance_plan(const struct vs_enclave_set *set, const struct vs_topology *topo,
			   const struct vs_enclave_load load[VS_MAX_ENCLAVES],
			   struct vs_enclave_move *moves, int max, int *nr, char *err,
			   size_t errlen);

#endif
