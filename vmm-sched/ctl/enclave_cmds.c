#include "enclave_cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm_sched_ctl.h"

static struct json_object *request(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "version", json_object_new_int(VS_CTL_VERSION));
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

static struct json_object *usage_error(struct json_object *req, const char *fmt, const char *arg)
{
	fprintf(stderr, "vmm-schedctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (vmm-schedctl --help)\n");
	json_object_put(req);
	return NULL;
}

/* `enclave SUB NAME ...`: the subcommand's request. */
static struct json_object *enclave_sub(int argc, char **argv, bool *json)
{
	static const char *const subs[] = {"create", "destroy", "add-cores", "remove-cores"};
	struct json_object *req;
	const char *sub = argc > 0 ? argv[0] : "";
	char cmd[48];
	int i, k;

	if (strcmp(sub, "list") == 0) {
		req = request("enclave-list");
		for (i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--json"))
				return usage_error(req, "enclave list: unknown argument '%s'",
						   argv[i]);
			*json = true;
		}
		return req;
	}
	for (k = 0; k < 4 && strcmp(sub, subs[k]); k++)
		;
	if (k == 4)
		return usage_error(NULL,
				   "enclave: unknown subcommand '%s' (list, create, destroy, "
				   "add-cores, remove-cores)",
				   sub);
	snprintf(cmd, sizeof(cmd), "enclave-%s", sub);
	req = request(cmd);
	if (argc < 2)
		return usage_error(req, "enclave %s needs the enclave's NAME", sub);
	json_object_object_add(req, "enclave", json_object_new_string(argv[1]));
	i = 2;
	if (k >= 2) { /* add-cores, remove-cores NAME LIST */
		if (argc < 3)
			return usage_error(req, "enclave %s needs a CPU LIST (e.g. 4-5)", sub);
		json_object_object_add(req, "cpus", json_object_new_string(argv[2]));
		i = 3;
	}
	for (; i < argc; i++) {
		const char *opt = argv[i];

		if (k == 1 && strcmp(opt, "--force") == 0) {
			json_object_object_add(req, "force", json_object_new_boolean(1));
		} else if (k == 0 && i + 1 < argc && strcmp(opt, "--cpus") == 0) {
			json_object_object_add(req, "cpus", json_object_new_string(argv[++i]));
		} else if (k == 0 && i + 1 < argc && strcmp(opt, "--pairing") == 0) {
			json_object_object_add(req, "pairing", json_object_new_string(argv[++i]));
		} else if (k == 0 && i + 1 < argc && strcmp(opt, "--slice-us") == 0) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v <= 0 || v > 0x7fffffff)
				return usage_error(req, "--slice-us '%s' is not a number", argv[i]);
			json_object_object_add(req, "slice_us", json_object_new_int((int)v));
		} else {
			return usage_error(req, "enclave: unexpected argument '%s'", opt);
		}
	}
	return req;
}

struct json_object *enclave_cmd_request(const char *cmd, int argc, char **argv, bool *json)
{
	struct json_object *req;

	if (strcmp(cmd, "enclave") == 0)
		return enclave_sub(argc, argv, json);
	req = request("rebalance");
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			json_object_object_add(req, "dry_run", json_object_new_boolean(1));
		else if (strcmp(argv[i], "--json") == 0)
			*json = true;
		else
			return usage_error(req, "rebalance: unknown argument '%s'", argv[i]);
	}
	return req;
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
