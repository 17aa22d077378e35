/* The daemon's state as the JSON of `vmm-schedctl status` (json-c). */
#ifndef VS_STATUS_JSON_H
#define VS_STATUS_JSON_H

struct vs_daemon;
struct json_object;

struct json_object *status_to_json(struct vs_daemon *d);
/* Each enclave: name, cpus, cores, pairing, slice_us, vms, reserved_cores. */
struct json_object *enclaves_json(struct vs_daemon *d);

#endif
