/*
 * Agent transactions (bpf/vmm_sched_abi.h): fill the mmapped per-CPU slots,
 * run the scheduler's commit program, read the outcomes back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"
#include "log.h"
#include "sched_maps.h"
#include "sched_messages.h"
#include "txn.h"
#include "vmm_sched.skel.h"

/* The slots mapped: one per CPU id the scheduler was sized for. */
static int txn_cpus(struct vs_daemon *d)
{
	return (int)bpf_map__max_entries(d->skel->maps.txns);
}

static size_t txn_map_size(struct vs_daemon *d)
{
	return (size_t)txn_cpus(d) * sizeof(struct vs_txn);
}

int txn_open(struct vs_daemon *d, char *err, size_t errlen)
{
	void *p = mmap(NULL, txn_map_size(d), PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(d->skel->maps.txns), 0);

	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the transaction slots: %s", strerror(errno));
		return -1;
	}
	d->txn_slots = p;
	return 0;
}

void txn_close(struct vs_daemon *d)
{
	if (d->txn_slots)
		munmap(d->txn_slots, txn_map_size(d));
	d->txn_slots = NULL;
}

/* The seqnum the agent last saw for @tid (what ghOSt's agent would commit against). */
static int agent_seqnum(struct vs_daemon *d, int tid, uint32_t *seq)
{
	int slot = registry_find_vcpu_by_tid(&d->reg, tid);

	if (slot < 0 || !d->vcpu_track[slot].seen)
		return -1;
	*seq = d->vcpu_track[slot].seqnum;
	return 0;
}

int txn_place(struct vs_daemon *d, struct vs_placement *pl, int n, char *err, size_t errlen)
{
	struct vs_txn_req r[VS_THREADS_PER_CORE];
	int i;

	if (n < 1 || n > VS_THREADS_PER_CORE) {
		snprintf(err, errlen, "a transaction places 1 vCPU, or 2 on one core");
		return -1;
	}
	/* Catch up on messages first: the seqnums the agent commits against are its latest. */
	vs_msgs_poll(d);
	for (i = 0; i < n; i++) {
		if (pl[i].cpu < 0 || pl[i].cpu >= txn_cpus(d)) {
			snprintf(err, errlen, "CPU %d is out of range 0..%d", pl[i].cpu,
				 txn_cpus(d) - 1);
			return -1;
		}
		if (i && pl[i].cpu == pl[0].cpu) {
			snprintf(err, errlen, "both vCPUs of a group name CPU %d", pl[i].cpu);
			return -1;
		}
		if (!pl[i].have_seqnum && agent_seqnum(d, pl[i].tid, &pl[i].seqnum))
			pl[i].seqnum = 0; /* unknown or silent vCPU: the commit says which */
		r[i] = (struct vs_txn_req){
		    .cpu = pl[i].cpu,
		    .tid = (uint32_t)pl[i].tid,
		    .seqnum = pl[i].seqnum,
		    .flags =
			(n > 1 ? VS_TXN_F_GROUP : 0) | (pl[i].take_core ? VS_TXN_F_TAKE_CORE : 0),
		};
	}
	if (txn_commit_batch(d, r, n, err, errlen))
		return -1;
	for (i = 0; i < n; i++) {
		pl[i].outcome = r[i].outcome;
		if (r[i].outcome == VS_TXN_NONE) {
			snprintf(err, errlen, "the commit left CPU %d's slot undone", pl[i].cpu);
			return -1;
		}
	}
	return 0;
}

int txn_commit_batch(struct vs_daemon *d, struct vs_txn_req *r, int n, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	struct vs_commit_args args = {0};
	int i, e;

	if (!d->txn_slots) {
		snprintf(err, errlen, "transactions are not available (slots not mapped)");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (r[i].cpu < 0 || r[i].cpu >= txn_cpus(d) ||
		    __atomic_load_n(&d->txn_slots[r[i].cpu].state, __ATOMIC_ACQUIRE) ==
			VS_TXN_PENDING) {
			snprintf(err, errlen,
				 "CPU %d: out of range or a transaction pending already", r[i].cpu);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		struct vs_txn *s = &d->txn_slots[r[i].cpu];

		s->tid = r[i].tid;
		s->seqnum = r[i].seqnum;
		s->flags = r[i].flags;
		s->outcome = VS_TXN_NONE;
		s->gen++;
		__atomic_store_n(&s->state, VS_TXN_PENDING, __ATOMIC_RELEASE);
	}
	run.ctx_in = &args;
	run.ctx_size_in = sizeof(args);
	e = bpf_prog_test_run_opts(bpf_program__fd(d->skel->progs.vs_commit), &run);
	for (i = 0; i < n; i++) {
		struct vs_txn *s = &d->txn_slots[r[i].cpu];
		bool done = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == VS_TXN_DONE;

		r[i].outcome = done ? s->outcome : VS_TXN_NONE;
		__atomic_store_n(&s->state, VS_TXN_FREE, __ATOMIC_RELEASE);
	}
	if (e) {
		snprintf(err, errlen, "cannot run the commit program: %s", strerror(-e));
		return -1;
	}
	return 0;
}
