/* vmm-schedd: the host agent of vmm-sched. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config_file.h"
#include "daemon.h"
#include "vm_name.h"
#include "vmm_sched_ctl.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmm-schedd [--config FILE] --cpus LIST [--pid PID[:NAME[:WEIGHT]]]...\n"
		"                  [--control PATH] [--control-group GROUP]\n"
		"                  [--slice-us N] [--pairing strict|relaxed]\n"
		"                  [--core-cookie clear|refuse] [--pin-dir DIR] [--ring-kb N]\n"
		"                  [--target-latency-ms N] [--smt-pair-window-ms N]\n"
		"                  [--default-weight N] [--max-vcpus-per-vm N]\n"
		"                  [--metrics-listen ADDR:PORT] [--no-kick]\n"
		"                  [--libvirt URI|none] [--libvirt-enrol-names GLOB]\n"
		"       vmm-schedd --unload-pinned [--pin-dir DIR]\n"
		"       vmm-schedd --check-config [FILE]\n"
		"\n"
		"Schedules the vCPU threads of KVM guests with the vmm_sched sched_ext\n"
		"scheduler on an enclave of whole cores.\n"
		"\n"
		"  --config FILE      settings file, vmm-sched.conf(5) (default\n"
		"                     %s, which may be missing);\n"
		"                     options given here override it\n"
		"  --check-config [FILE]\n"
		"                     check a settings file and exit: 0 valid, 1 not\n"
		"  --cpus LIST        enclave CPUs, e.g. 2-7 (whole cores: both SMT siblings)\n"
		"  --pid PID[:NAME[:WEIGHT]]\n"
		"                     enrol the vCPU threads of VMM process PID (repeatable),\n"
		"                     with a share weight 1..10000 (default --default-weight);\n"
		"                     more can be enrolled later with 'vmm-schedctl enroll';\n"
		"                     NAME is 1..63 of A-Z a-z 0-9 . _ -\n"
		"  --default-weight N share weight 1..10000 of a VM enrolled without one\n"
		"                     (default 100)\n"
		"  --control PATH     control socket (default %s)\n"
		"  --control-group GROUP\n"
		"                     members of GROUP may change things over the control\n"
		"                     socket (mode 0660, group GROUP); without it only root\n"
		"                     may (mode 0600). Anyone else who can open the socket\n"
		"                     may only read the status\n"
		"  --slice-us N       time slice of a vCPU in microseconds (default 5000)\n"
		"  --target-latency-ms N\n"
		"                     every VM that wants a core gets a turn on one within\n"
		"                     about N ms (1..1000, default 20): a core is handed on\n"
		"                     after N * cores / demanding VMs ms, kept within 2..50 ms\n"
		"  --smt-pair-window-ms N\n"
		"                     a VM with two vCPUs to run gets a free core before the\n"
		"                     VM owed most if its vtime trails by at most N ms\n"
		"                     (0..1000, default one core slice; 0: vtime alone)\n"
		"  --pairing MODE     strict (default): a sibling runs no vCPU while a host task\n"
		"                     runs on its twin; relaxed: host tasks may share a core\n"
		"                     with a vCPU (vCPUs of two VMs never do, in either mode)\n"
		"  --max-vcpus-per-vm N\n"
		"                     vCPU threads one VM may have enrolled (1..%d, default\n"
		"                     %d); a VM never gets more than the KVM vCPUs it created\n"
		"  --no-kick          never kick a CPU: a sibling leaves a guest at its next\n"
		"                     tick, as on kernels without scx_bpf_kick_cpu() (for\n"
		"                     comparison)\n"
		"  --core-cookie MODE what to do with a vCPU thread that has a core scheduling\n"
		"                     cookie (PR_SCHED_CORE), which hangs SMT hosts under\n"
		"                     sched_ext: clear (default) takes it off and logs it;\n"
		"                     refuse refuses to enrol the VM\n"
		"  --pin-dir DIR      where the scheduler's maps and links are pinned (default\n"
		"                     %s); the scheduler outlives a killed agent, and\n"
		"                     an agent started with the same options adopts it\n"
		"  --ring-kb N        size of the kernel->agent message ring buffer in KiB, a\n"
		"                     power of two 4..65536 (default 256); when it overflows\n"
		"                     the agent resynchronises from the maps\n"
		"  --metrics-listen ADDR:PORT\n"
		"                     serve Prometheus metrics on http://ADDR:PORT/metrics\n"
		"                     (off by default; e.g. 127.0.0.1:9101, [::1]:9101)\n"
		"  --hints-dir DIR    a VM named NAME reads guest hints from DIR/NAME if it\n"
		"                     exists (vmm-schedctl enroll --hints FILE names one)\n"
		"  --cs-extension-us N\n"
		"                     slice extension for a guest critical section, 0..1000\n"
		"                     (default 50; 0: none)\n"
		"  --cs-budget-pct N  extension time a VM may use, in %% of its vCPU time\n"
		"                     per second, 0..20 (default 3)\n"
		"  --libvirt URI|none enrol libvirt domains opted in by their metadata\n"
		"                     <vmmsched:sched xmlns:vmmsched=\"urn:vmm-sched:1\"\n"
		"                     weight=.. reserve=.. cap=../> (default %s;\n"
		"                     none: no libvirt). A libvirtd that does not answer is\n"
		"                     retried with backoff; its restarts change nothing\n"
		"  --libvirt-enrol-names GLOB\n"
		"                     also enrol running domains without metadata whose name\n"
		"                     matches GLOB (fnmatch(3); '*': every domain)\n"
		"  --unload-pinned    unload the scheduler a previous agent left pinned, give\n"
		"                     its threads their policy back, and exit\n"
		"\n"
		"SIGTERM or SIGINT: every enrolled thread gets its previous policy and\n"
		"affinity back and the scheduler is unloaded. SIGKILL leaves it running.\n",
		VS_CONFIG_DEFAULT, VS_CTL_DEFAULT_SOCKET, VS_MAX_VCPUS, VS_MAX_VCPUS,
		VS_PIN_DIR_DEFAULT, VS_LIBVIRT_URI_DEFAULT);
}

static int parse_pid_arg(struct vs_options *opt, char *arg)
{
	char *colon = strchr(arg, ':'), *end, *wcolon, why[160];
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
	if (colon && colon[1] && vm_name_check(colon + 1, strlen(colon + 1), why, sizeof(why))) {
		fprintf(stderr, "vmm-schedd: --pid %s: %s\n", arg, why);
		return -1;
	}
	opt->names[opt->nr_pids] = colon ? colon + 1 : NULL;
	opt->weights[opt->nr_pids] = (unsigned int)weight;
	opt->nr_pids++;
	return 0;
}

/* An option of vs_option_keys[] (options.c parses it, as it does the file's). */
static int set_from_cli(struct vs_options *opt, const struct option *longopts, int c,
			const char *arg)
{
	const struct vs_option_key *k = NULL;
	char err[512];

	for (; longopts->name && !k; longopts++)
		if (longopts->val == c)
			k = options_key_by_option(longopts->name);
	if (!k) {
		fprintf(stderr, "vmm-schedd: option -%c has no entry in vs_option_keys[]\n", c);
		return -1;
	}
	if (options_set(opt, k, arg, VS_FROM_CLI, err, sizeof(err))) {
		fprintf(stderr, "vmm-schedd: --%s %s\n", k->option, err);
		return -1;
	}
	return 0;
}

static int parse_options(struct vs_options *opt, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"cpus", required_argument, NULL, 'c'},
	    {"pid", required_argument, NULL, 'p'},
	    {"control", required_argument, NULL, 's'},
	    {"control-group", required_argument, NULL, 'G'},
	    {"slice-us", required_argument, NULL, 'l'},
	    {"pairing", required_argument, NULL, 'm'},
	    {"core-cookie", required_argument, NULL, 'k'},
	    {"pin-dir", required_argument, NULL, 'P'},
	    {"ring-kb", required_argument, NULL, 'R'},
	    {"target-latency-ms", required_argument, NULL, 'T'},
	    {"smt-pair-window-ms", required_argument, NULL, 'W'},
	    {"max-vcpus-per-vm", required_argument, NULL, 'V'},
	    {"metrics-listen", required_argument, NULL, 'L'},
	    {"default-weight", required_argument, NULL, 'D'},
	    {"unload-pinned", no_argument, NULL, 'U'},
	    {"config", required_argument, NULL, 'C'},
	    {"no-kick", no_argument, NULL, 'K'},
	    {"hints-dir", required_argument, NULL, 'H'},
	    {"cs-extension-us", required_argument, NULL, 'X'},
	    {"cs-budget-pct", required_argument, NULL, 'B'},
	    {"libvirt", required_argument, NULL, 'v'},
	    {"libvirt-enrol-names", required_argument, NULL, 'N'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:p:s:l:m:k:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case 's':
		case 'l':
		case 'T':
		case 'W':
		case 'm':
		case 'k':
		case 'P':
		case 'R':
		case 'D':
		case 'G':
		case 'V':
		case 'L':
		case 'H':
		case 'X':
		case 'B':
		case 'v':
		case 'N':
			if (set_from_cli(opt, longopts, c, optarg))
				return -1;
			break;
		case 'p':
			if (parse_pid_arg(opt, optarg))
				return -1;
			break;
		case 'C':
			opt->config_path = optarg;
			break;
		case 'K':
			opt->no_kick = true;
			break;
		case 'U':
			opt->unload_pinned = true;
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
	if (config_file_load(opt))
		return -1;
	/* Checked as it was set: parsing it again cannot fail. */
	if (opt->metrics_listen &&
	    listen_addr_parse(opt->metrics_listen, &opt->metrics_addr, NULL, 0))
		return -1;
	if (opt->unload_pinned) {
		if (options_from_cli(opt, "cpus") || opt->nr_pids) {
			fprintf(stderr, "vmm-schedd: --unload-pinned takes no --cpus or --pid\n");
			return -1;
		}
		return 0;
	}
	if (!opt->cpus) {
		fprintf(stderr,
			"vmm-schedd: --cpus is required (the enclave, e.g. --cpus 2-7), or "
			"'cpus = 2-7' in [scheduler] of %s\n",
			opt->config_path ? opt->config_path : VS_CONFIG_DEFAULT);
		return -1;
	}
	return 0;
}

static int build_enclave(struct vs_daemon *d, char *err, size_t errlen)
{
	struct vs_enclave_def *def;
	struct vs_cpuset cpus;
	char why[256], list[256];

	if (host_read_topology(&d->topo, err, errlen))
		return -1;
	if (cpuset_parse(&cpus, d->opt.cpus, why, sizeof(why))) {
		snprintf(err, errlen, "--cpus: %s", why);
		return -1;
	}
	enclave_set_init(&d->enclaves);
	def = &d->enclaves.e[VS_ENCLAVE_DEFAULT];
	if (enclave_from_cpus(&def->enc, &d->topo, &cpus, why, sizeof(why))) {
		snprintf(err, errlen, "--cpus %s: %s", d->opt.cpus, why);
		return -1;
	}
	def->used = true;
	snprintf(def->name, sizeof(def->name), "%s", VS_ENCLAVE_DEFAULT_NAME);
	def->relaxed = d->opt.relaxed;
	def->slice_us = d->opt.slice_us;
	cpuset_format(&def->enc.cpus, list, sizeof(list));
	vs_log("enclave '%s': CPUs %s (%d cores, %d threads per core)", def->name, list,
	       def->enc.nr_cores,
	       topology_threads_per_core(&d->topo, cpuset_next(&def->enc.cpus, 0)));
	return 0;
}

/*
 * With the pinned maps loaded (adopt): gives every recorded thread its policy
 * back, then unregisters and unpins the scheduler, as its agent's SIGTERM would.
 */
static int restore_recorded_and_unload(struct vs_daemon *d, char *err, size_t errlen)
{
	vm_adopt_recorded(d);
	vm_release_all(d);
	bpf_sched_detach(d);
	registry_init(&d->reg);
	return pinned_state_unload(d->opt.pin_dir, err, errlen);
}

/*
 * A scheduler pinned by an agent that died. Adopt it if it still runs; if the
 * kernel stopped it meanwhile, give its recorded threads their policy back and
 * remove it, so a fresh one can start. Returns whether to adopt, or -1.
 */
static int take_over_pinned(struct vs_daemon *d, bool ours_running, char *err, size_t errlen)
{
	uint32_t abi;

	switch (pinned_state_probe(d->opt.pin_dir, &abi, err, errlen)) {
	case VS_PINNED_ERROR:
	case VS_PINNED_OTHER_ABI:
		return -1;
	case VS_PINNED_NONE:
		if (ours_running) {
			snprintf(err, errlen,
				 "a vmm_sched scheduler runs but nothing is pinned at %s: another "
				 "vmm-schedd with another --pin-dir runs it; stop that one first",
				 d->opt.pin_dir);
			return -1;
		}
		return 0;
	case VS_PINNED_INCOMPLETE:
		vs_log("removing the incomplete pinned state at %s (an agent died while starting)",
		       d->opt.pin_dir);
		return pinned_state_unload(d->opt.pin_dir, err, errlen);
	case VS_PINNED_FOUND:
		break;
	}
	if (bpf_sched_load(d, true, err, errlen))
		return -1;
	if (ours_running && !bpf_sched_exit_kind(d)) {
		bpf_sched_detach(d);
		return 1;
	}
	vs_log("the scheduler pinned at %s no longer runs; restoring the threads it had and "
	       "starting afresh",
	       d->opt.pin_dir);
	if (bpf_sched_exit_kind(d))
		bpf_sched_report_exit(d);
	return restore_recorded_and_unload(d, err, errlen);
}

/* --unload-pinned: stop a pinned scheduler as its own agent's SIGTERM would. */
static int unload_pinned(struct vs_daemon *d)
{
	char err[1024];
	uint32_t abi;

	if (pinned_state_lock(d, err, sizeof(err))) {
		vs_err("%s", err);
		return 1;
	}
	switch (pinned_state_probe(d->opt.pin_dir, &abi, err, sizeof(err))) {
	case VS_PINNED_ERROR:
		vs_err("%s", err);
		return 1;
	case VS_PINNED_NONE:
		vs_log("nothing is pinned at %s: no scheduler to unload", d->opt.pin_dir);
		return 0;
	case VS_PINNED_INCOMPLETE:
	case VS_PINNED_OTHER_ABI:
		/* Records of another ABI cannot be read: only unload and unpin. */
		if (pinned_state_unload(d->opt.pin_dir, err, sizeof(err))) {
			vs_err("%s", err);
			return 1;
		}
		vs_log("unpinned the scheduler state at %s (ABI %u): the scheduler is unloaded; "
		       "vCPU threads it ran are in the fair class, still bound to its CPUs, "
		       "until a vmm-schedd enrols them again",
		       d->opt.pin_dir, abi);
		return 0;
	case VS_PINNED_FOUND:
		break;
	}
	if (host_read_topology(&d->topo, err, sizeof(err)) ||
	    bpf_sched_load(d, true, err, sizeof(err))) {
		vs_err("%s", err);
		bpf_sched_detach(d);
		return 1;
	}
	if (restore_recorded_and_unload(d, err, sizeof(err))) {
		vs_err("%s", err);
		return 1;
	}
	vs_log("unloaded the scheduler pinned at %s", d->opt.pin_dir);
	return 0;
}

int main(int argc, char **argv)
{
	static struct vs_daemon d = {.ctl_fd = -1, .pin_lock_fd = -1, .lv = {.msg_fd = -1}};
	bool ours_running;
	char err[1024];
	int adopt = 0;

	setvbuf(stderr, NULL, _IOLBF, 0);
	/* A control client that hangs up early must not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "--check-config")) {
		if (argc > 3) {
			fprintf(stderr, "vmm-schedd: --check-config takes at most one FILE\n");
			return 2;
		}
		return config_file_check(argc == 3 ? argv[2] : VS_CONFIG_DEFAULT);
	}
	options_init(&d.opt);
	if (parse_options(&d.opt, argc, argv))
		return 2;
	registry_init(&d.reg);
	for (int cpu = 0; cpu < VS_MAX_CPUS; cpu++)
		cpu_track_init(&d.cpu_track[cpu]);
	if (d.opt.unload_pinned)
		return unload_pinned(&d);
	/* Most specific first: a second daemon on the same socket or port, then the kernel. */
	if (control_prepare(&d, err, sizeof(err)) || metrics_open(&d, err, sizeof(err)) ||
	    host_check_sched_ext(&ours_running, err, sizeof(err)) ||
	    host_check_kfuncs(getenv("VMM_SCHED_KERNEL_BTF"), err, sizeof(err)) ||
	    build_enclave(&d, err, sizeof(err)) || pinned_state_lock(&d, err, sizeof(err))) {
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
	adopt = take_over_pinned(&d, ours_running, err, sizeof(err));
	if (adopt < 0 || bpf_sched_load(&d, adopt, err, sizeof(err)) ||
	    (adopt && bpf_sched_check_adopted(&d, err, sizeof(err))) ||
	    txn_open(&d, err, sizeof(err)) || control_listen(&d, err, sizeof(err)) ||
	    bpf_sched_attach(&d, err, sizeof(err))) {
		vs_err("%s", err);
		metrics_close(&d);
		control_close(&d);
		txn_close();
		bpf_sched_detach(&d);
		return 1;
	}
	bpf_sched_set_hint_policy(&d);
	hints_clear_all(&d);
	if (adopt) {
		vm_adopt_recorded(&d);
		d.pins_owned = true;
		for (int vm_id = 0; vm_id < VS_MAX_VMS; vm_id++)
			if (d.reg.vms[vm_id].used &&
			    hints_attach_default(&d, vm_id, NULL, err, sizeof(err)))
				vs_err("%s", err);
	}
	vs_log("sched_ext scheduler vmm_sched %s (ABI %d, %s core pairing), control socket %s, "
	       "pinned at %s",
	       adopt ? "adopted" : "enabled", VS_ABI_VERSION, d.opt.relaxed ? "relaxed" : "strict",
	       d.opt.control_path, d.opt.pin_dir);
	if (!bpf_sched_kick_supported(&d))
		vs_log("this kernel cannot link scx_bpf_kick_cpu() (its BTF lacks the _impl "
		       "twin of an implicit-argument kfunc): a sibling leaves a guest at its "
		       "next tick, not at once");
	else if (d.opt.no_kick)
		vs_log("--no-kick: a sibling leaves a guest at its next tick, not at once");
	for (int i = 0; i < d.opt.nr_pids; i++) {
		if (registry_find_vm_by_pid(&d.reg, d.opt.pids[i]) >= 0)
			continue; /* adopted */
		struct vs_share_settings share = {
		    .weight = d.opt.weights[i] ? (int)d.opt.weights[i] : VS_SHARE_KEEP,
		    .reserve_cores = VS_SHARE_KEEP,
		    .cap_cores = VS_SHARE_KEEP,
		};

		int vm_id = vm_enroll(&d, d.opt.pids[i], d.opt.names[i], &share, VS_ENCLAVE_DEFAULT,
				      err, sizeof(err));

		if (vm_id < 0 || hints_attach_default(&d, vm_id, NULL, err, sizeof(err))) {
			vs_err("--pid %d: %s", d.opt.pids[i], err);
			d.exit_status = 1;
			d.stop = true;
		}
	}
	if (!d.stop && libvirt_start(&d, err, sizeof(err))) {
		vs_err("%s", err);
		d.exit_status = 1;
		d.stop = true;
	}
	if (!d.stop && event_loop_run(&d))
		d.exit_status = 1;
	libvirt_stop(&d);
	metrics_close(&d);
	vm_release_all(&d);
	control_close(&d);
	txn_close();
	bpf_sched_detach(&d);
	vs_log("stopped");
	return d.exit_status;
}
