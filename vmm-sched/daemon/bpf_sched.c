/* The adapter between the agent and the sched_ext scheduler: skeleton, maps, ring buffer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent_record.h"
#include "daemon.h"
#include "vmm_sched.skel.h"

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Every enclave core starts unowned with nothing running. */
static int init_core_state(struct vs_daemon *d, char *err, size_t errlen)
{
	int cpu;

	cpuset_for_each(cpu, &d->enclave.cpus)
	{
		struct vs_core_state cs = {.owner = VS_VM_NONE,
					   .running_vm = {VS_VM_NONE, VS_VM_NONE},
					   .leaving_vm = {VS_VM_NONE, VS_VM_NONE},
					   .cpu = {cpu, topology_sibling(&d->topo, cpu)}};
		uint32_t key = (uint32_t)cpu;

		if (d->topo.core_of[cpu] != cpu)
			continue;
		if (bpf_map__update_elem(d->skel->maps.core_state, &key, sizeof(key), &cs,
					 sizeof(cs), 0)) {
			snprintf(err, errlen, "cannot write core_state[%d]: %s", cpu,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Reuse the running scheduler's maps; load nothing but the commit program. */
static void prepare_adoption(struct vmm_sched *skel)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
	{
		bpf_program__set_autoload(prog, prog == skel->progs.vs_commit);
	}
	bpf_map__set_autocreate(skel->maps.vmm_sched_ops, false);
}

static int write_cpu_ctx(struct vs_daemon *d, char *err, size_t errlen)
{
	int cpu;

	cpuset_for_each(cpu, &d->topo.online)
	{
		struct vs_cpu_ctx c = {
		    .flags = enclave_has_cpu(&d->enclave, cpu) ? VS_CPU_IN_ENCLAVE : 0,
		    .core_id = (uint32_t)d->topo.core_of[cpu],
		    .sibling = topology_sibling(&d->topo, cpu),
		    .node = d->topo.node_of[cpu],
		};
		uint32_t key = (uint32_t)cpu;

		if (bpf_map__update_elem(d->skel->maps.cpu_ctx, &key, sizeof(key), &c, sizeof(c),
					 0)) {
			snprintf(err, errlen, "cannot write cpu_ctx[%d]: %s", cpu, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int bpf_sched_load(struct vs_daemon *d, bool adopt, char *err, size_t errlen)
{
	struct vmm_sched *skel;
	int e;

	libbpf_set_print(libbpf_quiet);
	skel = vmm_sched__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open the BPF scheduler object: %s", strerror(errno));
		return -1;
	}
	d->skel = skel;
	/* A fresh load creates the pins, so a failure from here on removes them. */
	d->pins_owned = !adopt;
	d->adopted = adopt;
	if (pinned_maps_prepare(d, adopt, err, errlen))
		return -1;
	if (adopt) {
		prepare_adoption(skel);
	} else {
		bpf_map__set_max_entries(skel->maps.messages, d->opt.ring_kb * 1024);
		skel->rodata->slice_ns = (uint64_t)d->opt.slice_us * 1000;
		skel->rodata->nr_cpus = (uint32_t)d->topo.nr_cpus;
		skel->rodata->pairing_mode =
		    d->opt.relaxed ? VS_PAIRING_RELAXED : VS_PAIRING_STRICT;
		/* bpftool 7.1 cannot emit "struct_ops.s/": mark init sleepable here. */
		bpf_program__set_flags(skel->progs.vs_init,
				       bpf_program__flags(skel->progs.vs_init) | BPF_F_SLEEPABLE);
	}
	e = vmm_sched__load(skel);
	if (e) {
		if (adopt)
			snprintf(err, errlen,
				 "cannot reuse the pinned maps at %s (%s): they do not fit this "
				 "vmm-schedd although the ABI stamp matches; unload them with "
				 "'vmm-schedd --unload-pinned --pin-dir %s'",
				 d->opt.pin_dir, strerror(-e), d->opt.pin_dir);
		else
			snprintf(
			    err, errlen,
			    "the kernel refused the BPF scheduler (%s); the libbpf lines above "
			    "say why (a kernel older than 6.12 or without sched_ext kfuncs?)",
			    strerror(-e));
		return -1;
	}
	skel->bss->kick_disabled = d->opt.no_kick;
	if (adopt)
		return 0;
	if (write_cpu_ctx(d, err, errlen))
		return -1;
	return init_core_state(d, err, errlen);
}

int bpf_sched_check_adopted(struct vs_daemon *d, char *err, size_t errlen)
{
	const char *want_mode = d->opt.relaxed ? "relaxed" : "strict";
	uint32_t mode = d->skel->rodata->pairing_mode;
	struct vs_cpuset pinned;
	char have[256], want[256];
	int cpu;

	cpuset_clear(&pinned);
	for (cpu = 0; cpu < d->topo.nr_cpus && cpu < VS_MAX_CPUS; cpu++) {
		struct vs_cpu_ctx c;
		uint32_t key = (uint32_t)cpu;

		if (!bpf_map__lookup_elem(d->skel->maps.cpu_ctx, &key, sizeof(key), &c, sizeof(c),
					  0) &&
		    (c.flags & VS_CPU_IN_ENCLAVE))
			cpuset_add(&pinned, cpu);
	}
	cpuset_format(&pinned, have, sizeof(have));
	cpuset_format(&d->enclave.cpus, want, sizeof(want));
	if (!cpuset_equal(&pinned, &d->enclave.cpus) ||
	    mode != (d->opt.relaxed ? VS_PAIRING_RELAXED : VS_PAIRING_STRICT) ||
	    d->skel->rodata->slice_ns != (uint64_t)d->opt.slice_us * 1000) {
		snprintf(
		    err, errlen,
		    "the pinned scheduler runs enclave %s, %s pairing, slice %llu us; this "
		    "vmm-schedd was asked for %s, %s pairing, slice %u us. Restart it with the "
		    "pinned settings to adopt the running VMs, or stop the pinned scheduler "
		    "first ('vmm-schedd --unload-pinned --pin-dir %s' gives every vCPU thread "
		    "its policy back)",
		    have, mode == VS_PAIRING_RELAXED ? "relaxed" : "strict",
		    (unsigned long long)(d->skel->rodata->slice_ns / 1000), want, want_mode,
		    d->opt.slice_us, d->opt.pin_dir);
		return -1;
	}
	return 0;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int handle_message(void *ctx, void *data, size_t len)
{
	struct vs_daemon *d = ctx;
	const struct vs_msg *m = data;
	int slot;

	d->msgs.received++;
	if (!msg_valid(m, (uint32_t)len)) {
		d->msgs.invalid++;
		return 0;
	}
	if (d->msgs.poll_ns > m->timestamp + VS_MSG_LATE_NS)
		d->msgs.late++;
	/* A released vCPU's late message names a slot no longer (or no longer its) in use. */
	slot = m->slot < VS_MAX_VCPUS && d->reg.vcpus[m->slot].used &&
		       d->reg.vcpus[m->slot].tid == (int)m->tid
		   ? (int)m->slot
		   : -1;
	if (slot >= 0 && vcpu_track_apply(&d->vcpu_track[slot], m) == VS_STALE)
		d->msgs.stale++;
	if (slot >= 0 && m->type == VS_MSG_VCPU_ESCAPED)
		d->escapes_pending = true;
	if (cpu_track_apply(&d->cpu_track[m->cpu], m) == VS_STALE)
		d->msgs.stale++;
	return 0;
}

int bpf_sched_attach(struct vs_daemon *d, char *err, size_t errlen)
{
	d->ringbuf = ring_buffer__new(bpf_map__fd(d->skel->maps.messages), handle_message, d, NULL);
	if (!d->ringbuf) {
		snprintf(err, errlen, "cannot open the message ring buffer: %s", strerror(errno));
		return -1;
	}
	if (d->adopted)
		return pinned_links_open(d, err, errlen);
	/* The pairing hook first: it must see every switch the scheduler causes. */
	d->switch_link = bpf_program__attach(d->skel->progs.vs_sched_switch);
	if (!d->switch_link) {
		snprintf(err, errlen, "cannot attach the sched_switch hook: %s", strerror(errno));
		return -1;
	}
	d->link = bpf_map__attach_struct_ops(d->skel->maps.vmm_sched_ops);
	if (!d->link) {
		snprintf(err, errlen,
			 "cannot enable the sched_ext scheduler: %s (is another scheduler loaded? "
			 "see /sys/kernel/sched_ext/state)",
			 strerror(errno));
		return -1;
	}
	return pinned_links_pin(d, err, errlen);
}

void bpf_sched_detach(struct vs_daemon *d)
{
	char err[512];

	if (d->ringbuf) {
		/* Drain what is left so tracking ends consistent; errors do not matter now. */
		ring_buffer__consume(d->ringbuf);
		ring_buffer__free(d->ringbuf);
		d->ringbuf = NULL;
	}
	/* Unregistered and unpinned whether this agent attached it or adopted it. */
	if (d->pins_owned && pinned_state_unload(d->opt.pin_dir, err, sizeof(err)))
		vs_err("%s; remove it by hand or the scheduler stays loaded", err);
	d->pins_owned = false;
	if (d->link) {
		bpf_link__destroy(d->link);
		d->link = NULL;
	}
	if (d->switch_link) {
		bpf_link__destroy(d->switch_link);
		d->switch_link = NULL;
	}
	if (d->skel) {
		vmm_sched__destroy(d->skel);
		d->skel = NULL;
	}
}

int bpf_sched_map_vcpu(struct vs_daemon *d, int tid, int vm_id, int vcpu_index, int slot)
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

void bpf_sched_unmap_vcpu(struct vs_daemon *d, int tid)
{
	uint32_t key = (uint32_t)tid;

	/* ENOENT is fine: the entry may never have been written. */
	bpf_map__delete_elem(d->skel->maps.vcpu_map, &key, sizeof(key), 0);
}

void bpf_sched_write_vm_ctx(struct vs_daemon *d, int vm_id, const struct vs_vm_ctx *v)
{
	uint32_t key = (uint32_t)vm_id;

	if (!memcmp(&d->share.vm_ctx[vm_id], v, sizeof(*v)))
		return;
	if (bpf_map__update_elem(d->skel->maps.vm_ctx, &key, sizeof(key), v, sizeof(*v), 0)) {
		vs_err("cannot write vm_ctx[%d]: %s", vm_id, strerror(errno));
		return;
	}
	d->share.vm_ctx[vm_id] = *v;
}

int bpf_sched_write_hint(struct vs_daemon *d, int slot, uint32_t flags)
{
	struct vs_vcpu_hint h = {.flags = flags};
	uint32_t key = (uint32_t)slot;

	if (bpf_map__update_elem(d->skel->maps.vcpu_hints, &key, sizeof(key), &h, sizeof(h), 0)) {
		int e = -errno;

		vs_err("cannot write vcpu_hints[%d]: %s", slot, strerror(errno));
		return e;
	}
	return 0;
}

void bpf_sched_set_hint_policy(struct vs_daemon *d)
{
	d->skel->data->cs_ext_ns = (uint64_t)d->opt.cs_extension_us * 1000;
	d->skel->data->cs_budget_pct = d->opt.cs_budget_pct;
}

void bpf_sched_set_plan(struct vs_daemon *d, uint64_t core_slice_ns, uint64_t pair_window_ns,
			bool caps_in_use)
{
	d->skel->data->core_slice_ns = core_slice_ns;
	d->skel->bss->pair_window_ns = pair_window_ns;
	d->skel->bss->caps_in_use = caps_in_use;
}

uint64_t bpf_sched_pair_window_ns(struct vs_daemon *d)
{
	return d->skel->bss->pair_window_ns;
}

uint64_t bpf_sched_core_slice_ns(struct vs_daemon *d)
{
	return d->skel->data->core_slice_ns;
}

/* Weight, cap and home node follow at the next share plan. */
void bpf_sched_set_vm_active(struct vs_daemon *d, int vm_id, bool active)
{
	struct vs_vm_ctx v = {.flags = active ? VS_VM_ACTIVE : 0, .home_node = -1};
	struct vs_vm_state fresh = {0};
	uint32_t key = (uint32_t)vm_id;

	/* Forget what was written: the map entry may hold a previous agent's. */
	memset(&d->share.vm_ctx[vm_id], 0xff, sizeof(d->share.vm_ctx[vm_id]));
	bpf_sched_write_vm_ctx(d, vm_id, &v);
	/* A new VM starts at the current vtime floor, not with banked credit. */
	if (active) {
		fresh.vtime = d->skel->bss->vtime_floor;
		if (bpf_map__update_elem(d->skel->maps.vm_state, &key, sizeof(key), &fresh,
					 sizeof(fresh), 0))
			vs_err("cannot reset vm_state[%d]: %s", vm_id, strerror(errno));
	}
}

/* Entry @index of an array map (or the value of a u32-keyed hash map). */
static int map_read(const struct bpf_map *map, int index, void *out, size_t size)
{
	uint32_t key = (uint32_t)index;

	return bpf_map__lookup_elem(map, &key, sizeof(key), out, size, 0);
}

int bpf_sched_read_vm_state(struct vs_daemon *d, int vm_id, struct vs_vm_state *out)
{
	return map_read(d->skel->maps.vm_state, vm_id, out, sizeof(*out));
}

int bpf_sched_read_core_state(struct vs_daemon *d, int core_id, struct vs_core_state *out)
{
	return map_read(d->skel->maps.core_state, core_id, out, sizeof(*out));
}

int bpf_sched_read_vcpu_stats(struct vs_daemon *d, int slot, struct vs_vcpu_stats *out)
{
	return map_read(d->skel->maps.vcpu_stats, slot, out, sizeof(*out));
}

int bpf_sched_read_vcpu_stats_batch(struct vs_daemon *d, struct vs_vcpu_stats *out, int nr)
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

int bpf_sched_read_cpu_stats(struct vs_daemon *d, int cpu, struct vs_cpu_stats *out)
{
	return map_read(d->skel->maps.cpu_stats, cpu, out, sizeof(*out));
}

uint64_t bpf_sched_msg_drops(struct vs_daemon *d)
{
	return d->skel->bss->msg_drops;
}

int bpf_sched_exit_kind(struct vs_daemon *d)
{
	return __atomic_load_n(&d->skel->bss->exit_info.kind, __ATOMIC_ACQUIRE);
}

static const char *exit_kind_name(int kind)
{
	switch (kind) {
	case 1:
		return "done";
	case 64:
		return "unregistered from user space";
	case 65:
		return "unregistered by BPF";
	case 66:
		return "unregistered by the kernel";
	case 67:
		return "sysrq-S";
	case 1024:
		return "runtime error";
	case 1025:
		return "scx_bpf_error() in the BPF scheduler";
	case 1026:
		return "watchdog: runnable vCPU stalled";
	}
	return "unknown";
}

void bpf_sched_report_exit(struct vs_daemon *d)
{
	const struct vs_exit_info *ei = &d->skel->bss->exit_info;
	int kind = bpf_sched_exit_kind(d);

	vs_err("the kernel disabled the sched_ext scheduler: kind %d (%s), code %lld, reason "
	       "'%.*s', message '%.*s'; every vCPU is back in the fair class",
	       kind, exit_kind_name(kind), (long long)ei->exit_code, VS_EXIT_REASON_LEN, ei->reason,
	       VS_EXIT_MSG_LEN, ei->msg);
}

int bpf_sched_poll_messages(struct vs_daemon *d)
{
	int n;

	/* Once per batch (bpf_ktime_get_ns() is CLOCK_MONOTONIC): lateness needs no more. */
	d->msgs.poll_ns = monotonic_ns();
	n = ring_buffer__consume(d->ringbuf);
	return n < 0 ? n : 0;
}

int bpf_sched_message_fd(struct vs_daemon *d)
{
	return ring_buffer__epoll_fd(d->ringbuf);
}

uint64_t bpf_sched_stray_enqueues(struct vs_daemon *d)
{
	return d->skel->bss->stray_enqueues;
}

bool bpf_sched_kick_supported(struct vs_daemon *d)
{
	return d->skel->bss->kick_supported;
}

const char *bpf_sched_kick_mode(struct vs_daemon *d)
{
	if (!d->skel->bss->kick_supported)
		return "unsupported";
	return d->skel->bss->kick_disabled ? "off" : "on";
}

void bpf_sched_read_counters(struct vs_daemon *d, struct vs_sched_counters *out)
{
	const struct vmm_sched__bss *b = d->skel->bss;

	out->self_check_overlaps = b->self_check_overlaps;
	out->unclaimed_runs = b->unclaimed_runs;
	out->switch_overlaps = b->switch_overlaps;
	out->unrecorded_switches = b->unrecorded_switches;
	out->misplaced_runs = b->misplaced_runs;
	out->txn_group_partial = b->txn_group_partial;
	out->starved_grants = b->starved_grants;
	out->pair_grants = b->pair_grants;
	out->kicks = b->kicks;
	out->host_starts = b->host_starts;
	out->drains = b->drains;
	out->drain_ns = b->drain_ns;
	out->drain_max_ns = b->drain_max_ns;
	for (int i = 0; i < VS_TXN_NR_OUTCOMES; i++)
		out->txn_outcomes[i] = b->txn_outcomes[i];
}

void bpf_sched_resync(struct vs_daemon *d)
{
	int slot, cpu;

	registry_for_each_vcpu(slot, &d->reg)
	{
		struct vs_vcpu_stats st;

		if (!bpf_sched_read_vcpu_stats(d, slot, &st))
			vcpu_track_resync(&d->vcpu_track[slot], st.seqnum, st.last_msg,
					  (int)st.last_cpu);
	}
	cpuset_for_each(cpu, &d->enclave.cpus)
	{
		struct vs_cpu_stats cs;
		struct vs_core_state core;
		int core_id = d->topo.core_of[cpu], running = 0;

		if (bpf_sched_read_cpu_stats(d, cpu, &cs))
			continue;
		if (!bpf_sched_read_core_state(d, core_id, &core))
			for (int i = 0; i < VS_THREADS_PER_CORE; i++)
				if (core.cpu[i] == cpu && core.running_vm[i] != VS_VM_NONE)
					running = (int)core.running_tid[i];
		cpu_track_resync(&d->cpu_track[cpu], cs.cpu_seqnum, running);
	}
	d->msgs.resyncs++;
}

int bpf_sched_record_vm(struct vs_daemon *d, int vm_id, uint64_t start_time)
{
	struct vs_agent_vm r;
	uint32_t key = (uint32_t)vm_id;

	agent_vm_record_make(&d->reg.vms[vm_id], start_time, &r);
	if (bpf_map__update_elem(d->skel->maps.agent_vms, &key, sizeof(key), &r, sizeof(r), 0))
		return -errno;
	return 0;
}

int bpf_sched_record_vcpu(struct vs_daemon *d, int slot)
{
	struct vs_agent_vcpu r;
	uint32_t key = (uint32_t)slot;

	agent_vcpu_record_make(&d->reg.vcpus[slot], &r);
	if (bpf_map__update_elem(d->skel->maps.agent_vcpus, &key, sizeof(key), &r, sizeof(r), 0))
		return -errno;
	return 0;
}

void bpf_sched_forget_vm(struct vs_daemon *d, int vm_id)
{
	struct vs_agent_vm zero = {0};
	uint32_t key = (uint32_t)vm_id;

	if (bpf_map__update_elem(d->skel->maps.agent_vms, &key, sizeof(key), &zero, sizeof(zero),
				 0))
		vs_err("cannot clear the record of VM id %d: %s", vm_id, strerror(errno));
}

void bpf_sched_forget_vcpu(struct vs_daemon *d, int slot)
{
	struct vs_agent_vcpu zero = {0};
	uint32_t key = (uint32_t)slot;

	if (bpf_map__update_elem(d->skel->maps.agent_vcpus, &key, sizeof(key), &zero, sizeof(zero),
				 0))
		vs_err("cannot clear the record of vCPU slot %d: %s", slot, strerror(errno));
}

int bpf_sched_read_vm_record(struct vs_daemon *d, int vm_id, struct vs_agent_vm *out)
{
	uint32_t key = (uint32_t)vm_id;

	return bpf_map__lookup_elem(d->skel->maps.agent_vms, &key, sizeof(key), out, sizeof(*out),
				    0);
}

int bpf_sched_read_vcpu_record(struct vs_daemon *d, int slot, struct vs_agent_vcpu *out)
{
	uint32_t key = (uint32_t)slot;

	return bpf_map__lookup_elem(d->skel->maps.agent_vcpus, &key, sizeof(key), out, sizeof(*out),
				    0);
}

int bpf_sched_lookup_vcpu(struct vs_daemon *d, int tid, struct vs_vcpu_id *out)
{
	uint32_t key = (uint32_t)tid;

	return bpf_map__lookup_elem(d->skel->maps.vcpu_map, &key, sizeof(key), out, sizeof(*out),
				    0);
}
