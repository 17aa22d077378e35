/* vmm-schedctl: the operator's view of vmm-schedd (status) and enrolment by hand. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "enclave_cmds.h"
#include "vmm_sched_ctl.h"

static const char *socket_path = VS_CTL_DEFAULT_SOCKET;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmm-schedctl [--socket PATH] COMMAND\n"
		"\n"
		"commands:\n"
		"  status [--json]          enclave, VMs, vCPUs and their counters\n"
		"  enroll PID [--name NAME] [--weight W] [--reserve N] [--cap N] [--enclave E]\n"
		"                           (NAME: 1..63 of A-Z a-z 0-9 . _ -)\n"
		"                           schedule the vCPU threads of VMM process PID:\n"
		"                           share weight 1..10000 (default: the agent's\n"
		"                           --default-weight, 100 unless set), N cores\n"
		"                           guaranteed when it wants them, at most N cores\n"
		"  set PID [--weight W] [--reserve N] [--cap N]\n"
		"                           change an enrolled VM's share (--cap 0: no cap)\n"
		"  release PID              give them back to their previous policy\n"
		"  place TID CPU [--seqnum S] [--with TID2 CPU2 [--seqnum S2]]\n"
		"                           run vCPU TID on CPU next if its seqnum is still S\n"
		"                           (default: the agent's latest); --with places a\n"
		"                           second vCPU on the sibling, both or neither.\n"
		"                           Exit 0 if committed, 3 if the scheduler refused\n"
		"  enclave list [--json]    each enclave: CPUs, pairing, slice, VMs\n"
		"  enclave create NAME [--cpus LIST] [--pairing strict|relaxed] [--slice-us N]\n"
		"  enclave destroy NAME [--force]   (--force: its VMs go to 'default')\n"
		"  enclave add-cores NAME LIST      whole free cores, usable at once\n"
		"  enclave remove-cores NAME LIST   drained first: no vCPU runs there after\n"
		"  vm move VM ENCLAVE       VM (pid or name) runs on ENCLAVE's cores from now\n"
		"  rebalance [--dry-run] [--json]\n"
		"                           move cores between enclaves to fit their VMs'\n"
		"                           reservations and demand (--dry-run: plan only)\n"
		"Refused changes print the reason and exit 1 with nothing changed.\n");
}

/* Sends one request and returns the parsed reply, or NULL after printing why. */
static struct json_object *call_daemon(struct json_object *req)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	struct json_tokener *tok = json_tokener_new();
	struct json_object *reply = NULL;
	enum json_tokener_error jerr = json_tokener_continue;
	char buf[65536];
	int fd;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr,
			"vmm-schedctl: cannot reach vmm-schedd at %s: %s (is it running? "
			"--socket names another path)\n",
			socket_path, strerror(errno));
		goto out;
	}
	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "vmm-schedctl: sending the request failed: %s\n", strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, VS_CTL_TIMEOUT_MS * 5) <= 0) {
			fprintf(stderr, "vmm-schedctl: vmm-schedd did not answer in time\n");
			goto out;
		}
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		reply = json_tokener_parse_ex(tok, buf, (int)n);
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_continue)
			break;
	}
	if (!reply)
		fprintf(stderr, "vmm-schedctl: vmm-schedd sent no valid reply (%s)\n",
			json_tokener_error_desc(jerr));
out:
	if (fd >= 0)
		close(fd);
	json_tokener_free(tok);
	return reply;
}

static struct json_object *new_request(const char *cmd)
{
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "version", json_object_new_int(VS_CTL_VERSION));
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	return req;
}

static int64_t get_i64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?";
}

static bool get_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static struct json_object *get_obj(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

/* Checks version and ok; prints the daemon's error. Returns 0 if the reply is a success. */
static int check_reply(struct json_object *reply)
{
	if (get_i64(reply, "version") != VS_CTL_VERSION) {
		fprintf(stderr,
			"vmm-schedctl: vmm-schedd speaks control protocol version %lld, this "
			"vmm-schedctl speaks %d: use the tools of one release\n",
			(long long)get_i64(reply, "version"), VS_CTL_VERSION);
		return -1;
	}
	if (!json_object_get_boolean(get_obj(reply, "ok"))) {
		fprintf(stderr, "vmm-schedctl: %s\n", get_str(reply, "error"));
		return -1;
	}
	return 0;
}

static void print_status(struct json_object *st)
{
	struct json_object *sched = get_obj(st, "scheduler"), *enc = get_obj(st, "enclave");
	struct json_object *cpus = get_obj(st, "cpus"), *vms = get_obj(st, "vms");

	struct json_object *cores = get_obj(st, "cores"), *ctl = get_obj(st, "control");

	printf("scheduler  %s (sched_ext %s, ABI %lld, slice %lld us, %s pairing, kick %s)\n",
	       get_str(sched, "name"), get_str(sched, "sched_ext_state"),
	       (long long)get_i64(sched, "abi_version"), (long long)get_i64(sched, "slice_us"),
	       get_str(sched, "pairing"), get_str(sched, "kick"));
	printf("messages   %lld received, %lld stale, %lld invalid, %lld dropped, %lld late, "
	       "%lld resyncs\n",
	       (long long)get_i64(sched, "messages"), (long long)get_i64(sched, "stale_messages"),
	       (long long)get_i64(sched, "invalid_messages"),
	       (long long)get_i64(sched, "dropped_messages"),
	       (long long)get_i64(sched, "late_messages"), (long long)get_i64(sched, "resyncs"));
	printf("pinned     %s%s\n", get_str(sched, "pin_dir"),
	       get_bool(sched, "adopted") ? " (adopted from a previous agent)" : "");
	if (ctl)
		printf("control    %lld of %lld connections open; %lld timed out, %lld dropped "
		       "when full, %lld denied%s%s\n",
		       (long long)get_i64(ctl, "connections"),
		       (long long)get_i64(ctl, "max_connections"),
		       (long long)get_i64(ctl, "timed_out"),
		       (long long)get_i64(ctl, "dropped_when_full"),
		       (long long)get_i64(ctl, "denied"), get_obj(ctl, "group") ? "; group " : "",
		       get_obj(ctl, "group") ? get_str(ctl, "group") : "");
	printf("enclave    CPUs %s (%lld cores x %lld threads)\n\n", get_str(enc, "cpus"),
	       (long long)get_i64(enc, "cores"), (long long)get_i64(enc, "threads_per_core"));
	printf("%5s %-9s %-8s %9s\n", "CORE", "CPUS", "OWNER_VM", "SIB_WAKES");
	for (size_t i = 0; cores && i < json_object_array_length(cores); i++) {
		struct json_object *c = json_object_array_get_idx(cores, i),
				   *cl = get_obj(c, "cpus");
		char list[32] = "";

		for (size_t j = 0; cl && j < json_object_array_length(cl); j++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d",
				 j ? "," : "",
				 json_object_get_int(json_object_array_get_idx(cl, j)));
		printf("%5lld %-9s %-8lld %9lld%s\n", (long long)get_i64(c, "core"), list,
		       (long long)get_i64(c, "owner_vm"), (long long)get_i64(c, "sibling_wakeups"),
		       json_object_get_boolean(get_obj(c, "draining")) ? " draining" : "");
	}
	printf("\n%4s %5s %10s %12s %10s %14s %12s %12s %12s %8s\n", "CPU", "CORE", "VCPU_RUNS",
	       "VCPU_MS", "IDLE_DISP", "FORCED_IDLE_MS", "HOST_IDLE_MS", "HOST_MS", "IDLE_MS",
	       "HANDOFFS");
	for (size_t i = 0; cpus && i < json_object_array_length(cpus); i++) {
		struct json_object *c = json_object_array_get_idx(cpus, i);

		printf("%4lld %5lld %10lld %12.1f %10lld %14.1f %12.1f %12.1f %12.1f %8lld\n",
		       (long long)get_i64(c, "cpu"), (long long)get_i64(c, "core"),
		       (long long)get_i64(c, "vcpu_runs"), get_i64(c, "vcpu_ns") / 1e6,
		       (long long)get_i64(c, "empty_dispatch"), get_i64(c, "forced_idle_ns") / 1e6,
		       get_i64(c, "host_idle_ns") / 1e6, get_i64(c, "host_ns") / 1e6,
		       get_i64(c, "idle_ns") / 1e6, (long long)get_i64(c, "owner_changes"));
	}
	printf("\n%-16s %4s %7s %12s %14s %8s %4s %11s\n", "VM", "ID", "WEIGHT", "CORE_MS",
	       "FORCED_IDLE_MS", "GRANTS", "NODE", "LOCAL_CORES");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);
		struct json_object *local = get_obj(vm, "numa_local_cores");
		char node[16] = "-", nr_local[16] = "-";

		if (get_obj(vm, "numa_node"))
			snprintf(node, sizeof(node), "%lld", (long long)get_i64(vm, "numa_node"));
		if (local)
			snprintf(nr_local, sizeof(nr_local), "%zu",
				 json_object_array_length(local));
		printf("%-16s %4lld %7lld %12.1f %14.1f %8lld %4s %11s\n", get_str(vm, "name"),
		       (long long)get_i64(vm, "id"), (long long)get_i64(vm, "weight"),
		       get_i64(vm, "run_ns") / 1e6, get_i64(vm, "forced_idle_ns") / 1e6,
		       (long long)get_i64(vm, "core_grants"), node, nr_local);
	}
	printf("\n%-16s %7s %5s %8s %-9s %4s %8s %10s %10s %8s %8s\n", "VM", "PID", "VCPU", "TID",
	       "STATE", "CPU", "RUNS", "RUN_MS", "WAIT_MS", "WAKEUPS", "PREEMPT");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *vm = json_object_array_get_idx(vms, i);
		struct json_object *vcpus = get_obj(vm, "vcpus");

		for (size_t j = 0; vcpus && j < json_object_array_length(vcpus); j++) {
			struct json_object *v = json_object_array_get_idx(vcpus, j);

			printf("%-16s %7lld %5lld %8lld %-9s %4lld %8lld %10.1f %10.1f %8lld "
			       "%8lld\n",
			       get_str(vm, "name"), (long long)get_i64(vm, "pid"),
			       (long long)get_i64(v, "index"), (long long)get_i64(v, "tid"),
			       get_str(v, "state"), (long long)get_i64(v, "cpu"),
			       (long long)get_i64(v, "runs"), get_i64(v, "run_ns") / 1e6,
			       get_i64(v, "wait_ns") / 1e6, (long long)get_i64(v, "wakeups"),
			       (long long)get_i64(v, "preempts"));
		}
	}
}

static int parse_pid(const char *s, int *pid)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v <= 0 || v > 0x3fffffff) {
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

/* The pid of VM @vm: a pid, or the name of an enrolled VM (looked up in the status). */
static int vm_pid_of(const char *vm, int *pid)
{
	struct json_object *req, *reply, *vms;
	int rc = -1;

	if (*vm && strspn(vm, "0123456789") == strlen(vm))
		return parse_pid(vm, pid);
	req = new_request("status");
	reply = call_daemon(req);
	json_object_put(req);
	if (!reply || check_reply(reply))
		goto out;
	vms = get_obj(reply, "vms");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *o = json_object_array_get_idx(vms, i);

		if (strcmp(get_str(o, "name"), vm) == 0) {
			*pid = (int)get_i64(o, "pid");
			rc = 0;
			goto out;
		}
	}
	fprintf(stderr, "vmm-schedctl: no enrolled VM is named '%s' (vmm-schedctl status)\n", vm);
out:
	json_object_put(reply);
	return rc;
}

/* place TID CPU [--seqnum S] [--with TID CPU [--seqnum S]] -> the request, or NULL. */
static struct json_object *parse_place(int argc, char **argv)
{
	struct json_object *req, *arr = json_object_new_array(), *cur = NULL;
	int i = 0, tid, cpu, seq;

	while (i < argc) {
		if (cur && strcmp(argv[i], "--seqnum") == 0 && i + 1 < argc) {
			if (parse_uint("place: seqnum", argv[i + 1], &seq))
				goto bad;
			json_object_object_add(cur, "seqnum", json_object_new_int(seq));
			i += 2;
			continue;
		}
		if (cur && (strcmp(argv[i], "--with") != 0 || json_object_array_length(arr) > 1)) {
			fprintf(stderr, "vmm-schedctl: place: unexpected argument '%s'\n", argv[i]);
			goto bad;
		}
		if (cur)
			i++;
		if (i + 1 >= argc) {
			fprintf(stderr, "vmm-schedctl: place: needs a TID and a CPU\n");
			goto bad;
		}
		if (parse_pid(argv[i], &tid) || parse_uint("place: CPU", argv[i + 1], &cpu))
			goto bad;
		cur = json_object_new_object();
		json_object_object_add(cur, "tid", json_object_new_int(tid));
		json_object_object_add(cur, "cpu", json_object_new_int(cpu));
		json_object_array_add(arr, cur);
		i += 2;
	}
	if (!cur) {
		fprintf(stderr, "vmm-schedctl: place: needs a TID and a CPU\n");
		goto bad;
	}
	req = new_request("place");
	json_object_object_add(req, "placements", arr);
	return req;
bad:
	json_object_put(arr);
	return NULL;
}

/* One line per placement; 0 if all committed, 3 if the scheduler refused any. */
static int print_placements(struct json_object *reply)
{
	struct json_object *arr = get_obj(reply, "placements");
	int rc = 0;

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		const char *outcome = get_str(p, "outcome");

		printf("vCPU thread %lld on CPU %lld (seqnum %lld): %s\n",
		       (long long)get_i64(p, "tid"), (long long)get_i64(p, "cpu"),
		       (long long)get_i64(p, "seqnum"), outcome);
		if (strcmp(outcome, "complete") != 0)
			rc = 3;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct json_object *req, *reply;
	const char *cmd, *name = NULL, *enclave = NULL;
	bool json = false;
	int i, pid = 0, rc;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			socket_path = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vmm-schedctl: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i++];
	if (strcmp(cmd, "status") == 0) {
		for (; i < argc; i++) {
			if (strcmp(argv[i], "--json") != 0) {
				fprintf(stderr, "vmm-schedctl: status: unknown argument '%s'\n",
					argv[i]);
				return 2;
			}
			json = true;
		}
		req = new_request("status");
	} else if (strcmp(cmd, "enroll") == 0 || strcmp(cmd, "release") == 0 ||
		   strcmp(cmd, "set") == 0) {
		bool takes_share = strcmp(cmd, "release") != 0;
		const char *share_keys[] = {"weight", "reserve", "cap"};
		int share[3] = {-1, -1, -1}, k;

		if (i >= argc) {
			fprintf(stderr, "vmm-schedctl: %s needs the VMM's PID\n", cmd);
			return 2;
		}
		if (parse_pid(argv[i++], &pid))
			return 2;
		for (; i + 1 < argc && takes_share; i += 2) {
			if (cmd[0] == 'e' && strcmp(argv[i], "--name") == 0) {
				name = argv[i + 1];
				continue;
			}
			if (cmd[0] == 'e' && strcmp(argv[i], "--enclave") == 0) {
				enclave = argv[i + 1];
				continue;
			}
			for (k = 0; k < 3; k++)
				if (!strncmp(argv[i], "--", 2) &&
				    !strcmp(argv[i] + 2, share_keys[k]))
					break;
			if (k == 3)
				break;
			if (parse_uint(argv[i], argv[i + 1], &share[k]))
				return 2;
		}
		if (i < argc) {
			fprintf(stderr, "vmm-schedctl: %s: unexpected argument '%s'\n", cmd,
				argv[i]);
			return 2;
		}
		req = new_request(cmd);
		json_object_object_add(req, "pid", json_object_new_int(pid));
		if (name)
			json_object_object_add(req, "name", json_object_new_string(name));
		if (enclave)
			json_object_object_add(req, "enclave", json_object_new_string(enclave));
		for (k = 0; k < 3; k++)
			if (share[k] >= 0)
				json_object_object_add(req, share_keys[k],
						       json_object_new_int(share[k]));
	} else if (strcmp(cmd, "place") == 0) {
		req = parse_place(argc - i, argv + i);
		if (!req)
			return 2;
	} else if (strcmp(cmd, "enclave") == 0 || strcmp(cmd, "rebalance") == 0) {
		req = enclave_cmd_request(cmd, argc - i, argv + i, &json);
		if (!req)
			return 2;
	} else if (strcmp(cmd, "vm") == 0) {
		if (argc - i != 3 || strcmp(argv[i], "move")) {
			fprintf(stderr,
				"vmm-schedctl: usage: vm move VM ENCLAVE (VM: pid or name)\n");
			return 2;
		}
		if (vm_pid_of(argv[i + 1], &pid))
			return 1;
		req = new_request("vm-move");
		json_object_object_add(req, "pid", json_object_new_int(pid));
		json_object_object_add(req, "enclave", json_object_new_string(argv[i + 2]));
	} else {
		fprintf(stderr, "vmm-schedctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	reply = call_daemon(req);
	json_object_put(req);
	if (!reply)
		return 1;
	rc = check_reply(reply) ? 1 : 0;
	if (!rc && json)
		printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY));
	else if (!rc && strcmp(cmd, "status") == 0)
		print_status(reply);
	else if (!rc && strcmp(cmd, "place") == 0)
		rc = print_placements(reply);
	else if (!rc && (strcmp(cmd, "enclave") == 0 || strcmp(cmd, "rebalance") == 0))
		enclave_cmd_print(reply);
	else if (!rc && strcmp(cmd, "vm") == 0)
		printf("vm move %s %s: done\n", argv[argc - 2], argv[argc - 1]);
	else if (!rc)
		printf("%s %d: done\n", cmd, pid);
	json_object_put(reply);
	return rc;
}
