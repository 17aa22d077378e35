/* Enclaves changed live. */
#ifndef VS_ENCLAVE_OPS_H
#define VS_ENCLAVE_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "cpuset.h"
#include "enclave_set.h"

struct vs_daemon;
struct json_object;

/*
 * Each checks with lib/enclave_set.c first: -1 with err and nothing changed
 * if refused. A core leaving an enclave is drained first (no vCPU runs there
 * once it has left).
 */
void enclave_load_of(struct vs_daemon *d, int id, struct vs_enclave_load *out);
int enclave_create(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus, int pairing,
		   unsigned int slice_us, char *err, size_t errlen);
int enclave_destroy(struct vs_daemon *d, const char *name, bool force, char *err, size_t errlen);
int enclave_add_cores(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus,
		      char *err, size_t errlen);
int enclave_remove_cores(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus,
			 char *err, size_t errlen);
int vm_move(struct vs_daemon *d, int vm_id, const char *name, char *err, size_t errlen);
/* The plan as a JSON array of {cpus, from, to}, carried out unless @dry_run; NULL with err. */
struct json_object *enclave_rebalance(struct vs_daemon *d, bool dry_run, char *err, size_t errlen);

#endif
