/* The control socket itself: checked before anything loads, created with its owner and mode. */
#ifndef VS_CONTROL_SOCKET_H
#define VS_CONTROL_SOCKET_H

#include <stddef.h>
#include <stdint.h>

struct vs_daemon;

/* The epoll data of the listening socket; connections carry their index. */
#define VS_CTL_LISTEN_TAG UINT32_MAX

/* Before anything is loaded: -1 with err if a live daemon answers on the path or
 * --control-group names no group. */
int control_prepare(struct vs_daemon *d, char *err, size_t errlen);
int control_listen(struct vs_daemon *d, char *err, size_t errlen);
/* The fd the event loop polls: readable when a connection needs the agent. */
int control_poll_fd(struct vs_daemon *d);

#endif
