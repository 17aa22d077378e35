/*
 * The client side of the control socket: connect, send one request, read
 * one reply (vmm_sched_ctl.h). Shared by vmm-schedctl and the libvirt hook;
 * the encoding and decoding themselves are in vmm-sched/lib (ctl_request.h,
 * ctl_reply.h).
 */
#ifndef VS_CTL_CLIENT_H
#define VS_CTL_CLIENT_H

#include <stddef.h>

#include "ctl_request.h"

struct json_object;

/*
 * Sends @req to the agent at @socket_path and waits for its reply, at most
 * @timeout_ms. Returns VS_CTL_EXIT_OK with *reply set (json_object_put() it),
 * VS_CTL_EXIT_REFUSED with err holding the agent's reason, or
 * VS_CTL_EXIT_NO_AGENT with err saying why there was no conversation.
 */
int ctl_call(const char *socket_path, const struct vs_ctl_request *req, int timeout_ms,
	     struct json_object **reply, char *err, size_t errlen);

#endif
