/* Loading, adopting, attaching and unloading the sched_ext scheduler (its skeleton). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "log.h"
#include "pinned_state.h"
#include "sched_loader.h"
#include "sched_maps.h"
#include "sched_messages.h"
#include "slot_tables.h"
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
	struct vs_cpuset all;
	int cpu, e;

	enclave_set_all_cpus(&d->enclaves, &all);
	cpuset_for_each(cpu, &all)
	{
		if (d->topo.core_of[cpu] != cpu)
			continue;
		e = vs_maps_init_core(d, cpu, false);
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

static int write_cpu_ctx(struct vs_daemon *d, char *err, size_t errlen)
{
	int cpu, e;

	cpuset_for_each(cpu, &d->topo.online)
	{
		e = vs_maps_write_cpu(d, cpu);
		if (e) {
			snprintf(err, errlen, "cannot write cpu_ctx[%d]: %s", cpu, strerror(-e));
			return -1;
		}
	}
	return 0;
}

static int write_enclaves(struct vs_daemon *d, char *err, size_t errlen)
{
	for (int id = 0; id < VS_MAX_ENCLAVES; id++) {
		int e = vs_maps_write_enclave(d, id);

		if (e) {
			snprintf(err, errlen, "cannot write enclave_ctx[%d]: %s", id, strerror(-e));
			return -1;
		}
	}
	return 0;
}

/* The maps by what indexes them: CPU ids, VM ids, vCPU slots. */
static void size_maps(struct vmm_sched *skel, unsigned int cpus, unsigned int vms,
		      unsigned int vcpus)
{
	struct bpf_map *by_cpu[] = {skel->maps.cpu_ctx,		 skel->maps.cpu_stats,
				    skel->maps.core_state,	 skel->maps.txns,
				    skel->maps.cpu_idle,	 skel->maps.ext_timers,
				    skel->maps.txn_takes_pending};
	struct bpf_map *by_vm[] = {skel->maps.vm_ctx, skel->maps.vm_state, skel->maps.agent_vms};
	struct bpf_map *by_vcpu[] = {skel->maps.vcpu_map, skel->maps.vcpu_stats,
				     skel->maps.agent_vcpus, skel->maps.vcpu_hints,
				     skel->maps.vcpu_claim};
	size_t i;

	for (i = 0; i < sizeof(by_cpu) / sizeof(by_cpu[0]); i++)
		bpf_map__set_max_entries(by_cpu[i], cpus);
	for (i = 0; i < sizeof(by_vm) / sizeof(by_vm[0]); i++)
		bpf_map__set_max_entries(by_vm[i], vms);
	for (i = 0; i < sizeof(by_vcpu) / sizeof(by_vcpu[0]); i++)
		bpf_map__set_max_entries(by_vcpu[i], vcpus);
	skel->rodata->vs_max_vms = vms;
	skel->rodata->vs_max_vcpus = vcpus;
}

/* CPU ids the kernel may use (possible CPUs), at most VS_MAX_CPUS. */
static int possible_cpus(struct vs_daemon *d, char *err, size_t errlen)
{
	int n = libbpf_num_possible_cpus();

	if (n <= 0) {
		snprintf(err, errlen, "cannot read the possible CPUs: %s", strerror(-n));
		return -1;
	}
	if (n > VS_MAX_CPUS) {
		vs_log("the host has %d possible CPUs: CPUs from %d on are never scheduled (the "
		       "ceiling is VS_MAX_CPUS %d)",
		       n, VS_MAX_CPUS, VS_MAX_CPUS);
		n = VS_MAX_CPUS;
	}
	return n < d->topo.nr_cpus ? d->topo.nr_cpus : n;
}

/*
 * The agent's tables as large as the maps: an adopted scheduler keeps the
 * sizes it was loaded with, whatever --max-vms and --max-vcpus say now.
 */
static int match_tables(struct vs_daemon *d, bool adopt, char *err, size_t errlen)
{
	unsigned int vms = bpf_map__max_entries(d->skel->maps.vm_ctx);
	unsigned int vcpus = bpf_map__max_entries(d->skel->maps.vcpu_stats);

	if (adopt && (vms != d->opt.max_vms || vcpus != d->opt.max_vcpus))
		vs_log("the pinned scheduler was loaded for %u VMs and %u vCPUs, not --max-vms %u "
		       "--max-vcpus %u: its limits are kept until it is unloaded",
		       vms, vcpus, d->opt.max_vms, d->opt.max_vcpus);
	if ((unsigned int)d->reg.vm_ids == vms && (unsigned int)d->reg.vcpu_slots == vcpus)
		return 0;
	return slot_tables_size(d, vms, vcpus, err, errlen);
}

int vs_sched_load(struct vs_daemon *d, bool adopt, char *err, size_t errlen)
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
		int cpus = possible_cpus(d, err, errlen);

		if (cpus < 0)
			return -1;
		size_maps(skel, (unsigned int)cpus, d->opt.max_vms, d->opt.max_vcpus);
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
	if (match_tables(d, adopt, err, errlen))
		return -1;
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

int vs_sched_check_adopted(struct vs_daemon *d, char *err, size_t errlen)
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

int vs_sched_attach(struct vs_daemon *d, char *err, size_t errlen)
{
	if (vs_msgs_open(d, err, errlen))
		return -1;
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

void vs_sched_detach(struct vs_daemon *d)
{
	char err[512];

	vs_msgs_close(d);
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

enum vs_exit_kind vs_sched_exit_kind(struct vs_daemon *d)
{
	return __atomic_load_n(&d->skel->bss->exit_info.kind, __ATOMIC_ACQUIRE);
}

static const char *exit_kind_name(enum vs_exit_kind kind)
{
	switch (kind) {
	case VS_EXIT_NONE:
		break;
	case VS_EXIT_DONE:
		return "done";
	case VS_EXIT_UNREG:
		return "unregistered from user space";
	case VS_EXIT_UNREG_BPF:
		return "unregistered by BPF";
	case VS_EXIT_UNREG_KERN:
		return "unregistered by the kernel";
	case VS_EXIT_SYSRQ:
		return "sysrq-S";
	case VS_EXIT_ERROR:
		return "runtime error";
	case VS_EXIT_ERROR_BPF:
		return "scx_bpf_error() in the BPF scheduler";
	case VS_EXIT_ERROR_STALL:
		return "watchdog: runnable vCPU stalled";
	}
	return "unknown";
}

void vs_sched_report_exit(struct vs_daemon *d)
{
	const struct vs_exit_info *ei = &d->skel->bss->exit_info;
	enum vs_exit_kind kind = vs_sched_exit_kind(d);

	vs_err("the kernel disabled the sched_ext scheduler: kind %d (%s), code %lld, reason "
	       "'%.*s', message '%.*s'; every vCPU is back in the fair class",
	       kind, exit_kind_name(kind), (long long)ei->exit_code, VS_EXIT_REASON_LEN, ei->reason,
	       VS_EXIT_MSG_LEN, ei->msg);
}
