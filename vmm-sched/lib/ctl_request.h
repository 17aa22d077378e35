/*
 * The control protocol's requests (vmm_sched_ctl.h, docs/control-protocol.md):
 * the one encoder (vmm-schedctl, the libvirt hook) and the one parser
 * (vmm-schedd). Bytes in, a checked request or the reply's error text out;
 * no system calls, so both are unit-tested and the parser fuzzed (tests/fuzz/).
 */
#ifndef VS_CTL_REQUEST_H
#define VS_CTL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave_set.h"
#include "registry.h"

enum vs_ctl_cmd {
	VS_CTL_CMD_STATUS,
	VS_CTL_CMD_ENROLL,
	VS_CTL_CMD_SET,
	VS_CTL_CMD_RELEASE,
	VS_CTL_CMD_PLACE,
	VS_CTL_CMD_NOTIFY, /* the libvirt hook: look at this domain now */
	VS_CTL_CMD_ENCLAVE_LIST,
	VS_CTL_CMD_ENCLAVE_CREATE,
	VS_CTL_CMD_ENCLAVE_DESTROY,
	VS_CTL_CMD_ENCLAVE_ADD_CORES,
	VS_CTL_CMD_ENCLAVE_REMOVE_CORES,
	VS_CTL_CMD_VM_MOVE,
	VS_CTL_CMD_REBALANCE,
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
	bool take_core;			   /* place: may take the core from another VM */
	struct vs_ctl_placement placements[VS_CTL_MAX_PLACEMENTS];
	char domain[VS_CTL_DOMAIN_LEN]; /* notify: a libvirt domain name */
	/* enroll, vm-move, enclave-*: the enclave's name ("" if not given: the default) */
	char enclave[VS_ENCLAVE_NAME_LEN];
	bool have_cpus; /* enclave-create (optional), -add-cores, -remove-cores */
	struct vs_cpuset cpus;
	int pairing;	       /* enclave-create: VS_PAIRING_*, or -1 for the agent's --pairing */
	unsigned int slice_us; /* enclave-create: 0 for the agent's --slice-us */
	bool force;	       /* enclave-destroy */
	bool dry_run;	       /* rebalance */
};

/*
 * Parses the @len bytes of one request (a JSON object, then nothing but
 * white space). 0 with *out filled, or -1 with err naming what was wrong.
 */
int ctl_request_parse(const char *buf, size_t len, struct vs_ctl_request *out, char *err,
		      size_t errlen);

/*
 * @req as one request line: a JSON object with the protocol version, then
 * '\n'. malloc()ed text (the caller frees it), or NULL if out of memory.
 * Fields at VS_SHARE_KEEP, an empty name and a placement without
 * have_seqnum are left out, as the parser expects.
 */
char *ctl_request_encode(const struct vs_ctl_request *req);

/* A request for @cmd with nothing else set (share fields at VS_SHARE_KEEP). */
void ctl_request_init(struct vs_ctl_request *req, enum vs_ctl_cmd cmd);

const char *ctl_cmd_name(enum vs_ctl_cmd cmd);
/* The command named @name, or -1. */
int ctl_cmd_from_name(const char *name);

#endif
