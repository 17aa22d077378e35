/*
 * The control protocol between vmm-schedctl (or the libvirt hook) and
 * vmm-schedd: a Unix stream socket, one JSON request object per connection
 * (ended by a newline or the client's shutdown), one JSON reply object ended
 * by a newline, then the daemon closes the connection. The requests, the
 * replies and the rules for versions are in docs/control-protocol.md, the
 * JSON Schema in docs/control-protocol.schema.json; the one encoder and
 * decoder of each are vmm-sched/lib/ctl_request.c and ctl_reply.c.
 *
 * The daemon serves at most VS_CTL_MAX_CONNS connections at once without ever
 * waiting on one: a request must arrive whole within VS_CTL_TIMEOUT_MS of
 * the connect, a reply be read within VS_CTL_REPLY_TIMEOUT_MS. Only root and
 * the --control-group may send anything but the read commands (docs/design.md).
 *
 * Bump VS_CTL_VERSION on any incompatible change (a field removed, renamed or
 * of another meaning); a new command or a new reply field is compatible.
 * Both sides refuse a different version with a message that names both.
 */
#ifndef VMM_SCHED_CTL_H
#define VMM_SCHED_CTL_H

#define VS_CTL_VERSION		1
#define VS_CTL_DEFAULT_SOCKET	"/run/vmm-sched/control.sock"
#define VS_CTL_MAX_REQUEST	4096
#define VS_CTL_TIMEOUT_MS	2000  /* the whole request, from the connect */
#define VS_CTL_REPLY_TIMEOUT_MS 10000 /* the whole reply, from when it is ready */
#define VS_CTL_MAX_CONNS	16

/* vmm-schedctl's exit status (docs/control-protocol.md, vmm-schedctl(8)). */
enum vs_ctl_exit {
	VS_CTL_EXIT_OK = 0,
	VS_CTL_EXIT_REFUSED = 1,    /* the agent refused the request; its reason is printed */
	VS_CTL_EXIT_USAGE = 2,	    /* bad command line; nothing was sent */
	VS_CTL_EXIT_NOT_PLACED = 3, /* place: the scheduler refused a placement */
	VS_CTL_EXIT_NO_AGENT = 4,   /* no conversation: no agent, no answer in time,
				       a reply that is not the protocol, another version */
};

#endif
