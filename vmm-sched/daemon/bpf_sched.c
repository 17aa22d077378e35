/* The adapter between the agent and the sched_ext scheduler: skeleton, maps, ring buffer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

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

int bpf_sched_load(struct vs_daemon *d, char *err, size_t errlen)
{
	struct vmm_sched *skel;
	int cpu, e;

	libbpf_set_print(libbpf_quiet);
	skel = vmm_sched__open();
	if (!skel) {
		snprintf(err, errlen, "cannot open the BPF scheduler object: %s", strerror(errno));
		return -1;
	}
	skel->rodata->slice_ns = (uint64_t)d->opt.slice_us * 1000;
	skel->rodata->nr_cpus = (uint32_t)d->topo.nr_cpus;
	skel->rodata->pairing_mode = d->opt.relaxed ? VS_PAIRING_RELAXED : VS_PAIRING_STRICT;
	/* bpftool 7.1 cannot emit "struct_ops.s/": mark init sleepable here. */
	bpf_program__set_flags(skel->progs.vs_init,
			       bpf_program__flags(skel->progs.vs_init) | BPF_F_SLEEPABLE);
	e = vmm_sched__load(skel);
	if (e) {
		snprintf(err, errlen,
			 "the kernel refused the BPF scheduler (%s); the libbpf lines above say "
			 "why (a kernel older than 6.12 or without sched_ext kfuncs?)",
			 strerror(-e));
		vmm_sched__destroy(skel);
		return -1;
	}
	d->skel = skel;

	cpuset_for_each(cpu, &d->topo.online)
	{
		struct vs_cpu_ctx c = {
		    .flags = enclave_has_cpu(&d->enclave, cpu) ? VS_CPU_IN_ENCLAVE : 0,
		    .core_id = (uint32_t)d->topo.core_of[cpu],
		    .sibling = topology_sibling(&d->topo, cpu),
		};
		uint32_t key = (uint32_t)cpu;

		if (bpf_map__update_elem(skel->maps.cpu_ctx, &key, sizeof(key), &c, sizeof(c), 0)) {
			snprintf(err, errlen, "cannot write cpu_ctx[%d]: %s", cpu, strerror(errno));
			return -1;
		}
	}
	return init_core_state(d, err, errlen);
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
	slot = registry_find_vcpu_by_tid(&d->reg, (int)m->tid);
	if (slot >= 0 && vcpu_track_apply(&d->vcpu_track[slot], m) == VS_STALE)
		d->msgs.stale++;
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
	return 0;
}

void bpf_sched_detach(struct vs_daemon *d)
{
	if (d->ringbuf) {
		/* Drain what is left so tracking ends consistent; errors do not matter now. */
		ring_buffer__consume(d->ringbuf);
		ring_buffer__free(d->ringbuf);
		d->ringbuf = NULL;
	}
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

void bpf_sched_set_vm_active(struct vs_daemon *d, int vm_id, bool active)
{
	struct vs_vm_ctx v = {.flags = active ? VS_VM_ACTIVE : 0,
			      .weight = d->reg.vms[vm_id].weight};
	struct vs_vm_state fresh = {0};
	uint32_t key = (uint32_t)vm_id;

	if (bpf_map__update_elem(d->skel->maps.vm_ctx, &key, sizeof(key), &v, sizeof(v), 0))
		vs_err("cannot write vm_ctx[%d]: %s", vm_id, strerror(errno));
	/* A new VM starts at the current vtime floor, not with banked credit. */
	if (active) {
		fresh.vtime = d->skel->bss->vtime_floor;
		if (bpf_map__update_elem(d->skel->maps.vm_state, &key, sizeof(key), &fresh,
					 sizeof(fresh), 0))
			vs_err("cannot reset vm_state[%d]: %s", vm_id, strerror(errno));
	}
}

int bpf_sched_read_vm_state(struct vs_daemon *d, int vm_id, struct vs_vm_state *out)
{
	uint32_t key = (uint32_t)vm_id;

	return bpf_map__lookup_elem(d->skel->maps.vm_state, &key, sizeof(key), out, sizeof(*out),
				    0);
}

int bpf_sched_read_core_state(struct vs_daemon *d, int core_id, struct vs_core_state *out)
{
	uint32_t key = (uint32_t)core_id;

	return bpf_map__lookup_elem(d->skel->maps.core_state, &key, sizeof(key), out, sizeof(*out),
				    0);
}

int bpf_sched_read_vcpu_stats(struct vs_daemon *d, int slot, struct vs_vcpu_stats *out)
{
	uint32_t key = (uint32_t)slot;

	return bpf_map__lookup_elem(d->skel->maps.vcpu_stats, &key, sizeof(key), out, sizeof(*out),
				    0);
}

int bpf_sched_read_cpu_stats(struct vs_daemon *d, int cpu, struct vs_cpu_stats *out)
{
	uint32_t key = (uint32_t)cpu;

	return bpf_map__lookup_elem(d->skel->maps.cpu_stats, &key, sizeof(key), out, sizeof(*out),
				    0);
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
	int n = ring_buffer__consume(d->ringbuf);

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

uint64_t bpf_sched_self_check_overlaps(struct vs_daemon *d)
{
	return d->skel->bss->self_check_overlaps;
}

void bpf_sched_read_counters(struct vs_daemon *d, struct vs_sched_counters *out)
{
	const struct vmm_sched__bss *b = d->skel->bss;

	out->unclaimed_runs = b->unclaimed_runs;
	out->switch_overlaps = b->switch_overlaps;
	out->unrecorded_switches = b->unrecorded_switches;
	out->misplaced_runs = b->misplaced_runs;
	out->txn_group_partial = b->txn_group_partial;
	for (int i = 0; i < VS_TXN_NR_OUTCOMES; i++)
		out->txn_outcomes[i] = b->txn_outcomes[i];
}
