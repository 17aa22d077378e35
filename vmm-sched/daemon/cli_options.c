/* vmm-schedd's command line: --help, the options and --pid, then the settings file under them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_options.h"
#include "config_file.h"
#include "registry.h"
#include "vm_name.h"
#include "vmm_sched_ctl.h"

void cli_usage(FILE *out)
{
	fprintf(out,
		"usage: vmm-schedd [--config FILE] --cpus LIST [--pid PID[:NAME[:WEIGHT]]]...\n"
		"                  [--control PATH] [--control-group GROUP]\n"
		"                  [--slice-us N] [--pairing strict|relaxed]\n"
		"                  [--core-cookie clear|refuse] [--pin-dir DIR] [--ring-kb N]\n"
		"                  [--target-latency-ms N] [--smt-pair-window-ms N]\n"
		"                  [--default-weight N] [--max-vms N] [--max-vcpus N]\n"
		"                  [--max-vcpus-per-vm N]\n"
		"                  [--metrics-listen ADDR:PORT] [--no-kick]\n"
		"                  [--placement bpf|agent] [--epoch-ms N] [--planner-takes]\n"
		"                  [--discovery events|poll] [--safety-rescan-s N]\n"
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
		"  --placement MODE   bpf (default): the scheduler places every vCPU by its\n"
		"                     local rules; agent: the agent also plans each epoch\n"
		"                     which VM owns which core and commits it as\n"
		"                     transactions, BPF's rules deciding wherever no\n"
		"                     commit is live (experimental: not shown better yet)\n"
		"  --epoch-ms N       the agent planner's epoch (1..1000, default 10), up to\n"
		"                     16x longer while its commits are mostly refused; no\n"
		"                     epoch runs while no vCPU is runnable\n"
		"  --planner-takes    with --placement agent: the planner hands a busy core\n"
		"                     over at once (VS_TXN_F_TAKE_CORE) instead of waiting\n"
		"                     for BPF's rules (experimental: off by default until\n"
		"                     the checker has seen enough runs of it)\n"
		"  --discovery MODE   events (default): new and exited vCPU threads are found\n"
		"                     when the kernel's process events (the proc connector)\n"
		"                     tell of them, each VM rescanned from /proc after\n"
		"                     events about its threads; poll: every VM is rescanned\n"
		"                     every second. Without the proc connector the agent\n"
		"                     polls and says so in its log and status\n"
		"  --safety-rescan-s N\n"
		"                     with events, every VM is also rescanned every N s\n"
		"                     (1..3600, default 30), and at once if events were lost\n"
		"  --pairing MODE     strict (default): a sibling runs no vCPU while a host task\n"
		"                     runs on its twin; relaxed: host tasks may share a core\n"
		"                     with a vCPU (vCPUs of two VMs never do, in either mode)\n"
		"  --max-vms N        VMs enrolled at once (1..%d, default %d); one more is\n"
		"                     refused until one is released\n"
		"  --max-vcpus N      vCPU threads enrolled at once over all VMs (1..%d,\n"
		"                     default %d). These two size the scheduler's maps at\n"
		"                     load; a restarted agent keeps the pinned sizes\n"
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
		VS_CONFIG_DEFAULT, VS_CTL_DEFAULT_SOCKET, VS_MAX_VMS, VS_DEFAULT_MAX_VMS,
		VS_MAX_VCPUS, VS_DEFAULT_MAX_VCPUS, VS_MAX_VCPUS, VS_MAX_VCPUS, VS_PIN_DIR_DEFAULT,
		VS_LIBVIRT_URI_DEFAULT);
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

int cli_parse_options(struct vs_options *opt, int argc, char **argv)
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
	    {"max-vms", required_argument, NULL, 'M'},
	    {"max-vcpus", required_argument, NULL, 'I'},
	    {"metrics-listen", required_argument, NULL, 'L'},
	    {"default-weight", required_argument, NULL, 'D'},
	    {"unload-pinned", no_argument, NULL, 'U'},
	    {"config", required_argument, NULL, 'C'},
	    {"no-kick", no_argument, NULL, 'K'},
	    {"planner-takes", no_argument, NULL, 'O'},
	    {"hints-dir", required_argument, NULL, 'H'},
	    {"cs-extension-us", required_argument, NULL, 'X'},
	    {"cs-budget-pct", required_argument, NULL, 'B'},
	    {"libvirt", required_argument, NULL, 'v'},
	    {"libvirt-enrol-names", required_argument, NULL, 'N'},
	    {"placement", required_argument, NULL, 'A'},
	    {"epoch-ms", required_argument, NULL, 'E'},
	    {"discovery", required_argument, NULL, 'Y'},
	    {"safety-rescan-s", required_argument, NULL, 'Z'},
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
		case 'M':
		case 'I':
		case 'L':
		case 'H':
		case 'X':
		case 'B':
		case 'v':
		case 'N':
		case 'A':
		case 'E':
		case 'Y':
		case 'Z':
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
		case 'O':
			opt->planner_takes = true;
			break;
		case 'U':
			opt->unload_pinned = true;
			break;
		case 'h':
			cli_usage(stdout);
			exit(0);
		default:
			cli_usage(stderr);
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
	if (opt->planner_takes && !opt->placement_agent) {
		fprintf(stderr,
			"vmm-schedd: --planner-takes needs --placement agent (on the command "
			"line or placement = agent in [agent] of the config file)\n");
		return -1;
	}
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
