/* `vmm-schedctl status`: the status reply as tables. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl_cli.h"
#include "json_fields.h"

/* The libvirt connection, and each domain that asked to be scheduled but is not, with why. */
static void print_libvirt(struct json_object *lv)
{
	struct json_object *bad = jf_obj(lv, "unmanaged");

	if (!lv || !jf_bool(lv, "enabled"))
		return;
	printf("\nlibvirt    %s, %s; %zu domains scheduled\n", jf_str(lv, "uri"),
	       jf_bool(lv, "connected") ? "connected" : "NOT connected (retrying)",
	       json_object_array_length(jf_obj(lv, "domains")));
	for (size_t i = 0; bad && i < json_object_array_length(bad); i++) {
		struct json_object *b = json_object_array_get_idx(bad, i);

		printf("libvirt    domain %s: UNMANAGED: %s\n", jf_str(b, "domain"),
		       jf_str(b, "error"));
	}
}

/* Per VM: its guest hint region's state and what the scheduler did with the hints. */
static void print_hints(struct json_object *vms)
{
	printf("\n%-16s %-8s %-36s %8s %10s %10s %10s %8s %8s\n", "VM", "HINTS", "FAULT",
	       "DISABLES", "IDLE_FLAPS", "CS_EXT", "CS_EXT_MS", "IDLE_HO", "YIELDS");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);
		struct json_object *h = jf_obj(vm, "hints");

		printf("%-16s %-8s %-36s %8lld %10lld %10lld %10.1f %8lld %8lld\n",
		       jf_str(vm, "name"), h ? jf_str(h, "state") : "-",
		       h && jf_obj(h, "fault") ? jf_str(h, "fault") : "-",
		       h ? (long long)jf_i64(h, "disables") : 0LL,
		       h ? (long long)jf_i64(h, "idle_flaps") : 0LL,
		       (long long)jf_i64(vm, "cs_extensions"), jf_i64(vm, "cs_extended_ns") / 1e6,
		       (long long)jf_i64(vm, "idle_handoffs"),
		       (long long)jf_i64(vm, "directed_yields"));
	}
}

void print_status(struct json_object *st)
{
	struct json_object *sched = jf_obj(st, "scheduler"), *enc = jf_obj(st, "enclave");
	struct json_object *cpus = jf_obj(st, "cpus"), *vms = jf_obj(st, "vms");

	struct json_object *cores = jf_obj(st, "cores"), *ctl = jf_obj(st, "control");

	printf("scheduler  %s (sched_ext %s, ABI %lld, slice %lld us, %s pairing, kick %s)\n",
	       jf_str(sched, "name"), jf_str(sched, "sched_ext_state"),
	       (long long)jf_i64(sched, "abi_version"), (long long)jf_i64(sched, "slice_us"),
	       jf_str(sched, "pairing"), jf_str(sched, "kick"));
	printf("messages   %lld received, %lld stale, %lld invalid, %lld dropped, %lld late, "
	       "%lld resyncs\n",
	       (long long)jf_i64(sched, "messages"), (long long)jf_i64(sched, "stale_messages"),
	       (long long)jf_i64(sched, "invalid_messages"),
	       (long long)jf_i64(sched, "dropped_messages"),
	       (long long)jf_i64(sched, "late_messages"), (long long)jf_i64(sched, "resyncs"));
	printf("pinned     %s%s\n", jf_str(sched, "pin_dir"),
	       jf_bool(sched, "adopted") ? " (adopted from a previous agent)" : "");
	if (ctl)
		printf("control    %lld of %lld connections open; %lld timed out, %lld dropped "
		       "when full, %lld denied%s%s\n",
		       (long long)jf_i64(ctl, "connections"),
		       (long long)jf_i64(ctl, "max_connections"),
		       (long long)jf_i64(ctl, "timed_out"),
		       (long long)jf_i64(ctl, "dropped_when_full"),
		       (long long)jf_i64(ctl, "denied"), jf_obj(ctl, "group") ? "; group " : "",
		       jf_obj(ctl, "group") ? jf_str(ctl, "group") : "");
	printf("enclave    CPUs %s (%lld cores x %lld threads)\n\n", jf_str(enc, "cpus"),
	       (long long)jf_i64(enc, "cores"), (long long)jf_i64(enc, "threads_per_core"));
	printf("%5s %-9s %-8s %9s\n", "CORE", "CPUS", "OWNER_VM", "SIB_WAKES");
	for (size_t i = 0; cores && i < json_object_array_length(cores); i++) {
		struct json_object *c = json_object_array_get_idx(cores, i),
				   *cl = jf_obj(c, "cpus");
		char list[32] = "";

		for (size_t j = 0; cl && j < json_object_array_length(cl); j++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
				 j ? "," : "",
				 json_object_get_int(json_object_array_get_idx(cl, j)));
		printf("%5lld %-9s %-8lld %9lld%s\n", (long long)jf_i64(c, "core"), list,
		       (long long)jf_i64(c, "owner_vm"), (long long)jf_i64(c, "sibling_wakeups"),
		       json_object_get_boolean(jf_obj(c, "draining")) ? " draining" : "");
	}
	printf("\n%4s %5s %10s %12s %10s %14s %12s %12s %12s %8s\n", "CPU", "CORE", "VCPU_RUNS",
	       "VCPU_MS", "IDLE_DISP", "FORCED_IDLE_MS", "HOST_IDLE_MS", "HOST_MS", "IDLE_MS",
	       "HANDOFFS");
	for (size_t i = 0; cpus && i < json_object_array_length(cpus); i++) {
		struct json_object *c = json_object_array_get_idx(cpus, i);

		printf("%4lld %5lld %10lld %12.1f %10lld %14.1f %12.1f %12.1f %12.1f %8lld\n",
		       (long long)jf_i64(c, "cpu"), (long long)jf_i64(c, "core"),
		       (long long)jf_i64(c, "vcpu_runs"), jf_i64(c, "vcpu_ns") / 1e6,
		       (long long)jf_i64(c, "empty_dispatch"), jf_i64(c, "forced_idle_ns") / 1e6,
		       jf_i64(c, "host_idle_ns") / 1e6, jf_i64(c, "host_ns") / 1e6,
		       jf_i64(c, "idle_ns") / 1e6, (long long)jf_i64(c, "owner_changes"));
	}
	printf("\n%-16s %4s %7s %12s %14s %8s %4s %11s\n", "VM", "ID", "WEIGHT", "CORE_MS",
	       "FORCED_IDLE_MS", "GRANTS", "NODE", "LOCAL_CORES");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);
		struct json_object *local = jf_obj(vm, "numa_local_cores");
		char node[16] = "-", nr_local[16] = "-";

		if (jf_obj(vm, "numa_node"))
			snprintf(node, sizeof(node), "%lld", (long long)jf_i64(vm, "numa_node"));
		if (local)
			snprintf(nr_local, sizeof(nr_local), "%zu",
				 json_object_array_length(local));
		printf("%-16s %4lld %7lld %12.1f %14.1f %8lld %4s %11s\n", jf_str(vm, "name"),
		       (long long)jf_i64(vm, "id"), (long long)jf_i64(vm, "weight"),
		       jf_i64(vm, "run_ns") / 1e6, jf_i64(vm, "forced_idle_ns") / 1e6,
		       (long long)jf_i64(vm, "core_grants"), node, nr_local);
	}
	print_hints(vms);
	print_libvirt(jf_obj(st, "libvirt"));
	printf("\n%-16s %7s %5s %8s %-9s %4s %8s %10s %10s %8s %8s\n", "VM", "PID", "VCPU", "TID",
	       "STATE", "CPU", "RUNS", "RUN_MS", "WAIT_MS", "WAKEUPS", "PREEMPT");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);
		struct json_object *vcpus = jf_obj(vm, "vcpus");

		for (size_t j = 0; vcpus && j < json_object_array_length(vcpus); j++) {
			struct json_object *v = json_object_array_get_idx(vcpus, j);

			printf("%-16s %7lld %5lld %8lld %-9s %4lld %8lld %10.1f %10.1f %8lld "
			       "%8lld\n",
			       jf_str(vm, "name"), (long long)jf_i64(vm, "pid"),
			       (long long)jf_i64(v, "index"), (long long)jf_i64(v, "tid"),
			       jf_str(v, "state"), (long long)jf_i64(v, "cpu"),
			       (long long)jf_i64(v, "runs"), jf_i64(v, "run_ns") / 1e6,
			       jf_i64(v, "wait_ns") / 1e6, (long long)jf_i64(v, "wakeups"),
			       (long long)jf_i64(v, "preempts"));
		}
	}
}
