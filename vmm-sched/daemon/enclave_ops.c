/*
 * Enclaves changed live (vmm-schedctl enclave ..., vm move, rebalance). The
 * checks are lib/enclave_set.c's; this carries them out. A core leaves an
 * enclave through the scheduler's gate (vs_core_gate): closed, it takes no
 * vCPU; its enclave's vCPUs are pinned to the CPUs that stay, which moves any
 * running there off at once; once the gate reports the core empty it changes
 * enclave and opens again. A core that does not empty in time goes back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "daemon.h"
#include "enclave_ops.h"
#include "log.h"
#include "sched_maps.h"
#include "sched_messages.h"
#include "sched_records.h"
#include "vm_release.h"

#define DRAIN_TIMEOUT_MS 5000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void enclave_load_of(struct vs_daemon *d, int id, struct vs_enclave_load *out)
{
	const struct vs_enclave *enc = &d->enclaves.e[id].enc;
	int tpc =
	    enc->nr_cores ? topology_threads_per_core(&d->topo, cpuset_next(&enc->cpus, 0)) : 1;
	int vm_id;

	memset(out, 0, sizeof(*out));
	registry_for_each_vm(vm_id, &d->reg)
	{
		const struct vs_vm_rec *vm = &d->reg.vms[vm_id];
		int want;

		if (vm->enclave != id)
			continue;
		out->nr_vms++;
		out->reserve_cores += (int)vm->reserve_cores;
		want = ((int)d->share.active_vcpus[vm_id] + tpc - 1) / (tpc > 0 ? tpc : 1);
		if (vm->cap_cores && want > (int)vm->cap_cores)
			want = (int)vm->cap_cores;
		out->demand_cores += want;
	}
}

/* Pins the vCPUs of every VM in enclave @id to @cpus. */
static void pin_enclave_vms(struct vs_daemon *d, int id, const struct vs_cpuset *cpus)
{
	int vm_id;

	registry_for_each_vm(vm_id, &d->reg) if (d->reg.vms[vm_id].enclave == id)
	    vm_pin_vcpus(d, vm_id, cpus);
}

static void write_cpus(struct vs_daemon *d, const struct vs_cpuset *cpus)
{
	int cpu, e;

	cpuset_for_each(cpu, cpus)
	{
		e = vs_maps_write_cpu(d, cpu);
		if (e)
			vs_err("cannot write cpu_ctx[%d]: %s", cpu, strerror(-e));
	}
}

/* Opens (@open) or closes every core of @cpus; on close, true once all are empty. */
static bool gate_all(struct vs_daemon *d, const struct vs_cpuset *cpus, bool open)
{
	bool all_empty = true, empty;
	int cpu;

	cpuset_for_each(cpu, cpus)
	{
		if (d->topo.core_of[cpu] != cpu)
			continue;
		if (vs_maps_core_gate(d, cpu, open, &empty)) {
			vs_err("the core gate of CPU %d failed: %s", cpu, strerror(errno));
			empty = false;
		}
		all_empty &= empty;
	}
	return all_empty;
}

/* Sets membership of @cpus in the agent's set: from @from (-1: none) to @to (-1: none). */
static void set_member(struct vs_daemon *d, const struct vs_cpuset *cpus, int from, int to)
{
	int cpu;

	cpuset_for_each(cpu, cpus)
	{
		bool first = d->topo.core_of[cpu] == cpu;

		if (from >= 0) {
			cpuset_del(&d->enclaves.e[from].enc.cpus, cpu);
			d->enclaves.e[from].enc.nr_cores -= first;
		}
		if (to >= 0) {
			cpuset_add(&d->enclaves.e[to].enc.cpus, cpu);
			d->enclaves.e[to].enc.nr_cores += first;
		}
	}
}

/*
 * Moves the whole cores of @cpus from enclave @from to @to (-1: no enclave),
 * draining them first. The checks have been made.
 */
static int move_cores(struct vs_daemon *d, const struct vs_cpuset *cpus, int from, int to,
		      char *err, size_t errlen)
{
	struct vs_cpuset stay;
	uint64_t start = now_ms(), waited;
	char list[256];
	int cpu, e;

	cpuset_format(cpus, list, sizeof(list));
	if (from < 0) {
		cpuset_for_each(cpu, cpus)
		{
			if (d->topo.core_of[cpu] == cpu && (e = vs_maps_init_core(d, cpu, true))) {
				snprintf(err, errlen, "cannot prepare core %d: %s", cpu,
					 strerror(-e));
				return -1;
			}
		}
	} else {
		stay = d->enclaves.e[from].enc.cpus;
		cpuset_for_each(cpu, cpus) cpuset_del(&stay, cpu);
		gate_all(d, cpus, false);
		pin_enclave_vms(d, from, &stay);
		while (!gate_all(d, cpus, false)) {
			if (now_ms() - start > DRAIN_TIMEOUT_MS) {
				gate_all(d, cpus, true);
				pin_enclave_vms(d, from, &d->enclaves.e[from].enc.cpus);
				snprintf(err, errlen,
					 "CPUs %s did not drain within %d ms (a vCPU stayed on "
					 "them): they stay in enclave '%s', nothing changed",
					 list, DRAIN_TIMEOUT_MS, d->enclaves.e[from].name);
				return -1;
			}
			vs_msgs_poll(d);
			nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
		}
	}
	waited = now_ms() - start;
	set_member(d, cpus, from, to);
	write_cpus(d, cpus);
	gate_all(d, cpus, true);
	if (to >= 0)
		pin_enclave_vms(d, to, &d->enclaves.e[to].enc.cpus);
	vs_log("CPUs %s: from %s%s%s to %s%s%s (drained in %llu ms)", list,
	       from >= 0 ? "enclave '" : "", from >= 0 ? d->enclaves.e[from].name : "no enclave",
	       from >= 0 ? "'" : "", to >= 0 ? "enclave '" : "",
	       to >= 0 ? d->enclaves.e[to].name : "no enclave", to >= 0 ? "'" : "",
	       (unsigned long long)waited);
	return 0;
}

static int find(struct vs_daemon *d, const char *name, char *err, size_t errlen)
{
	int id = enclave_set_find(&d->enclaves, name);

	if (id < 0)
		snprintf(err, errlen, "no enclave named '%s' (vmm-schedctl enclave list)", name);
	return id;
}

int enclave_create(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus, int pairing,
		   unsigned int slice_us, char *err, size_t errlen)
{
	struct vs_enclave_def *def;
	int id, e;

	id = enclave_check_create(&d->enclaves, name, err, errlen);
	if (id < 0 || (cpus && enclave_check_add(&d->enclaves, &d->topo, id, cpus, err, errlen)))
		return -1;
	def = &d->enclaves.e[id];
	memset(def, 0, sizeof(*def));
	enclave_init(&def->enc);
	def->used = true;
	snprintf(def->name, sizeof(def->name), "%s", name);
	def->relaxed = pairing < 0 ? d->opt.relaxed : pairing == VS_PAIRING_RELAXED;
	def->slice_us = slice_us ? slice_us : d->opt.slice_us;
	e = vs_maps_write_enclave(d, id);
	if (!e && cpus && move_cores(d, cpus, -1, id, err, errlen))
		e = -EIO;
	if (e) {
		if (!err[0])
			snprintf(err, errlen, "cannot write enclave_ctx[%d]: %s", id, strerror(-e));
		def->used = false;
		vs_maps_write_enclave(d, id);
		return -1;
	}
	vs_log("created enclave '%s' (%s pairing, slice %u us, %d cores)", name,
	       def->relaxed ? "relaxed" : "strict", def->slice_us, def->enc.nr_cores);
	return 0;
}

int enclave_add_cores(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus,
		      char *err, size_t errlen)
{
	int id = find(d, name, err, errlen);

	if (id < 0 || enclave_check_add(&d->enclaves, &d->topo, id, cpus, err, errlen))
		return -1;
	return move_cores(d, cpus, -1, id, err, errlen);
}

int enclave_remove_cores(struct vs_daemon *d, const char *name, const struct vs_cpuset *cpus,
			 char *err, size_t errlen)
{
	struct vs_enclave_load load;
	int id = find(d, name, err, errlen);

	if (id < 0)
		return -1;
	enclave_load_of(d, id, &load);
	if (enclave_check_remove(&d->enclaves, &d->topo, id, cpus, &load, err, errlen))
		return -1;
	return move_cores(d, cpus, id, -1, err, errlen);
}

int vm_move(struct vs_daemon *d, int vm_id, const char *name, char *err, size_t errlen)
{
	struct vs_vm_rec *vm = &d->reg.vms[vm_id];
	struct vs_enclave_load load;
	struct vs_vm_ctx v;
	int to = find(d, name, err, errlen), from = vm->enclave, e;

	if (to < 0)
		return -1;
	if (to == from) {
		snprintf(err, errlen, "VM '%s' is in enclave '%s' already", vm->name, name);
		return -1;
	}
	enclave_load_of(d, to, &load);
	if (enclave_check_vm_move(&d->enclaves, to, (int)vm->reserve_cores, &load, err, errlen))
		return -1;
	vm->enclave = to;
	v = d->share.vm_ctx[vm_id];
	v.enclave = (uint32_t)to;
	vs_err_if(vs_maps_write_vm_ctx(d, vm_id, &v), "cannot write vm_ctx[%d]", vm_id);
	vm_pin_vcpus(d, vm_id, &d->enclaves.e[to].enc.cpus);
	e = vs_records_write_vm(d, vm_id, vm->start_time);
	if (e)
		vs_err("VM '%s': cannot update its agent_vms record (%s): a restarted vmm-schedd "
		       "would adopt it in enclave '%s'",
		       vm->name, strerror(-e), d->enclaves.e[from].name);
	vs_log("VM '%s' moved from enclave '%s' to '%s'", vm->name, d->enclaves.e[from].name, name);
	return 0;
}

int enclave_destroy(struct vs_daemon *d, const char *name, bool force, char *err, size_t errlen)
{
	struct vs_enclave_load load, load_def;
	struct vs_cpuset cpus;
	int id = find(d, name, err, errlen), vm_id;

	if (id < 0)
		return -1;
	enclave_load_of(d, id, &load);
	if (enclave_check_destroy(&d->enclaves, id, &load, force, err, errlen))
		return -1;
	/* --force: every VM must fit the default enclave before any moves. */
	enclave_load_of(d, VS_ENCLAVE_DEFAULT, &load_def);
	load_def.reserve_cores += load.reserve_cores - 0;
	if (load.nr_vms &&
	    enclave_check_vm_move(&d->enclaves, VS_ENCLAVE_DEFAULT, 0, &load_def, err, errlen))
		return -1;
	registry_for_each_vm(vm_id, &d->reg)
	{
		if (d->reg.vms[vm_id].enclave == id &&
		    vm_move(d, vm_id, d->enclaves.e[VS_ENCLAVE_DEFAULT].name, err, errlen))
			return -1;
	}
	cpus = d->enclaves.e[id].enc.cpus;
	if (cpuset_next(&cpus, 0) >= 0 && move_cores(d, &cpus, id, -1, err, errlen))
		return -1;
	d->enclaves.e[id].used = false;
	vs_maps_write_enclave(d, id);
	vs_log("destroyed enclave '%s'", name);
	return 0;
}

struct json_object *enclave_rebalance(struct vs_daemon *d, bool dry_run, char *err, size_t errlen)
{
	struct vs_enclave_load load[VS_MAX_ENCLAVES];
	struct vs_enclave_move moves[VS_MAX_CPUS];
	struct json_object *arr;
	int n, i, id;

	for (id = 0; id < VS_MAX_ENCLAVES; id++)
		enclave_load_of(d, id, &load[id]);
	if (enclave_rebalance_plan(&d->enclaves, &d->topo, load, moves, VS_MAX_CPUS, &n, err,
				   errlen))
		return NULL;
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		struct vs_cpuset core;
		char list[64];

		topology_core_cpus(&d->topo, moves[i].core_cpu, &core);
		cpuset_format(&core, list, sizeof(list));
		json_object_object_add(o, "cpus", json_object_new_string(list));
		json_object_object_add(o, "from",
				       json_object_new_string(d->enclaves.e[moves[i].from].name));
		json_object_object_add(o, "to",
				       json_object_new_string(d->enclaves.e[moves[i].to].name));
		json_object_array_add(arr, o);
		if (dry_run)
			continue;
		if (move_cores(d, &core, moves[i].from, moves[i].to, err, errlen)) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}
