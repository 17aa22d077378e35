#include "kfunc_check.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * implicit_since: the kernel takes a hidden argument from that version on, as
 * far as checked (the source for scx_bpf_kick_cpu, Debian's 7.3.4 BTF for the
 * rest); earlier kernels are judged by their prototypes alone.
 */
const struct vs_kfunc_need vs_kfunc_needs[] = {
    {"scx_bpf_create_dsq", NULL, true, VS_KVER(7, 3), NULL},
    {"scx_bpf_dsq_insert", "scx_bpf_dispatch", true, VS_KVER(7, 3), NULL},
    {"scx_bpf_kick_cpu", NULL, false, VS_KVER(7, 0),
     "no kicks: a sibling that must leave a core does so at its next tick, not at once"},
    /* Dispatch picks the VM to run from the lengths of their queues. */
    {"scx_bpf_dsq_nr_queued", NULL, true, VS_KVER(7, 3), NULL},
    {"scx_bpf_cpu_curr", NULL, true, VS_KVER(7, 3), NULL},
    {"scx_bpf_error_bstr", NULL, true, VS_KVER(7, 3), NULL},
    {"scx_bpf_task_cpu", NULL, true, 0, NULL},
    {"bpf_iter_scx_dsq_new", NULL, true, VS_KVER(7, 3), NULL},
    {"bpf_iter_scx_dsq_next", NULL, true, 0, NULL},
    {"bpf_iter_scx_dsq_destroy", NULL, true, 0, NULL},
    {"scx_bpf_dsq_move", "scx_bpf_dispatch_from_dsq", true, 0, NULL},
    {"bpf_rcu_read_lock", NULL, true, 0, NULL},
    {"bpf_rcu_read_unlock", NULL, true, 0, NULL},
    {"bpf_cpumask_test_cpu", NULL, true, 0, NULL},
};
const size_t vs_nr_kfunc_needs = sizeof(vs_kfunc_needs) / sizeof(vs_kfunc_needs[0]);

enum vs_kfunc_state vs_kfunc_state_of(const struct vs_kfunc_facts *f, unsigned implicit_since,
				      unsigned kver)
{
	if (!f->present)
		return VS_KFUNC_ABSENT;
	if (f->hidden_arg)
		return VS_KFUNC_HIDDEN_ARG;
	if (!f->has_impl && implicit_since && kver >= implicit_since)
		return VS_KFUNC_NO_IMPL;
	return VS_KFUNC_OK;
}

/* "NAME is ...": what is wrong with it, after its name. */
static void describe(char *buf, size_t len, const char *name, const struct vs_kfunc_facts *f,
		     enum vs_kfunc_state state)
{
	switch (state) {
	case VS_KFUNC_OK:
		snprintf(buf, len, "%s is fine", name);
		break;
	case VS_KFUNC_ABSENT:
		snprintf(buf, len, "%s is not in the kernel's BTF", name);
		break;
	case VS_KFUNC_HIDDEN_ARG:
		snprintf(buf, len,
			 "%s is malformed in the kernel's BTF: its public prototype still carries "
			 "the hidden 'struct bpf_prog_aux *' argument%s",
			 name, f->has_impl ? "" : " and it has no _impl twin");
		break;
	case VS_KFUNC_NO_IMPL:
		snprintf(buf, len,
			 "%s is malformed in the kernel's BTF: an implicit-argument kfunc without "
			 "the %s_impl twin the verifier needs, so any call to it fails",
			 name, name);
		break;
	}
}

void vs_kfunc_judge(const struct vs_kfunc_need *need, const struct vs_kfunc_facts *f,
		    const struct vs_kfunc_facts *alt_f, unsigned kver, const char *kernel,
		    struct vs_kfunc_verdict *v)
{
	enum vs_kfunc_state alt_state = VS_KFUNC_ABSENT;
	char what[224];

	v->state = vs_kfunc_state_of(f, need->implicit_since, kver);
	v->msg[0] = '\0';
	if (need->alt)
		alt_state = vs_kfunc_state_of(alt_f, 0, kver);
	v->usable = v->state == VS_KFUNC_OK || alt_state == VS_KFUNC_OK;
	/* Without its _impl twin, a kfunc links but fails the verifier wherever it is called. */
	v->fatal = v->state == VS_KFUNC_NO_IMPL || (need->required && !v->usable);
	if (v->state == VS_KFUNC_OK)
		return;
	describe(what, sizeof(what), need->name, f, v->state);
	if (v->fatal)
		snprintf(v->msg, sizeof(v->msg),
			 "kernel %s cannot run vmm_sched: %s%s; boot another kernel build "
			 "(e.g. the newest of Debian's trixie-backports)",
			 kernel, what,
			 v->state == VS_KFUNC_NO_IMPL ? ""
						      : ", and vmm_sched cannot do without it");
	else if (need->alt)
		snprintf(v->msg, sizeof(v->msg), "%s: vmm_sched uses %s instead", what, need->alt);
	else
		snprintf(v->msg, sizeof(v->msg), "%s: %s", what, need->cost);
}

unsigned vs_kver_of_release(const char *release)
{
	char *end;
	unsigned long major = strtoul(release, &end, 10), minor;

	if (end == release || *end != '.')
		return 0;
	release = end + 1;
	minor = strtoul(release, &end, 10);
	if (end == release || major > 1000 || minor > 999)
		return 0;
	return VS_KVER((unsigned)major, (unsigned)minor);
}
