/*
 * libvirt enrolment. A thread of its own (libvirt_watch.c) holds the libvirt
 * connection and runs libvirt's event loop (virEventRunDefaultImpl), so no
 * libvirt call, slow or hung, ever runs on the agent's io_uring loop. It
 * looks at each domain (metadata, cgroup vCPU threads) and writes what the
 * loop is to do as fixed-size messages into a pipe (atomic below PIPE_BUF);
 * the loop applies them (libvirt_apply.c) with the same code as
 * vmm-schedctl enroll. The hook's notify goes the other way through a
 * second pipe.
 */
#ifndef VS_LIBVIRT_ENROL_H
#define VS_LIBVIRT_ENROL_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_request.h"
#include "registry.h"

#define VS_LV_MAX_TIDS 64 /* vCPU threads one message names for the cross-check */
#define VS_LV_MAX_BAD  32 /* domains with invalid metadata shown in status */

enum vs_lv_msg_kind {
	VS_LV_MSG_ENROL,	   /* enrol, or apply new settings to an enrolled domain */
	VS_LV_MSG_RELEASE,	   /* not (or no longer) opted in, or stopped */
	VS_LV_MSG_INVALID,	   /* invalid metadata: why */
	VS_LV_MSG_NOT_SCHEDULABLE, /* opted in, but no vCPU threads found: why */
	VS_LV_MSG_CONNECTED,	   /* to the URI; a resync follows */
	VS_LV_MSG_DISCONNECTED,	   /* why */
};

struct vs_lv_msg {
	enum vs_lv_msg_kind kind;
	char name[VS_VM_NAME_LEN]; /* the domain's name as the agent shows it */
	int pid;		   /* qemu's */
	bool paused;		   /* the domain was paused when its threads were read */
	struct vs_share_settings share;
	char enclave[VS_ENCLAVE_NAME_LEN]; /* its metadata's enclave=, "" for the default */
	int nr_tids;
	int tids[VS_LV_MAX_TIDS], index[VS_LV_MAX_TIDS]; /* from the vcpuN cgroups */
	char why[512];
};
_Static_assert(sizeof(struct vs_lv_msg) <= 4096, "one atomic pipe write (PIPE_BUF)");

struct vs_lv_bad {
	char name[VS_VM_NAME_LEN];
	char why[512];
};

/* The loop's view, for status. */
struct vs_libvirt {
	bool enabled;
	bool connected;
	int msg_fd;		  /* the loop reads messages here */
	bool managed[VS_MAX_VMS]; /* the VM of this id is a libvirt domain */
	struct vs_lv_bad bad[VS_LV_MAX_BAD];
	int nr_bad;
	uint64_t enrolled_paused, enrolled_running;
};

struct vs_daemon;

/* Starts the thread unless --libvirt none; a libvirtd that does not answer is retried. */
int libvirt_start(struct vs_daemon *d, char *err, size_t errlen);
void libvirt_stop(struct vs_daemon *d);
/* The hook's nudge: look at @domain now (non-blocking; dropped if the thread lags). */
void libvirt_notify(struct vs_daemon *d, const char *domain);
/* The loop: applies what the thread sent. */
void libvirt_on_messages(struct vs_daemon *d);
/* For status: {"uri","connected","managed":[...],"invalid":[{domain,error}]} */
struct json_object *libvirt_status_json(struct vs_daemon *d);

#endif
