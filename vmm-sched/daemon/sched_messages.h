/* The scheduler's message ring: consumed into the agent's vCPU and CPU tracking. */
#ifndef VS_SCHED_MESSAGES_H
#define VS_SCHED_MESSAGES_H

#include <stddef.h>

struct vs_daemon;

/* Opens the ring (d->ringbuf); 0, or -1 with err. */
int vs_msgs_open(struct vs_daemon *d, char *err, size_t errlen);
/* Reads what is left, then closes the ring. */
void vs_msgs_close(struct vs_daemon *d);
/* Applies every message waiting; 0 or -errno. */
int vs_msgs_poll(struct vs_daemon *d);
/* Readable when messages wait. */
int vs_msgs_fd(struct vs_daemon *d);
/* Rebuilds the agent's view of every vCPU and CPU from the maps (after dropped messages). */
void vs_msgs_resync(struct vs_daemon *d);

#endif
