/*
 * The kernel functions (kfuncs) the vmm_sched BPF scheduler declares, what it
 * loses without each, and the verdict on them from facts a BTF walk gathered
 * (vmm-sched/daemon/kfunc_btf.c). Pure: no BTF, no syscalls.
 *
 * Since 7.0 some kfuncs take a hidden argument the verifier fills in
 * (KF_IMPLICIT_ARGS, a 'struct bpf_prog_aux *'). The kernel build splits such
 * a kfunc in BTF into a public prototype without it, which BPF programs call,
 * and a <name>_impl twin with it, which the verifier needs. A build that lost
 * the kfunc's "bpf_kfunc" BTF tag skips the split: the public prototype keeps
 * the hidden argument and there is no _impl twin.
 */
#ifndef VS_KFUNC_CHECK_H
#define VS_KFUNC_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#define VS_KVER(major, minor) ((major)*1000u + (minor))

/* What one kernel's BTF says about one kfunc name. */
struct vs_kfunc_facts {
	bool present;	 /* a function of that name */
	bool hidden_arg; /* its prototype has a 'struct bpf_prog_aux *' parameter */
	bool has_impl;	 /* a function <name>_impl */
};

struct vs_kfunc_need {
	const char *name;
	const char *alt; /* the older name the scheduler calls when @name is unusable */
	bool required;	 /* no fallback: the scheduler cannot run without it (or @alt) */
	/* VS_KVER from which the kernel is known to pass it a hidden argument; 0: not known */
	unsigned implicit_since;
	const char *cost; /* what is lost without it (optional kfuncs) */
};

/* The table: every kfunc bpf/scx_kfuncs.bpf.h declares, in that order. */
extern const struct vs_kfunc_need vs_kfunc_needs[];
extern const size_t vs_nr_kfunc_needs;

enum vs_kfunc_state {
	VS_KFUNC_OK,
	VS_KFUNC_ABSENT,     /* not in the kernel's BTF */
	VS_KFUNC_HIDDEN_ARG, /* public prototype still carries the hidden argument */
	VS_KFUNC_NO_IMPL,    /* implicit-argument kfunc on this kernel, but no _impl twin */
};

/* The state of one kfunc name on a kernel VS_KVER(@kver). */
enum vs_kfunc_state vs_kfunc_state_of(const struct vs_kfunc_facts *f, unsigned implicit_since,
				      unsigned kver);

struct vs_kfunc_verdict {
	enum vs_kfunc_state state; /* of need->name */
	bool usable;		   /* the scheduler gets what the kfunc (or its alt) gives */
	bool fatal;		   /* the scheduler cannot load or run: refuse to start */
	char msg[640];		   /* one line, empty when all is well */
};

/*
 * The verdict on @need: @f are the facts of need->name, @alt_f those of
 * need->alt (ignored without one). @kernel names the build in a refusal.
 * A kfunc the kernel lacks, or whose prototype still carries the hidden
 * argument, is resolved as absent (declared weak) or fails the load (strong);
 * one without its _impl twin links but the verifier refuses any call to it, so
 * that is fatal even for a kfunc with a fallback.
 */
void vs_kfunc_judge(const struct vs_kfunc_need *need, const struct vs_kfunc_facts *f,
		    const struct vs_kfunc_facts *alt_f, unsigned kver, const char *kernel,
		    struct vs_kfunc_verdict *v);

/* VS_KVER of a kernel release such as "7.3.4+deb13-amd64", or 0 if unreadable. */
unsigned vs_kver_of_release(const char *release);

#endif
