/* Agent transactions: place a vCPU on a CPU if its seqnum is current. */
#ifndef VS_TXN_H
#define VS_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vs_daemon;

struct vs_placement {
	int tid;
	int cpu;
	bool have_seqnum; /* else the seqnum the agent last saw */
	uint32_t seqnum;
	bool take_core;	  /* VS_TXN_F_TAKE_CORE: may take the core from another VM */
	uint32_t outcome; /* out: enum vs_txn_outcome */
};
/* Maps the transaction slots (d->txn_slots). */
int txn_open(struct vs_daemon *d, char *err, size_t errlen);
void txn_close(struct vs_daemon *d);
/* One placement, or two on the threads of one core (a group: both or neither). */
int txn_place(struct vs_daemon *d, struct vs_placement *pl, int n, char *err, size_t errlen);

/* One slot of a batch: @flags are vs_txn.flags (the caller pairs VS_TXN_F_GROUP slots). */
struct vs_txn_req {
	int cpu;
	uint32_t tid, seqnum, flags;
	uint32_t outcome; /* out: enum vs_txn_outcome */
};
/*
 * Fill @n slots (distinct CPUs) and run the commit program once for all of
 * them. Returns 0 or -1 with err (then outcomes are VS_TXN_NONE or partial).
 */
int txn_commit_batch(struct vs_daemon *d, struct vs_txn_req *r, int n, char *err, size_t errlen);

#endif
