/*
 * The control server's connections (vmm-sched/daemon/control_server.c) and
 * the pure decisions about them: framing a request, where a new connection
 * goes when all slots are taken, when one has run out of time.
 */
#ifndef VS_CTL_CONN_H
#define VS_CTL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_access.h"
#include "vmm_sched_ctl.h"

struct vs_ctl_conn {
	int fd;		      /* -1: a free slot */
	bool replying;	      /* the request is read; the reply is being written */
	uint64_t opened_ns;   /* CLOCK_MONOTONIC at the accept */
	uint64_t deadline_ns; /* of the whole request, then of the whole reply */
	struct vs_ctl_peer peer;
	size_t req_len;
	char req[VS_CTL_MAX_REQUEST + 2]; /* one byte more than a request may have, and a NUL */
	char *reply;			  /* malloc()ed, ends with '\n' */
	size_t reply_len, reply_sent;
};

enum vs_ctl_framing {
	VS_CTL_REQ_MORE,     /* wait for more bytes */
	VS_CTL_REQ_COMPLETE, /* the request is buf[0..len) */
	VS_CTL_REQ_TOO_LONG, /* VS_CTL_MAX_REQUEST bytes and no end yet */
};

/*
 * A request ends at its first newline or where the client stopped sending
 * (@eof); more than VS_CTL_MAX_REQUEST bytes without either is too long.
 */
enum vs_ctl_framing ctl_request_framing(const char *buf, size_t len, bool eof);

/*
 * The slot for a new connection among @n: a free one; else the oldest one
 * still sending its request (the caller drops it: a client that sends its
 * request at once is never the oldest for long); else -1 (every slot is
 * writing a reply: refuse the new connection).
 */
int ctl_conn_pick_slot(const struct vs_ctl_conn *conns, int n);

static inline bool ctl_conn_expired(const struct vs_ctl_conn *c, uint64_t now_ns)
{
	return c->fd >= 0 && now_ns >= c->deadline_ns;
}

#endif
