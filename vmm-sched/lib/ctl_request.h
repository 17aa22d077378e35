/*
 * The control protocol's request parser (vmm_sched_ctl.h): bytes in, a
 * checked request or the reply's error text out. No system calls, so it is
 * unit-tested and fuzzed (tests/fuzz/) on its own.
 */
#ifndef VS_CTL_REQUEST_H
#define VS_CTL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "registry.h"

enum vs_ctl_cmd {
	VS_CTL_CMD_STATUS,
	VS_CTL_CMD_ENROLL,
	VS_CTL_CMD_SET,
	VS_CTL_CMD_RELEASE,
	VS_CTL_CMD_PLACE,
	VS_CTL_CMD_NOTIFY, /* the libvirt hook: look at this domain now */
	VS_CTL_NR_CMDS,
};

#define VS_CTL_MAX_PLACEMENTS 2	  /* the threads of one core */
#define VS_CTL_HINTS_PATH_LEN 201 /* an absolute path of at most 200 characters */
#define VS_CTL_DOMAIN_LEN     256

struct vs_ctl_placement {
	int tid;
	int cpu;
	bool have_seqnum; /* else the agent's latest */
	uint32_t seqnum;
};

struct vs_ctl_request {
	enum vs_ctl_cmd cmd;
	int pid;			   /* enroll, set, release */
	char name[VS_VM_NAME_LEN];	   /* enroll; "" if not given */
	char hints[VS_CTL_HINTS_PATH_LEN]; /* enroll: the guest hint region's file; "" if none */
	struct vs_share_settings share;	   /* enroll, set: VS_SHARE_KEEP if not given */
	int nr_placements;		   /* place */
	struct vs_ctl_placement placements[VS_CTL_MAX_PLACEMENTS];
	char domain[VS_CTL_DOMAIN_LEN]; /* notify: a libvirt domain name */
};

/*
 * Parses the @len bytes of one request (a JSON object, then nothing but
 * white space). 0 with *out filled, or -1 with err naming what was wrong.
 */
int ctl_request_parse(const char *buf, size_t len, struct vs_ctl_request *out, char *err,
		      size_t errlen);

const char *ctl_cmd_name(enum vs_ctl_cmd cmd);

#endif
