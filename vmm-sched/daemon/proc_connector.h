/* The kernel's process events (the proc connector), as a socket the event loop polls. */
#ifndef VS_PROC_CONNECTOR_H
#define VS_PROC_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "proc_event.h"

struct vs_proc_counts {
	uint64_t events;  /* fork, exit and comm events decoded */
	uint64_t invalid; /* datagrams refused by proc_event_decode() */
};

/*
 * Opens a netlink socket on the proc connector's group, asks the kernel to
 * send events (needs CAP_NET_ADMIN in the initial namespaces) and checks
 * that it does: the agent renames its own thread and waits for that event.
 * Returns the non-blocking fd, or -1 with err saying why events are not
 * available.
 */
int proc_connector_open(char *err, size_t errlen);
/*
 * Reads every queued datagram, calling @fn for each fork, exit or comm
 * event. Returns 0, or -ENOBUFS if the socket overflowed since the last
 * call (events were lost), or another -errno.
 */
int proc_connector_drain(int fd, void (*fn)(void *ctx, const struct vs_proc_event *ev), void *ctx,
			 struct vs_proc_counts *counts);
/* Tells the kernel to stop sending and closes @fd. */
void proc_connector_close(int fd);

#endif
