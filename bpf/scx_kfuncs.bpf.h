/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sched_ext kfuncs and helpers vmm_sched uses. vmlinux.h from bpftool 7.1
 * has the types but no kfunc prototypes. Names follow the 6.13+ API; 6.12's
 * older names are reached through the ___compat wrappers below.
 */
#ifndef VMM_SCHED_SCX_KFUNCS_BPF_H
#define VMM_SCHED_SCX_KFUNCS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define BPF_STRUCT_OPS(name, args...) SEC("struct_ops/" #name) BPF_PROG(name, ##args)

s32 scx_bpf_create_dsq(u64 dsq_id, s32 node) __ksym;
void scx_bpf_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
void scx_bpf_dispatch(struct task_struct *p, u64 dsq_id, u64 slice, u64 enq_flags) __ksym __weak;
/*
 * Weak on purpose: Debian's 7.2 kernels mark scx_bpf_kick_cpu as an
 * implicit-argument kfunc but ship no scx_bpf_kick_cpu_impl in their BTF, so
 * the verifier rejects any call to it. Declared with the classic two-argument
 * prototype, libbpf treats it as absent there and the scheduler uses paths
 * that need no kick (see kick_supported in vmm_sched.bpf.c).
 */
void scx_bpf_kick_cpu(s32 cpu, u64 flags) __ksym __weak;
/*
 * Strong: dispatch has no way to pick a VM without its queue length. The agent
 * checks the kernel's BTF of every kfunc here before loading and refuses a
 * kernel where a strong one is missing or malformed (vmm-sched/lib/kfunc_check.c,
 * whose table must list every declaration in this file).
 */
s32 scx_bpf_dsq_nr_queued(u64 dsq_id) __ksym;
/* RCU-protected; struct_ops programs and their timers run under RCU. */
struct task_struct *scx_bpf_cpu_curr(s32 cpu) __ksym;
void scx_bpf_error_bstr(char *fmt, unsigned long long *data, u32 data_len) __ksym;
s32 scx_bpf_task_cpu(const struct task_struct *p) __ksym;
int bpf_iter_scx_dsq_new(struct bpf_iter_scx_dsq *it, u64 dsq_id, u64 flags) __ksym __weak;
struct task_struct *bpf_iter_scx_dsq_next(struct bpf_iter_scx_dsq *it) __ksym __weak;
void bpf_iter_scx_dsq_destroy(struct bpf_iter_scx_dsq *it) __ksym __weak;
bool scx_bpf_dsq_move(struct bpf_iter_scx_dsq *it__iter, struct task_struct *p, u64 dsq_id,
		      u64 enq_flags) __ksym __weak;
bool scx_bpf_dispatch_from_dsq(struct bpf_iter_scx_dsq *it__iter, struct task_struct *p, u64 dsq_id,
			       u64 enq_flags) __ksym __weak;
void bpf_rcu_read_lock(void) __ksym;
void bpf_rcu_read_unlock(void) __ksym;
bool bpf_cpumask_test_cpu(u32 cpu, const struct cpumask *cpumask) __ksym;

/* 6.13 renamed dispatch -> dsq_insert. */
static __always_inline void vs_dsq_insert(struct task_struct *p, u64 dsq_id, u64 slice,
					  u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_insert))
		scx_bpf_dsq_insert(p, dsq_id, slice, enq_flags);
	else
		scx_bpf_dispatch(p, dsq_id, slice, enq_flags);
}

/* 6.13 renamed dispatch_from_dsq -> dsq_move. */
static __always_inline bool vs_dsq_move(struct bpf_iter_scx_dsq *it, struct task_struct *p,
					u64 dsq_id, u64 enq_flags)
{
	if (bpf_ksym_exists(scx_bpf_dsq_move))
		return scx_bpf_dsq_move(it, p, dsq_id, enq_flags);
	return scx_bpf_dispatch_from_dsq(it, p, dsq_id, enq_flags);
}

/* scx_bpf_error("fmt", args...): abort the scheduler with a formatted message. */
#define scx_bpf_error(fmt, args...)                                                                \
	({                                                                                         \
		static char ___fmt[] = fmt;                                                        \
		unsigned long long ___param[___bpf_narg(args)];                                    \
		_Pragma("GCC diagnostic push")                                                     \
		    _Pragma("GCC diagnostic ignored \"-Wint-conversion\"")                         \
			___bpf_fill(___param, args);                                               \
		_Pragma("GCC diagnostic pop")                                                      \
		    scx_bpf_error_bstr(___fmt, ___param, sizeof(___param));                        \
	})

#endif
