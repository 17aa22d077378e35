/*
 * libFuzzer target: the control protocol's decoders (vmm-sched/lib/
 * ctl_request.c, ctl_reply.c), built with ASan and UBSan (make fuzz). Beyond
 * not crashing, a request the parser accepts must be one the agent can act
 * on and must encode to a line that parses back to the same request, and
 * every error must be printable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl_reply.h"
#include "ctl_request.h"
#include "vm_name.h"
#include "vmm_sched_ctl.h"

static void check_accepted(const struct vs_ctl_request *req)
{
	char err[256];

	if ((unsigned int)req->cmd >= VS_CTL_NR_CMDS)
		abort();
	switch (req->cmd) {
	case VS_CTL_CMD_ENROLL:
	case VS_CTL_CMD_SET:
	case VS_CTL_CMD_RELEASE:
		if (req->pid <= 0)
			abort();
		if (req->name[0] && vm_name_check(req->name, strlen(req->name), err, sizeof(err)))
			abort();
		break;
	case VS_CTL_CMD_PLACE:
		if (req->nr_placements < 1 || req->nr_placements > VS_CTL_MAX_PLACEMENTS)
			abort();
		for (int i = 0; i < req->nr_placements; i++)
			if (req->placements[i].tid <= 0 || req->placements[i].cpu < 0)
				abort();
		break;
	default:
		break;
	}
}

/* What the one encoder makes of an accepted request parses back to it. */
static void check_round_trip(const struct vs_ctl_request *req)
{
	struct vs_ctl_request again;
	char *line = ctl_request_encode(req), err[512];

	if (!line || ctl_request_parse(line, strlen(line), &again, err, sizeof(err)))
		abort();
	if (again.cmd != req->cmd || again.pid != req->pid || strcmp(again.name, req->name) ||
	    again.share.weight != req->share.weight ||
	    again.share.reserve_cores != req->share.reserve_cores ||
	    again.share.cap_cores != req->share.cap_cores ||
	    again.nr_placements != req->nr_placements || strcmp(again.enclave, req->enclave) ||
	    again.have_cpus != req->have_cpus || !cpuset_equal(&again.cpus, &req->cpus) ||
	    again.pairing != req->pairing || again.slice_us != req->slice_us ||
	    again.force != req->force || again.dry_run != req->dry_run)
		abort();
	for (int i = 0; i < req->nr_placements; i++)
		if (again.placements[i].tid != req->placements[i].tid ||
		    again.placements[i].cpu != req->placements[i].cpu ||
		    again.placements[i].have_seqnum != req->placements[i].have_seqnum ||
		    again.placements[i].seqnum != req->placements[i].seqnum)
			abort();
	free(line);
}

static void check_printable(const char *err)
{
	if (!err[0])
		abort();
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort(); /* an error may quote the input: never raw control bytes */
}

/* The same bytes as a reply: decoded or refused with a printable reason. */
static void check_reply(const uint8_t *data, size_t size)
{
	struct vs_ctl_placed placed[VS_CTL_MAX_PLACEMENTS];
	struct json_object *reply;
	char err[600];

	switch (ctl_reply_parse((const char *)data, size, &reply, err, sizeof(err))) {
	case VS_CTL_REPLY_OK:
		if (!reply)
			abort();
		if (ctl_reply_get_placed(reply, placed, VS_CTL_MAX_PLACEMENTS, err, sizeof(err)) <
		    0)
			check_printable(err);
		json_object_put(reply);
		break;
	default:
		check_printable(err);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_ctl_request req;
	char err[512];

	check_reply(data, size);
	if (ctl_request_parse((const char *)data, size, &req, err, sizeof(err)) == 0) {
		check_accepted(&req);
		check_round_trip(&req);
		return 0;
	}
	check_printable(err);
	return 0;
}
