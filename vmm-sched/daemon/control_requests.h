/* What each control request does: the agent's operations behind vmm_sched_ctl.h. */
#ifndef VS_CONTROL_REQUESTS_H
#define VS_CONTROL_REQUESTS_H

#include "ctl_request.h"

struct vs_daemon;
struct json_object;

/* Carries out @req (parsed, access checked) and returns its reply. */
struct json_object *control_request_reply(struct vs_daemon *d, const struct vs_ctl_request *req);

#endif
