/* The control requests: each command turned into the agent's operation and its JSON reply. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "control_requests.h"
#include "ctl_reply.h"
#include "daemon.h"
#include "enclave_ops.h"
#include "hint_regions.h"
#include "libvirt_enrol.h"
#include "status_json.h"
#include "txn.h"
#include "vm_enrol.h"
#include "vm_release.h"
#include "vmm_sched_ctl.h"

static struct json_object *do_place(struct vs_daemon *d, const struct vs_ctl_request *req)
{
	struct vs_placement pl[VS_CTL_MAX_PLACEMENTS] = {0};
	struct vs_ctl_placed placed[VS_CTL_MAX_PLACEMENTS] = {0};
	struct json_object *reply;
	char err[256] = "";
	int i, n = req->nr_placements;

	for (i = 0; i < n; i++) {
		pl[i].tid = req->placements[i].tid;
		pl[i].cpu = req->placements[i].cpu;
		pl[i].have_seqnum = req->placements[i].have_seqnum;
		pl[i].seqnum = req->placements[i].seqnum;
		pl[i].take_core = req->take_core;
	}
	if (txn_place(d, pl, n, err, sizeof(err)))
		return ctl_reply_error("%s", err);
	for (i = 0; i < n; i++) {
		placed[i].tid = pl[i].tid;
		placed[i].cpu = pl[i].cpu;
		placed[i].seqnum = pl[i].seqnum;
		snprintf(placed[i].outcome, sizeof(placed[i].outcome), "%s",
			 txn_outcome_name(pl[i].outcome));
	}
	reply = ctl_reply_ok();
	ctl_reply_add_placed(reply, placed, n);
	return reply;
}

static struct json_object *do_enclave(struct vs_daemon *d, const struct vs_ctl_request *req)
{
	const struct vs_cpuset *cpus = req->have_cpus ? &req->cpus : NULL;
	struct json_object *reply, *plan;
	char err[512] = "";
	int rc = 0;

	switch (req->cmd) {
	case VS_CTL_CMD_ENCLAVE_LIST:
		reply = ctl_reply_ok();
		json_object_object_add(reply, "enclaves", enclaves_json(d));
		return reply;
	case VS_CTL_CMD_ENCLAVE_CREATE:
		rc = enclave_create(d, req->enclave, cpus, req->pairing, req->slice_us, err,
				    sizeof(err));
		break;
	case VS_CTL_CMD_ENCLAVE_DESTROY:
		rc = enclave_destroy(d, req->enclave, req->force, err, sizeof(err));
		break;
	case VS_CTL_CMD_ENCLAVE_ADD_CORES:
		rc = enclave_add_cores(d, req->enclave, cpus, err, sizeof(err));
		break;
	case VS_CTL_CMD_ENCLAVE_REMOVE_CORES:
		rc = enclave_remove_cores(d, req->enclave, cpus, err, sizeof(err));
		break;
	default: /* rebalance */
		plan = enclave_rebalance(d, req->dry_run, err, sizeof(err));
		if (!plan)
			return ctl_reply_error("%s", err);
		reply = ctl_reply_ok();
		json_object_object_add(reply, "dry_run", json_object_new_boolean(req->dry_run));
		json_object_object_add(reply, "moves", plan);
		return reply;
	}
	if (rc)
		return ctl_reply_error("%s", err);
	reply = ctl_reply_ok();
	json_object_object_add(reply, "enclaves", enclaves_json(d));
	return reply;
}

struct json_object *control_request_reply(struct vs_daemon *d, const struct vs_ctl_request *req)
{
	struct json_object *reply;
	char err[512];
	int vm_id, enclave;

	switch (req->cmd) {
	case VS_CTL_CMD_STATUS:
		return status_to_json(d);
	case VS_CTL_CMD_ENROLL:
		enclave = req->enclave[0] ? enclave_set_find(&d->enclaves, req->enclave)
					  : VS_ENCLAVE_DEFAULT;
		if (enclave < 0)
			return ctl_reply_error("no enclave named '%s' (vmm-schedctl enclave list)",
					       req->enclave);
		vm_id = vm_enroll(d, req->pid, req->name[0] ? req->name : NULL, &req->share,
				  enclave, err, sizeof(err));
		if (vm_id < 0)
			return ctl_reply_error("%s", err);
		if (hints_attach_default(d, vm_id, req->hints, err, sizeof(err))) {
			vm_release(d, vm_id);
			return ctl_reply_error("%s", err);
		}
		reply = ctl_reply_ok();
		json_object_object_add(reply, "vm_id", json_object_new_int(vm_id));
		return reply;
	case VS_CTL_CMD_SET:
	case VS_CTL_CMD_RELEASE:
		vm_id = registry_find_vm_by_pid(&d->reg, req->pid);
		if (vm_id < 0)
			return ctl_reply_error("no enrolled VM has pid %d", req->pid);
		if (req->cmd == VS_CTL_CMD_RELEASE) {
			vm_release(d, vm_id);
			return ctl_reply_ok();
		}
		if (vm_set_share(d, vm_id, &req->share, err, sizeof(err)))
			return ctl_reply_error("VM '%s': %s", d->reg.vms[vm_id].name, err);
		return ctl_reply_ok();
	case VS_CTL_CMD_PLACE:
		return do_place(d, req);
	case VS_CTL_CMD_NOTIFY:
		if (!d->lv.enabled)
			return ctl_reply_error(
			    "libvirt is off (--libvirt none): nothing to notify");
		libvirt_notify(d, req->domain);
		return ctl_reply_ok();
	case VS_CTL_CMD_VM_MOVE:
		vm_id = registry_find_vm_by_pid(&d->reg, req->pid);
		if (vm_id < 0)
			return ctl_reply_error("no enrolled VM has pid %d", req->pid);
		if (vm_move(d, vm_id, req->enclave, err, sizeof(err)))
			return ctl_reply_error("%s", err);
		return ctl_reply_ok();
	case VS_CTL_CMD_ENCLAVE_LIST:
	case VS_CTL_CMD_ENCLAVE_CREATE:
	case VS_CTL_CMD_ENCLAVE_DESTROY:
	case VS_CTL_CMD_ENCLAVE_ADD_CORES:
	case VS_CTL_CMD_ENCLAVE_REMOVE_CORES:
	case VS_CTL_CMD_REBALANCE:
		return do_enclave(d, req);
	case VS_CTL_NR_CMDS:
		break;
	}
	return ctl_reply_error("unknown command");
}
