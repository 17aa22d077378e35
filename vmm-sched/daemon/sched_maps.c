/* Typed access to the scheduler's maps and globals through its skeleton. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "sched_maps.h"
#include "vmm_sched.skel.h"

/* The state of a core that serves nobody yet: unowned, nothing running, @closed or open. */
static struct vs_core_state fresh_core(struct vs_daemon *d, int core_cpu, bool closed)
{
	int id = enclave_set_of_cpu(&d->enclaves, core_cpu);

	return (struct vs_core_state){
	    .owner = VS_VM_NONE,
	    .closed = closed,
	    .running_vm = {VS_VM_NONE, VS_VM_NONE},
	    .leaving_vm = {VS_VM_NONE, VS_VM_NONE},
	    .cpu = {core_cpu, topology_sibling(&d->topo, core_cpu)},
	    .enclave = id >= 0 ? (uint32_t)id : VS_MAX_ENCLAVES,
	    .strict = id < 0 || !d->enclaves.e[id].relaxed,
	};
}

int vs_maps_init_core(struct vs_daemon *d, int core_cpu, bool closed)
{
	struct vs_core_state cs = fresh_core(d, core_cpu, closed);
	uint32_t key = (uint32_t)core_cpu;

	if (bpf_map__update_elem(d->skel->maps.core_state, &key, sizeof(key), &cs, sizeof(cs), 0))
		return -errno;
	return 0;
}

int vs_maps_write_cpu(struct vs_daemon *d, int cpu)
{
	int id = enclave_set_of_cpu(&d->enclaves, cpu);
	struct vs_cpu_ctx c = {
	    .flags = id >= 0 ? VS_CPU_IN_ENCLAVE : 0,
	    .core_id = (uint32_t)d->topo.core_of[cpu],
	    .sibling = topology_sibling(&d->topo, cpu),
	    .node = d->topo.node_of[cpu],
	    .enclave = id >= 0 ? (uint32_t)id : 0,
	};
	uint32_t key = (uint32_t)cpu;

	if (bpf_map__update_elem(d->skel->maps.cpu_ctx, &key, sizeof(key), &c, sizeof(c), 0))
		return -errno;
	return 0;
}

int vs_maps_write_enclave(struct vs_daemon *d, int id)
{
	const struct vs_enclave_def *def = &d->enclaves.e[id];
	struct vs_enclave_ctx c = {0}, old;
	struct vs_agent_enclave r = {0};
	uint32_t key = (uint32_t)id;

	/* The agent's share plan for it stays. */
	if (!bpf_map__lookup_elem(d->skel->maps.enclave_ctx, &key, sizeof(key), &old, sizeof(old),
				  0)) {
		c.core_slice_ns = old.core_slice_ns;
		c.pair_window_ns = old.pair_window_ns;
	}
	if (def->used) {
		c.flags = VS_ENCLAVE_USED;
		c.pairing = def->relaxed ? VS_PAIRING_RELAXED : VS_PAIRING_STRICT;
		c.slice_ns = (uint64_t)def->slice_us * 1000;
		r.used = 1;
		snprintf(r.name, sizeof(r.name), "%s", def->name);
	}
	if (bpf_map__update_elem(d->skel->maps.enclave_ctx, &key, sizeof(key), &c, sizeof(c), 0) ||
	    bpf_map__update_elem(d->skel->maps.agent_enclaves, &key, sizeof(key), &r, sizeof(r), 0))
		return -errno;
	return 0;
}

/* Unchanged if enclave_ctx[@id] cannot be read (0: nothing to write to). */
int vs_maps_set_enclave_plan(struct vs_daemon *d, int id, uint64_t core_slice_ns,
			     uint64_t pair_window_ns)
{
	struct vs_enclave_ctx c;
	uint32_t key = (uint32_t)id;

	if (bpf_map__lookup_elem(d->skel->maps.enclave_ctx, &key, sizeof(key), &c, sizeof(c), 0))
		return 0;
	if (c.core_slice_ns == core_slice_ns && c.pair_window_ns == pair_window_ns)
		return 0;
	c.core_slice_ns = core_slice_ns;
	c.pair_window_ns = pair_window_ns;
	if (bpf_map__update_elem(d->skel->maps.enclave_ctx, &key, sizeof(key), &c, sizeof(c), 0))
		return -errno;
	return 0;
}

int vs_maps_core_gate(struct vs_daemon *d, int core_cpu, bool open, bool *empty)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	struct vs_core_gate_args args = {.core_cpu = core_cpu, .open = open};
	int e;

	run.ctx_in = &args;
	run.ctx_size_in = sizeof(args);
	e = bpf_prog_test_run_opts(bpf_program__fd(d->skel->progs.vs_core_gate), &run);
	if (e)
		return e;
	if (run.retval)
		return -EINVAL;
	if (empty)
		*empty = args.empty;
	return 0;
}

int vs_maps_lookup_vcpu(struct vs_daemon *d, int tid, struct vs_vcpu_id *out)
{
	uint32_t key = (uint32_t)tid;

	return bpf_map__lookup_elem(d->skel->maps.vcpu_map, &key, sizeof(key), out, sizeof(*out),
				    0);
}

int vs_maps_map_vcpu(struct vs_daemon *d, int tid, int vm_id, int vcpu_index, int slot)
{
	struct vs_vcpu_id id = {
	    .vm_id = (uint32_t)vm_id, .vcpu_index = (uint32_t)vcpu_index, .slot = (uint32_t)slot};
	struct vs_vcpu_stats zero = {.tid = (uint32_t)tid};
	uint32_t key = (uint32_t)tid, s = (uint32_t)slot;

	if (bpf_map__update_elem(d->skel->maps.vcpu_stats, &s, sizeof(s), &zero, sizeof(zero), 0))
		return -errno;
	if (bpf_map__update_elem(d->skel->maps.vcpu_map, &key, sizeof(key), &id, sizeof(id), 0))
		return -errno;
	return 0;
}

void vs_maps_unmap_vcpu(struct vs_daemon *d, int tid)
{
	uint32_t key = (uint32_t)tid;

	/* ENOENT is fine: the entry may never have been written. */
	bpf_map__delete_elem(d->skel->maps.vcpu_map, &key, sizeof(key), 0);
}

int vs_maps_write_vm_ctx(struct vs_daemon *d, int vm_id, const struct vs_vm_ctx *v)
{
	uint32_t key = (uint32_t)vm_id;

	if (!memcmp(&d->share.vm_ctx[vm_id], v, sizeof(*v)))
		return 0;
	if (bpf_map__update_elem(d->skel->maps.vm_ctx, &key, sizeof(key), v, sizeof(*v), 0))
		return -errno;
	d->share.vm_ctx[vm_id] = *v;
	return 0;
}

int vs_maps_write_hint(struct vs_daemon *d, int slot, uint32_t flags)
{
	struct vs_vcpu_hint h = {.flags = flags};
	uint32_t key = (uint32_t)slot;

	if (bpf_map__update_elem(d->skel->maps.vcpu_hints, &key, sizeof(key), &h, sizeof(h), 0))
		return -errno;
	return 0;
}

void vs_maps_set_hint_policy(struct vs_daemon *d)
{
	d->skel->data->cs_ext_ns = (uint64_t)d->opt.cs_extension_us * 1000;
	d->skel->data->cs_budget_pct = d->opt.cs_budget_pct;
}

void vs_maps_set_plan(struct vs_daemon *d, uint64_t core_slice_ns, uint64_t pair_window_ns,
		      bool caps_in_use, bool reserves_in_use)
{
	d->skel->data->core_slice_ns = core_slice_ns;
	d->skel->bss->pair_window_ns = pair_window_ns;
	d->skel->bss->caps_in_use = caps_in_use;
	d->skel->bss->reserves_in_use = reserves_in_use;
}

uint64_t vs_maps_pair_window_ns(struct vs_daemon *d)
{
	return d->skel->bss->pair_window_ns;
}

uint64_t vs_maps_core_slice_ns(struct vs_daemon *d)
{
	return d->skel->data->core_slice_ns;
}

/*
 * Weight, cap and home node follow at the next share plan. -errno names the
 * first write that failed (vm_ctx, then vm_state); the second is tried anyway.
 */
int vs_maps_set_vm_active(struct vs_daemon *d, int vm_id, bool active)
{
	uint32_t enclave = (uint32_t)d->reg.vms[vm_id].enclave;
	struct vs_vm_ctx v = {
	    .flags = active ? VS_VM_ACTIVE : 0, .home_node = -1, .enclave = enclave};
	struct vs_vm_state fresh = {0};
	uint32_t key = (uint32_t)vm_id;

	int e;

	/* Forget what was written: the map entry may hold a previous agent's. */
	memset(&d->share.vm_ctx[vm_id], 0xff, sizeof(d->share.vm_ctx[vm_id]));
	e = vs_maps_write_vm_ctx(d, vm_id, &v);
	/* A new VM starts at the current vtime floor, not with banked credit. */
	if (active) {
		fresh.vtime = d->skel->bss->vtime_floor[enclave % VS_MAX_ENCLAVES];
		if (bpf_map__update_elem(d->skel->maps.vm_state, &key, sizeof(key), &fresh,
					 sizeof(fresh), 0) &&
		    !e)
			e = -errno;
	}
	return e;
}

/* Entry @index of an array map (or the value of a u32-keyed hash map). */
static int map_read(const struct bpf_map *map, int index, void *out, size_t size)
{
	uint32_t key = (uint32_t)index;

	return bpf_map__lookup_elem(map, &key, sizeof(key), out, size, 0);
}

int vs_maps_read_vm_state(struct vs_daemon *d, int vm_id, struct vs_vm_state *out)
{
	return map_read(d->skel->maps.vm_state, vm_id, out, sizeof(*out));
}

int vs_maps_read_core_state(struct vs_daemon *d, int core_id, struct vs_core_state *out)
{
	return map_read(d->skel->maps.core_state, core_id, out, sizeof(*out));
}

int vs_maps_read_vcpu_stats(struct vs_daemon *d, int slot, struct vs_vcpu_stats *out)
{
	return map_read(d->skel->maps.vcpu_stats, slot, out, sizeof(*out));
}

int vs_maps_read_vcpu_stats_batch(struct vs_daemon *d, struct vs_vcpu_stats *out, int nr)
{
	uint32_t keys[VS_MAX_VCPUS], next;
	__u32 count = (__u32)nr;
	int err, i;

	if (nr <= 0)
		return 0;
	if (nr > VS_MAX_VCPUS)
		return -EINVAL;
	err = bpf_map_lookup_batch(bpf_map__fd(d->skel->maps.vcpu_stats), NULL, &next, keys, out,
				   &count, NULL);
	/* Reading up to the array's last entry ends with ENOENT. */
	if (err && err != -ENOENT)
		return err;
	if (count != (__u32)nr)
		return -EPROTO;
	for (i = 0; i < nr; i++) {
		if (keys[i] != (uint32_t)i)
			return -EPROTO;
	}
	return 0;
}

int vs_maps_read_cpu_stats(struct vs_daemon *d, int cpu, struct vs_cpu_stats *out)
{
	return map_read(d->skel->maps.cpu_stats, cpu, out, sizeof(*out));
}

uint64_t vs_maps_msg_drops(struct vs_daemon *d)
{
	return d->skel->bss->msg_drops;
}

uint64_t vs_maps_stray_enqueues(struct vs_daemon *d)
{
	return d->skel->bss->stray_enqueues;
}

bool vs_maps_kick_supported(struct vs_daemon *d)
{
	return d->skel->bss->kick_supported;
}

const char *vs_maps_kick_mode(struct vs_daemon *d)
{
	if (!d->skel->bss->kick_supported)
		return "unsupported";
	return d->skel->bss->kick_disabled ? "off" : "on";
}

void vs_maps_read_counters(struct vs_daemon *d, struct vs_sched_counters *out)
{
	const struct vmm_sched__bss *b = d->skel->bss;

	out->self_check_overlaps = b->self_check_overlaps;
	out->unclaimed_runs = b->unclaimed_runs;
	out->switch_overlaps = b->switch_overlaps;
	out->unrecorded_switches = b->unrecorded_switches;
	out->misplaced_runs = b->misplaced_runs;
	out->late_adoptions = b->late_adoptions;
	out->txn_group_partial = b->txn_group_partial;
	out->txn_takes = b->txn_takes;
	out->starved_grants = b->starved_grants;
	out->pair_grants = b->pair_grants;
	out->sibling_waits = b->sibling_waits;
	out->kicks = b->kicks;
	out->host_starts = b->host_starts;
	out->drains = b->drains;
	out->drain_ns = b->drain_ns;
	out->drain_max_ns = b->drain_max_ns;
	for (int i = 0; i < VS_TXN_NR_OUTCOMES; i++)
		out->txn_outcomes[i] = b->txn_outcomes[i];
	out->preempt_holds_refused = b->preempt_holds_refused;
	out->pick_calls = 0;
	out->pick_visits = 0;
	out->pick_scans = 0;
	out->pick_mends = 0;
	/* Per CPU in the scheduler, summed here (an array read within its size does not fail). */
	for (unsigned int cpu = 0; cpu < bpf_map__max_entries(d->skel->maps.cpu_stats); cpu++) {
		struct vs_cpu_stats cs;

		if (vs_maps_read_cpu_stats(d, (int)cpu, &cs))
			continue;
		out->pick_calls += cs.pick_calls;
		out->pick_visits += cs.pick_visits;
		out->pick_scans += cs.pick_scans;
		out->pick_mends += cs.pick_mends;
	}
	out->vm_bit_repairs = b->vm_bit_repairs;
	out->vm_heap_repairs = b->vm_heap_repairs;
	out->take_waits = b->take_waits;
	out->take_wait_ns = b->take_wait_ns;
	out->take_wait_max_ns = b->take_wait_max_ns;
	for (int i = 0; i < VS_TAKE_WAIT_BUCKETS; i++)
		out->take_wait_hist[i] = b->take_wait_hist[i];
}
