/* Guest hint regions (docs/guest-abi.md). */
#ifndef VS_HINT_REGIONS_H
#define VS_HINT_REGIONS_H

#include <stddef.h>
#include <stdint.h>

struct vs_daemon;
struct json_object;

/*
 * hints_attach maps @path for VM @vm_id; hints_attach_default does so for
 * @path if given, else for <hints-dir>/<VM name> if that file exists.
 * hints_tick reads every region and mirrors the valid hints into vcpu_hints.
 */
int hints_attach(struct vs_daemon *d, int vm_id, const char *path, char *err, size_t errlen);
int hints_attach_default(struct vs_daemon *d, int vm_id, const char *path, char *err,
			 size_t errlen);
void hints_detach(struct vs_daemon *d, int vm_id);
void hints_tick(struct vs_daemon *d);
/* Zeroes every vCPU's hints in the map (a previous agent's may linger). */
void hints_clear_all(struct vs_daemon *d);
struct json_object *hints_status_json(struct vs_daemon *d, int vm_id); /* NULL: no region */
uint64_t hints_disables_total(struct vs_daemon *d);

#endif
