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

int bpf_sched_init_core(struct vs_daemon *d, int core_cpu, bool closed)
{
	struct vs_core_state cs = fresh_core(d, core_cpu, closed);
	uint32_t key = (uint32_t)core_cpu;

	if (bpf_map__update_elem(d->skel->maps.core_state, &key, sizeof(key), &cs, sizeof(cs), 0))
		return -errno;
	return 0;
}

/* Every enclave core starts unowned with nothing running. */
static int init_core_state(struct vs_daemon *d, char *err, size_t errlen)
{
	struct vs_cpuset all;
	int cpu, e;

	enclave_set_all_cpus(&d->enclaves, &all);
	cpuset_for_each(cpu, &all)
	{
		if (d->topo.core_of[cpu] != cpu)
			continue;
		e = bpf_sched_init_core(d, cpu, false);
		if (e) {
			snprintf(err, errlen, "cannot write core_state[%d]: %s", cpu, strerror(-e));
			return -1;
		}
	}
	return 0;
}

/* Reuse the running scheduler's maps; load nothing but the agent's syscall programs. */
static void prepare_adoption(struct vmm_sched *skel)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
	{
		bpf_program__set_autoload(prog, prog == skel->progs.vs_commit ||
						    prog == skel->progs.vs_core_gate);
	}
	bpf_map__set_autocreate(skel->maps.vmm_sched_ops, false);
}

int bpf_sched_write_cpu(struct vs_daemon *d, int cpu)
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

static int write_cpu_ctx(struct vs_daemon *d, char *err, size_t errlen)
{
	int cpu, e;

	cpuset_for_each(cpu, &d->topo.online)
	{
		e = bpf_sched_write_cpu(d, cpu);
		if (e) {
			snprintf(err, errlen, "cannot write cpu_ctx[%d]: %s", cpu, strerror(-e));
			return -1;
		}
	}
	return 0;
}

int bpf_sched_write_enclave(struct vs_daemon *d, int id)
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

void bpf_sched_set_enclave_plan(struct vs_daemon *d, int id, uint64_t core_slice_ns,
				uint64_t pair_window_ns)
{
	struct vs_enclave_ctx c;
	uint32_t key = (uint32_t)id;

	if (bpf_map__lookup_elem(d->skel->maps.enclave_ctx, &key, sizeof(key), &c, sizeof(c), 0))
		return;
	if (c.core_slice_ns == core_slice_ns && c.pair_window_ns == pair_window_ns)
		return;
	c.core_slice_ns = core_slice_ns;
	c.pair_window_ns = pair_window_ns;
	if (bpf_map__update_elem(d->skel->maps.enclave_ctx, &key, sizeof(key), &c, sizeof(c), 0))
		vs_err("cannot write enclave_ctx[%d]: %s", id, strerror(errno));
}

int bpf_sched_core_gate(struct vs_daemon *d, int core_cpu, bool open, bool *empty)
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

static int write_enclaves(struct vs_daemon *d, char *err, size_t errlen)
{
	for (int id = 0; id < VS_MAX_ENCLAVES; id++) {
		int e = bpf_sched_write_enclave(d, id);

		if (e) {
			snprintf(err, errlen, "cannot write enclave_ctx[%d]: %s", id, strerror(-e));
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
	if (write_enclaves(d, err, errlen) || write_cpu_ctx(d, err, errlen))
		return -1;
	return init_core_state(d, err, errlen);
}

/*
 * The enclaves as the pinned scheduler runs them (cpu_ctx, enclave_ctx and
 * the agent's names): operators may have changed them live, so they win over
 * --cpus; the default enclave's pairing and slice must still be the ones
 * asked for.
 */
static void read_pinned_enclaves(struct vs_daemon *d, struct vs_enclave_set *out)
{
	int cpu, id;

	enclave_set_init(out);
	for (id = 0; id < VS_MAX_ENCLAVES; id++) {
		struct vs_enclave_ctx c;
		struct vs_agent_enclave r;
		uint32_t key = (uint32_t)id;

		if (bpf_map__lookup_elem(d->skel->maps.enclave_ctx, &key, sizeof(key), &c,
					 sizeof(c), 0) ||
		    !(c.flags & VS_ENCLAVE_USED) ||
		    bpf_map__lookup_elem(d->skel->maps.agent_enclaves, &key, sizeof(key), &r,
					 sizeof(r), 0))
			continue;
		r.name[sizeof(r.name) - 1] = '\0';
		out->e[id].used = true;
		snprintf(out->e[id].name, sizeof(out->e[id].name), "%s",
			 r.used && !enclave_name_check(r.name, NULL, 0)
			     ? r.name
			     : (id ? "unnamed" : VS_ENCLAVE_DEFAULT_NAME));
		out->e[id].relaxed = c.pairing == VS_PAIRING_RELAXED;
		out->e[id].slice_us = (unsigned int)(c.slice_ns / 1000);
	}
	for (cpu = 0; cpu < d->topo.nr_cpus && cpu < VS_MAX_CPUS; cpu++) {
		struct vs_cpu_ctx c;
		uint32_t key = (uint32_t)cpu;

		if (bpf_map__lookup_elem(d->skel->maps.cpu_ctx, &key, sizeof(key), &c, sizeof(c),
					 0) ||
		    !(c.flags & VS_CPU_IN_ENCLAVE) || c.enclave >= VS_MAX_ENCLAVES ||
		    !out->e[c.enclave].used)
			continue;
		cpuset_add(&out->e[c.enclave].enc.cpus, cpu);
		if (d->topo.core_of[cpu] == cpu)
			out->e[c.enclave].enc.nr_cores++;
	}
}

int bpf_sched_check_adopted(struct vs_daemon *d, char *err, size_t errlen)
{
	const struct vs_enclave_def *want = &d->enclaves.e[VS_ENCLAVE_DEFAULT];
	struct vs_enclave_set pinned;
	const struct vs_enclave_def *have = &pinned.e[VS_ENCLAVE_DEFAULT];
	char have_cpus[256], want_cpus[256];

	read_pinned_enclaves(d, &pinned);
	cpuset_format(&have->enc.cpus, have_cpus, sizeof(have_cpus));
	cpuset_format(&want->enc.cpus, want_cpus, sizeof(want_cpus));
	if (!have->used || have->relaxed != want->relaxed || have->slice_us != want->slice_us) {
		snprintf(
		    err, errlen,
		    "the pinned scheduler runs its default enclave with %s pairing, slice %u us; "
		    "this vmm-schedd was asked for %s pairing, slice %u us. Restart it with the "
		    "pinned settings to adopt the running VMs, or stop the pinned scheduler "
		    "first ('vmm-schedd --unload-pinned --pin-dir %s' gives every vCPU thread "
		    "its policy back)",
		    have->relaxed ? "relaxed" : "strict", have->slice_us,
		    want->relaxed ? "relaxed" : "strict", want->slice_us, d->opt.pin_dir);
		return -1;
	}
	if (!cpuset_equal(&have->enc.cpus, &want->enc.cpus))
		vs_log("the pinned scheduler's default enclave has CPUs %s, not --cpus %s: it was "
		       "changed live, and the running layout is kept",
		       have_cpus[0] ? have_cpus : "(none)", want_cpus);
	d->enclaves = pinned;
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
	uint32_t enclave = (uint32_t)d->reg.vms[vm_id].enclave;
	struct vs_vm_ctx v = {
	    .flags = active ? VS_VM_ACTIVE : 0, .home_node = -1, .enclave = enclave};
	struct vs_vm_state fresh = {0};
	uint32_t key = (uint32_t)vm_id;

	/* Forget what was written: the map entry may hold a previous agent's. */
	memset(&d->share.vm_ctx[vm_id], 0xff, sizeof(d->share.vm_ctx[vm_id]));
	bpf_sched_write_vm_ctx(d, vm_id, &v);
	/* A new VM starts at the current vtime floor, not with banked credit. */
	if (active) {
		fresh.vtime = d->skel->bss->vtime_floor[enclave % VS_MAX_ENCLAVES];
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
	out->late_adoptions = b->late_adoptions;
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
	struct vs_cpuset all;
	int slot, cpu;

	registry_for_each_vcpu(slot, &d->reg)
	{
		struct vs_vcpu_stats st;

		if (!bpf_sched_read_vcpu_stats(d, slot, &st))
			vcpu_track_resync(&d->vcpu_track[slot], st.seqnum, st.last_msg,
					  (int)st.last_cpu);
	}
	enclave_set_all_cpus(&d->enclaves, &all);
	cpuset_for_each(cpu, &all)
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
