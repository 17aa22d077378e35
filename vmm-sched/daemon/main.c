/* vmm-schedd: the host agent of vmm-sched. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon.h"
#include "vmm_sched_ctl.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmm-schedd --cpus LIST [--pid PID[:NAME[:WEIGHT]]]... [--control PATH]\n"
		"                  [--slice-us N] [--pairing strict|relaxed]\n"
		"                  [--core-cookie clear|refuse]\n"
		"\n"
		"Schedules the vCPU threads of KVM guests with the vmm_sched sched_ext\n"
		"scheduler on an enclave of whole cores.\n"
		"\n"
		"  --cpus LIST        enclave CPUs, e.g. 2-7 (whole cores: both SMT siblings)\n"
		"  --pid PID[:NAME[:WEIGHT]]\n"
		"                     enrol the vCPU threads of VMM process PID (repeatable),\n"
		"                     with a share weight 1..10000 (default 100); more can be\n"
		"                     enrolled later with 'vmm-schedctl enroll'\n"
		"  --control PATH     control socket (default %s)\n"
		"  --slice-us N       time slice of a vCPU in microseconds (default 5000)\n"
		"  --pairing MODE     strict (default): a sibling runs no vCPU while a host task\n"
		"                     runs on its twin; relaxed: host tasks may share a core\n"
		"                     with a vCPU (vCPUs of two VMs never do, in either mode)\n"
		"  --core-cookie MODE what to do with a vCPU thread that has a core scheduling\n"
		"                     cookie (PR_SCHED_CORE), which hangs SMT hosts under\n"
		"                     sched_ext: clear (default) takes it off and logs it;\n"
		"                     refuse refuses to enrol the VM\n"
		"\n"
		"SIGTERM or SIGINT: every enrolled thread gets its previous policy and\n"
		"affinity back and the scheduler is unloaded.\n",
		VS_CTL_DEFAULT_SOCKET);
}

static int parse_pid_arg(struct vs_options *opt, char *arg)
{
	char *colon = strchr(arg, ':'), *end, *wcolon;
	long pid, weight = 0;

	if (opt->nr_pids >= VS_MAX_VMS) {
		fprintf(stderr, "vmm-schedd: at most %d --pid options\n", VS_MAX_VMS);
		return -1;
	}
	if (colon) {
		*colon = '\0';
		wcolon = strchr(colon + 1, ':');
		if (wcolon) {
			*wcolon = '\0';
			weight = strtol(wcolon + 1, &end, 10);
			if (*end || weight < VS_MIN_WEIGHT || weight > VS_MAX_WEIGHT) {
				fprintf(stderr, "vmm-schedd: --pid weight '%s' must be %d..%d\n",
					wcolon + 1, VS_MIN_WEIGHT, VS_MAX_WEIGHT);
				return -1;
			}
		}
	}
	pid = strtol(arg, &end, 10);
	if (*end || pid <= 0 || pid > 0x3fffffff) {
		fprintf(stderr, "vmm-schedd: --pid '%s' is not a process id\n", arg);
		return -1;
	}
	opt->pids[opt->nr_pids] = (int)pid;
	opt->names[opt->nr_pids] = colon ? colon + 1 : NULL;
	opt->weights[opt->nr_pids] = (unsigned int)weight;
	opt->nr_pids++;
	return 0;
}

static int parse_options(struct vs_options *opt, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"cpus", required_argument, NULL, 'c'},
	    {"pid", required_argument, NULL, 'p'},
	    {"control", required_argument, NULL, 's'},
	    {"slice-us", required_argument, NULL, 'l'},
	    {"pairing", required_argument, NULL, 'm'},
	    {"core-cookie", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	long v;
	int c;

	opt->control_path = VS_CTL_DEFAULT_SOCKET;
	opt->slice_us = 5000;
	while ((c = getopt_long(argc, argv, "c:p:s:l:m:k:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt->cpus = optarg;
			break;
		case 'p':
			if (parse_pid_arg(opt, optarg))
				return -1;
			break;
		case 's':
			opt->control_path = optarg;
			break;
		case 'l':
			v = strtol(optarg, &end, 10);
			if (*end || v < 50 || v > 1000000) {
				fprintf(stderr, "vmm-schedd: --slice-us '%s' must be 50..1000000\n",
					optarg);
				return -1;
			}
			opt->slice_us = (unsigned int)v;
			break;
		case 'm':
			if (strcmp(optarg, "strict") && strcmp(optarg, "relaxed")) {
				fprintf(stderr,
					"vmm-schedd: --pairing '%s' must be strict or relaxed\n",
					optarg);
				return -1;
			}
			opt->relaxed = strcmp(optarg, "relaxed") == 0;
			break;
		case 'k':
			if (core_cookie_mode_parse(optarg, &opt->core_cookie)) {
				fprintf(stderr,
					"vmm-schedd: --core-cookie '%s' must be clear or refuse\n",
					optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmm-schedd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!opt->cpus) {
		fprintf(stderr, "vmm-schedd: --cpus is required (the enclave, e.g. --cpus 2-7)\n");
		return -1;
	}
	return 0;
}

static int build_enclave(struct vs_daemon *d, char *err, size_t errlen)
{
	struct vs_cpuset cpus;
	char why[256], list[256];

	if (host_read_topology(&d->topo, err, errlen))
		return -1;
	if (cpuset_parse(&cpus, d->opt.cpus, why, sizeof(why))) {
		snprintf(err, errlen, "--cpus: %s", why);
		return -1;
	}
	if (enclave_from_cpus(&d->enclave, &d->topo, &cpus, why, sizeof(why))) {
		snprintf(err, errlen, "--cpus %s: %s", d->opt.cpus, why);
		return -1;
	}
	cpuset_format(&d->enclave.cpus, list, sizeof(list));
	vs_log("enclave: CPUs %s (%d cores, %d threads per core)", list, d->enclave.nr_cores,
	       topology_threads_per_core(&d->topo, cpuset_next(&d->enclave.cpus, 0)));
	return 0;
}

int main(int argc, char **argv)
{
	static struct vs_daemon d = {.ctl_fd = -1};
	char err[1024];

	setvbuf(stderr, NULL, _IOLBF, 0);
	/* A control client that hangs up early must not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	if (parse_options(&d.opt, argc, argv))
		return 2;
	registry_init(&d.reg);
	for (int cpu = 0; cpu < VS_MAX_CPUS; cpu++)
		cpu_track_init(&d.cpu_track[cpu]);
	/* Most specific first: a second daemon on the same socket, then the kernel. */
	if (control_check_free(d.opt.control_path, err, sizeof(err)) ||
	    host_check_sched_ext(err, sizeof(err)) || build_enclave(&d, err, sizeof(err))) {
		vs_err("%s", err);
		return 1;
	}
	for (int i = 0; i < d.opt.nr_pids; i++) {
		if (vm_check_enrollable(d.opt.pids[i], err, sizeof(err))) {
			vs_err("--pid %d: %s", d.opt.pids[i], err);
			return 1;
		}
	}
	/* The agent must not page-fault while vCPUs wait on it. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		vs_log("mlockall failed (%m): continuing without locked memory");
	if (bpf_sched_load(&d, err, sizeof(err)) || txn_open(&d, err, sizeof(err)) ||
	    control_listen(&d, err, sizeof(err)) || bpf_sched_attach(&d, err, sizeof(err))) {
		vs_err("%s", err);
		control_close(&d);
		txn_close();
		bpf_sched_detach(&d);
		return 1;
	}
	vs_log("sched_ext scheduler vmm_sched enabled (ABI %d, %s core pairing), control socket %s",
	       VS_ABI_VERSION, d.opt.relaxed ? "relaxed" : "strict", d.opt.control_path);
	if (!bpf_sched_kick_supported(&d))
		vs_log("this kernel cannot link scx_bpf_kick_cpu() (its BTF lacks the _impl "
		       "twin of an implicit-argument kfunc): idle CPUs are woken by direct "
		       "dispatch instead of kicks");
	for (int i = 0; i < d.opt.nr_pids; i++) {
		if (vm_enroll(&d, d.opt.pids[i], d.opt.names[i], d.opt.weights[i], err,
			      sizeof(err)) < 0) {
			vs_err("--pid %d: %s", d.opt.pids[i], err);
			d.exit_status = 1;
			d.stop = true;
		}
	}
	if (!d.stop && event_loop_run(&d))
		d.exit_status = 1;
	vm_release_all(&d);
	control_close(&d);
	txn_close();
	bpf_sched_detach(&d);
	vs_log("stopped");
	return d.exit_status;
}
