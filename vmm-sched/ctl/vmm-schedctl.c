/* Over 400 lines: the command table and one small handler per command. */
/* vmm-schedctl: the operator's view of vmm-schedd (status, top) and enrolment by hand. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl_cli.h"
#include "ctl_client.h"
#include "ctl_reply.h"
#include "ctl_request.h"
#include "enclave_cmds.h"
#include "vmm_sched_ctl.h"

/* notify (the libvirt hook) must return well within a second, whatever the agent does. */
#define NOTIFY_TIMEOUT_MS 500

static const char *socket_path = VS_CTL_DEFAULT_SOCKET;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmm-schedctl [--socket PATH] COMMAND [--json]\n"
		"\n"
		"commands (--json: print the agent's reply as JSON, docs/control-protocol.md):\n"
		"  status                   enclave, VMs, vCPUs and their counters\n"
		"  top [--interval S] [--iterations N] [--sort KEY]\n"
		"                           live view of cores and VMs, refreshed every S\n"
		"                           seconds (default 1); keys: n p d w f sort, q quits.\n"
		"                           Not on a terminal: N plain frames (default 1)\n"
		"  enroll PID [--name NAME] [--weight W] [--reserve N] [--cap N] [--enclave E]\n"
		"         [--hints FILE]    (NAME: 1..63 of A-Z a-z 0-9 . _ -; FILE: the VM's\n"
		"                           guest hint region, docs/guest-abi.md)\n"
		"                           schedule the vCPU threads of VMM process PID:\n"
		"                           share weight 1..10000 (default: the agent's\n"
		"                           --default-weight, 100 unless set), N cores\n"
		"                           guaranteed when it wants them, at most N cores\n"
		"  set PID [--weight W] [--reserve N] [--cap N]\n"
		"                           change an enrolled VM's share (--cap 0: no cap)\n"
		"  release PID              give them back to their previous policy\n"
		"  place TID CPU [--seqnum S] [--with TID2 CPU2 [--seqnum S2]] [--take-core]\n"
		"                           run vCPU TID on CPU next if its seqnum is still S\n"
		"                           (default: the agent's latest); --with places a\n"
		"                           second vCPU on the sibling, both or neither;\n"
		"                           --take-core: may take the core from another VM\n"
		"  enclave list             each enclave: CPUs, pairing, slice, VMs\n"
		"  enclave create NAME [--cpus LIST] [--pairing strict|relaxed] [--slice-us N]\n"
		"  enclave destroy NAME [--force]   (--force: its VMs go to 'default')\n"
		"  enclave add-cores NAME LIST      whole free cores, usable at once\n"
		"  enclave remove-cores NAME LIST   drained first: no vCPU runs there after\n"
		"  vm move VM ENCLAVE       VM (pid or name) runs on ENCLAVE's cores from now\n"
		"  rebalance [--dry-run]    move cores between enclaves to fit their VMs'\n"
		"                           reservations and demand (--dry-run: plan only)\n"
		"  notify DOMAIN [--timeout-ms N]\n"
		"                           ask vmm-schedd to look at libvirt domain DOMAIN\n"
		"                           now (the libvirt hook's nudge); gives up after\n"
		"                           N ms (default %d), whatever the daemon does\n"
		"\n"
		"exit status: 0 done; 1 the agent refused (its reason is printed); 2 bad usage;\n"
		"3 place: the scheduler refused a placement; 4 no conversation with the agent\n"
		"(not running, no answer in time, not the protocol, another protocol version)\n",
		NOTIFY_TIMEOUT_MS);
}

static int parse_pid(const char *s, int *pid)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v <= 0 || v > 0x3fffffff) {
		fprintf(stderr, "vmm-schedctl: '%s' is not a process id\n", s);
		return -1;
	}
	*pid = (int)v;
	return 0;
}

/* A number >= 0 given as @what (the daemon checks the range of each). */
static int parse_uint(const char *what, const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > 0x7fffffff) {
		fprintf(stderr, "vmm-schedctl: %s '%s' is not a number >= 0\n", what, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* place TID CPU [--seqnum S] [--with TID CPU [--seqnum S]] [--take-core] */
static int parse_place(int argc, char **argv, struct vs_ctl_request *req)
{
	struct vs_ctl_placement *cur = NULL;
	int i = 0, seq;

	while (i < argc) {
		if (cur && strcmp(argv[i], "--take-core") == 0) {
			req->take_core = true;
			i++;
			continue;
		}
		if (cur && strcmp(argv[i], "--seqnum") == 0 && i + 1 < argc) {
			if (parse_uint("place: seqnum", argv[i + 1], &seq))
				return -1;
			cur->have_seqnum = true;
			cur->seqnum = (uint32_t)seq;
			i += 2;
			continue;
		}
		if (cur && (strcmp(argv[i], "--with") != 0 ||
			    req->nr_placements >= VS_CTL_MAX_PLACEMENTS)) {
			fprintf(stderr, "vmm-schedctl: place: unexpected argument '%s'\n", argv[i]);
			return -1;
		}
		if (cur)
			i++;
		if (i + 1 >= argc) {
			fprintf(stderr, "vmm-schedctl: place: needs a TID and a CPU\n");
			return -1;
		}
		cur = &req->placements[req->nr_placements++];
		if (parse_pid(argv[i], &cur->tid) ||
		    parse_uint("place: CPU", argv[i + 1], &cur->cpu))
			return -1;
		i += 2;
	}
	if (!cur) {
		fprintf(stderr, "vmm-schedctl: place: needs a TID and a CPU\n");
		return -1;
	}
	return 0;
}

/* Copies option @opt's value into @dst of @len bytes, or says it is too long. */
static int copy_text_arg(const char *opt, const char *val, char *dst, size_t len)
{
	if (strlen(val) >= len) {
		fprintf(stderr, "vmm-schedctl: %s: longer than %zu characters\n", opt, len - 1);
		return -1;
	}
	snprintf(dst, len, "%s", val);
	return 0;
}

/* enroll|set|release PID [--name NAME] [--weight W] [--reserve N] [--cap N] */
static int parse_vm_cmd(const char *cmd, int argc, char **argv, struct vs_ctl_request *req)
{
	bool takes_share = req->cmd != VS_CTL_CMD_RELEASE;
	const char *keys[] = {"weight", "reserve", "cap"};
	int *fields[] = {&req->share.weight, &req->share.reserve_cores, &req->share.cap_cores};
	int i = 1, k;

	if (argc < 1) {
		fprintf(stderr, "vmm-schedctl: %s needs the VMM's PID\n", cmd);
		return -1;
	}
	if (parse_pid(argv[0], &req->pid))
		return -1;
	for (; i + 1 < argc && takes_share; i += 2) {
		if (req->cmd == VS_CTL_CMD_ENROLL) {
			char *dst = NULL;
			size_t len = 0;

			if (strcmp(argv[i], "--enclave") == 0)
				dst = req->enclave, len = sizeof(req->enclave);
			else if (strcmp(argv[i], "--hints") == 0)
				dst = req->hints, len = sizeof(req->hints);
			else if (strcmp(argv[i], "--name") == 0)
				dst = req->name, len = sizeof(req->name);
			if (dst) {
				if (copy_text_arg(argv[i], argv[i + 1], dst, len))
					return -1;
				continue;
			}
		}
		for (k = 0; k < 3; k++)
			if (!strncmp(argv[i], "--", 2) && !strcmp(argv[i] + 2, keys[k]))
				break;
		if (k == 3)
			break;
		if (parse_uint(argv[i], argv[i + 1], fields[k]))
			return -1;
	}
	if (i < argc) {
		fprintf(stderr, "vmm-schedctl: %s: unexpected argument '%s'\n", cmd, argv[i]);
		return -1;
	}
	return 0;
}

/* 0 if all placements committed, 3 if the scheduler refused any; @print: one line each. */
static int placements_outcome(struct json_object *reply, bool print)
{
	struct vs_ctl_placed placed[VS_CTL_MAX_PLACEMENTS];
	char err[256];
	int n = ctl_reply_get_placed(reply, placed, VS_CTL_MAX_PLACEMENTS, err, sizeof(err)),
	    rc = VS_CTL_EXIT_OK;

	if (n < 0) {
		fprintf(stderr, "vmm-schedctl: %s\n", err);
		return VS_CTL_EXIT_NO_AGENT;
	}
	for (int i = 0; i < n; i++) {
		if (print)
			printf("vCPU thread %d on CPU %d (seqnum %u): %s\n", placed[i].tid,
			       placed[i].cpu, placed[i].seqnum, placed[i].outcome);
		if (strcmp(placed[i].outcome, "complete") != 0)
			rc = VS_CTL_EXIT_NOT_PLACED;
	}
	return rc;
}

/*
 * The pid of VM @vm: a pid, or the name of an enrolled VM (looked up in the
 * status). Returns 0, or the exit status after printing why not.
 */
static int vm_pid_of(const char *vm, int *pid)
{
	struct vs_ctl_request req;
	struct json_object *reply, *vms;
	char err[600];
	int rc;

	if (*vm && strspn(vm, "0123456789") == strlen(vm))
		return parse_pid(vm, pid) ? VS_CTL_EXIT_USAGE : 0;
	ctl_request_init(&req, VS_CTL_CMD_STATUS);
	rc = ctl_call(socket_path, &req, VS_CTL_TIMEOUT_MS * 5, &reply, err, sizeof(err));
	if (rc != VS_CTL_EXIT_OK) {
		fprintf(stderr, "vmm-schedctl: %s\n", err);
		return rc;
	}
	rc = VS_CTL_EXIT_REFUSED;
	if (json_object_object_get_ex(reply, "vms", &vms))
		for (size_t i = 0; i < json_object_array_length(vms); i++) {
			struct json_object *o = json_object_array_get_idx(vms, i), *v;

			if (json_object_object_get_ex(o, "name", &v) &&
			    strcmp(json_object_get_string(v), vm) == 0 &&
			    json_object_object_get_ex(o, "pid", &v)) {
				*pid = json_object_get_int(v);
				rc = 0;
			}
		}
	if (rc)
		fprintf(stderr,
			"vmm-schedctl: no enrolled VM is named '%s' (vmm-schedctl status)\n", vm);
	json_object_put(reply);
	return rc;
}

/* Takes --json out of the command's arguments; true if it was there. */
static bool take_json_flag(int *argc, char **argv)
{
	bool json = false;
	int out = 0;

	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			argv[out++] = argv[i];
	}
	*argc = out;
	return json;
}

/* notify DOMAIN [--timeout-ms N]: sets *timeout_ms. */
static int parse_notify(int argc, char **argv, struct vs_ctl_request *req, int *timeout_ms)
{
	int i = 1;

	if (argc < 1) {
		fprintf(stderr, "vmm-schedctl: notify needs a libvirt domain name\n");
		return -1;
	}
	if (strlen(argv[0]) >= sizeof(req->domain)) {
		fprintf(stderr, "vmm-schedctl: notify: a domain name of at most %zu characters\n",
			sizeof(req->domain) - 1);
		return -1;
	}
	snprintf(req->domain, sizeof(req->domain), "%s", argv[0]);
	if (i + 1 < argc && !strcmp(argv[i], "--timeout-ms")) {
		if (parse_uint(argv[i], argv[i + 1], timeout_ms) || !*timeout_ms)
			return -1;
		i += 2;
	}
	if (i < argc) {
		fprintf(stderr, "vmm-schedctl: notify: unexpected argument '%s'\n", argv[i]);
		return -1;
	}
	return 0;
}

static int run(struct vs_ctl_request *req, bool json, int timeout_ms)
{
	struct json_object *reply;
	char err[600];
	int rc = ctl_call(socket_path, req, timeout_ms, &reply, err, sizeof(err));

	if (rc != VS_CTL_EXIT_OK) {
		fprintf(stderr, "vmm-schedctl: %s\n", err);
		return rc;
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY));
	if (req->cmd == VS_CTL_CMD_PLACE) /* its exit status says if placed, --json or not */
		rc = placements_outcome(reply, !json);
	else if (json)
		;
	else if (req->cmd == VS_CTL_CMD_STATUS)
		print_status(reply);
	else if (req->cmd >= VS_CTL_CMD_ENCLAVE_LIST && req->cmd != VS_CTL_CMD_VM_MOVE)
		enclave_cmd_print(reply);
	else if (req->cmd == VS_CTL_CMD_VM_MOVE)
		printf("vm move %d %s: done\n", req->pid, req->enclave);
	else if (req->cmd == VS_CTL_CMD_NOTIFY)
		printf("notify: done\n");
	else
		printf("%s %d: done\n", ctl_cmd_name(req->cmd), req->pid);
	json_object_put(reply);
	return rc;
}

int main(int argc, char **argv)
{
	struct vs_ctl_request req;
	const char *cmd;
	bool json;
	int i, c, timeout_ms = VS_CTL_TIMEOUT_MS * 5;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			socket_path = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return VS_CTL_EXIT_OK;
		} else {
			fprintf(stderr, "vmm-schedctl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return VS_CTL_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return VS_CTL_EXIT_USAGE;
	}
	cmd = argv[i++];
	argc -= i;
	argv += i;
	if (strcmp(cmd, "top") == 0)
		return ctl_top(socket_path, argc, argv);
	json = take_json_flag(&argc, argv);
	if (strcmp(cmd, "enclave") == 0 || strcmp(cmd, "rebalance") == 0) {
		if (enclave_cmd_parse(cmd[0] == 'r', argc, argv, &req))
			return VS_CTL_EXIT_USAGE;
		return run(&req, json, timeout_ms);
	}
	if (strcmp(cmd, "vm") == 0) {
		if (argc != 3 || strcmp(argv[0], "move")) {
			fprintf(stderr,
				"vmm-schedctl: usage: vm move VM ENCLAVE (VM: pid or name)\n");
			return VS_CTL_EXIT_USAGE;
		}
		ctl_request_init(&req, VS_CTL_CMD_VM_MOVE);
		if (strlen(argv[2]) >= sizeof(req.enclave)) {
			fprintf(stderr, "vmm-schedctl: enclave name '%s' is too long\n", argv[2]);
			return VS_CTL_EXIT_USAGE;
		}
		snprintf(req.enclave, sizeof(req.enclave), "%s", argv[2]);
		c = vm_pid_of(argv[1], &req.pid);
		return c ? c : run(&req, json, timeout_ms);
	}
	c = ctl_cmd_from_name(cmd);
	if (c < 0) {
		fprintf(stderr, "vmm-schedctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return VS_CTL_EXIT_USAGE;
	}
	ctl_request_init(&req, (enum vs_ctl_cmd)c);
	switch (req.cmd) {
	case VS_CTL_CMD_STATUS:
		if (argc > 0) {
			fprintf(stderr, "vmm-schedctl: status: unknown argument '%s'\n", argv[0]);
			return VS_CTL_EXIT_USAGE;
		}
		break;
	case VS_CTL_CMD_ENROLL:
	case VS_CTL_CMD_SET:
	case VS_CTL_CMD_RELEASE:
		if (parse_vm_cmd(cmd, argc, argv, &req))
			return VS_CTL_EXIT_USAGE;
		break;
	case VS_CTL_CMD_PLACE:
		if (parse_place(argc, argv, &req))
			return VS_CTL_EXIT_USAGE;
		break;
	case VS_CTL_CMD_NOTIFY:
		timeout_ms = NOTIFY_TIMEOUT_MS;
		if (parse_notify(argc, argv, &req, &timeout_ms))
			return VS_CTL_EXIT_USAGE;
		break;
	default:
		fprintf(stderr, "vmm-schedctl: '%s' has no command line yet\n", cmd);
		return VS_CTL_EXIT_USAGE;
	}
	return run(&req, json, timeout_ms);
}
