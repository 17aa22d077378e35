/*
 * libFuzzer target: the control request parser (vmm-sched/lib/ctl_request.c),
 * built with ASan and UBSan (make fuzz). Beyond not crashing, a request it
 * accepts must be one the agent can act on, and an error must be printable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_ctl_request req;
	char err[512];

	if (ctl_request_parse((const char *)data, size, &req, err, sizeof(err)) == 0) {
		check_accepted(&req);
		return 0;
	}
	if (!err[0])
		abort();
	for (const char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort(); /* an error may quote the request: never raw control bytes */
	return 0;
}
