#include "enclave_cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vmm_sched_ctl.h"

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vmm-schedctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (vmm-schedctl --help)\n");
	return -1;
}

static int set_cpus(struct vs_ctl_request *req, const char *list)
{
	char why[160];

	if (cpuset_parse(&req->cpus, list, why, sizeof(why))) {
		fprintf(stderr, "vmm-schedctl: CPU list '%s': %s\n", list, why);
		return -1;
	}
	req->have_cpus = true;
	return 0;
}

/* `enclave SUB NAME ...`: the subcommand's request. */
static int enclave_sub(int argc, char **argv, struct vs_ctl_request *req)
{
	static const enum vs_ctl_cmd cmds[] = {
	    VS_CTL_CMD_ENCLAVE_CREATE, VS_CTL_CMD_ENCLAVE_DESTROY, VS_CTL_CMD_ENCLAVE_ADD_CORES,
	    VS_CTL_CMD_ENCLAVE_REMOVE_CORES};
	static const char *const subs[] = {"create", "destroy", "add-cores", "remove-cores"};
	const char *sub = argc > 0 ? argv[0] : "";
	int i, k;

	if (strcmp(sub, "list") == 0) {
		ctl_request_init(req, VS_CTL_CMD_ENCLAVE_LIST);
		return argc > 1 ? usage_error("enclave list: unknown argument '%s'", argv[1]) : 0;
	}
	for (k = 0; k < 4 && strcmp(sub, subs[k]); k++)
		;
	if (k == 4)
		return usage_error("enclave: unknown subcommand '%s' (list, create, destroy, "
				   "add-cores, remove-cores)",
				   sub);
	ctl_request_init(req, cmds[k]);
	if (argc < 2)
		return usage_error("enclave %s needs the enclave's NAME", sub);
	if (strlen(argv[1]) >= sizeof(req->enclave))
		return usage_error("enclave name '%s' is too long", argv[1]);
	snprintf(req->enclave, sizeof(req->enclave), "%s", argv[1]);
	i = 2;
	if (k >= 2) { /* add-cores, remove-cores NAME LIST */
		if (argc < 3)
			return usage_error("enclave %s needs a CPU LIST (e.g. 4-5)", sub);
		if (set_cpus(req, argv[2]))
			return -1;
		i = 3;
	}
	for (; i < argc; i++) {
		const char *opt = argv[i];

		if (k == 1 && strcmp(opt, "--force") == 0) {
			req->force = true;
		} else if (k == 0 && i + 1 < argc && strcmp(opt, "--cpus") == 0) {
			if (set_cpus(req, argv[++i]))
				return -1;
		} else if (k == 0 && i + 1 < argc && strcmp(opt, "--pairing") == 0) {
			i++;
			if (strcmp(argv[i], "strict") == 0)
				req->pairing = VS_PAIRING_STRICT;
			else if (strcmp(argv[i], "relaxed") == 0)
				req->pairing = VS_PAIRING_RELAXED;
			else
				return usage_error("--pairing '%s': strict or relaxed", argv[i]);
		} else if (k == 0 && i + 1 < argc && strcmp(opt, "--slice-us") == 0) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (!*argv[i] || *end || v <= 0 || v > 0x7fffffff)
				return usage_error("--slice-us '%s' is not a number", argv[i]);
			req->slice_us = (unsigned int)v;
		} else {
			return usage_error("enclave: unexpected argument '%s'", opt);
		}
	}
	return 0;
}

int enclave_cmd_parse(bool rebalance, int argc, char **argv, struct vs_ctl_request *req)
{
	if (!rebalance)
		return enclave_sub(argc, argv, req);
	ctl_request_init(req, VS_CTL_CMD_REBALANCE);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			req->dry_run = true;
		else
			return usage_error("rebalance: unknown argument '%s'", argv[i]);
	}
	return 0;
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?";
}

static void print_enclaves(struct json_object *arr)
{
	size_t i, n = json_object_array_length(arr);

	printf("%-16s %-16s %5s %-8s %9s %8s  %s\n", "ENCLAVE", "CPUS", "CORES", "PAIRING",
	       "SLICE_US", "RESERVED", "VMS");
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *vms;
		const char *cpus = str(e, "cpus");

		printf("%-16s %-16s %5s %-8s %9s %8s  ", str(e, "name"), *cpus ? cpus : "-",
		       str(e, "cores"), str(e, "pairing"), str(e, "slice_us"),
		       str(e, "reserved_cores"));
		if (json_object_object_get_ex(e, "vms", &vms))
			for (size_t k = 0; k < json_object_array_length(vms); k++)
				printf("%s%s", k ? "," : "",
				       json_object_get_string(json_object_array_get_idx(vms, k)));
		printf("\n");
	}
}

void enclave_cmd_print(struct json_object *reply)
{
	struct json_object *v;

	if (json_object_object_get_ex(reply, "moves", &v)) {
		size_t n = json_object_array_length(v);
		struct json_object *dry;
		bool dry_run = json_object_object_get_ex(reply, "dry_run", &dry) &&
			       json_object_get_boolean(dry);

		if (!n)
			printf("rebalance: the enclaves match their VMs' needs, nothing to move\n");
		for (size_t i = 0; i < n; i++) {
			struct json_object *m = json_object_array_get_idx(v, i);

			printf("%s CPUs %s from enclave '%s' to '%s'\n",
			       dry_run ? "would move" : "moved", str(m, "cpus"), str(m, "from"),
			       str(m, "to"));
		}
		return;
	}
	if (json_object_object_get_ex(reply, "enclaves", &v))
		print_enclaves(v);
}
