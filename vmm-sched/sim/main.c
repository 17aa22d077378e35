/*
 * vmm-sched-sim: simulate an SMT host running VMs under vmm-sched's rules and
 * the agent's share plan, deterministically from a seed (docs/simulator.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "sim_policy.h"
#include "sim_report.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmm-sched-sim [options]\n"
		"  --seed N              random seed (default 1); same seed, same output\n"
		"  --cpus N              hardware threads (default 16)\n"
		"  --threads-per-core N  SMT threads per core (default 2)\n"
		"  --nodes N             NUMA nodes, splitting the cores evenly (default 1)\n"
		"  --vms N               VMs, dealt from the workload's kinds in turn\n"
		"                        (default: the workload's counts; built-in: 8)\n"
		"  --secs S              simulated seconds (default 10, fractions allowed)\n"
		"  --workload FILE       kinds of VM, INI sections [vm NAME] (docs/simulator.md)\n"
		"  --csv FILE            per-VM CSV, with an \"all\" row (- for stdout)\n"
		"  --policy NAME         bpf: the BPF scheduler's rules (default); agent: the\n"
		"                        agent's core planner commits each epoch, BPF's rules\n"
		"                        decide wherever no committed decision is live\n"
		"                        batch: the benchmark's batch-pairing baseline (each\n"
		"                        core one VM's for 20 ms, tests/bench/batch_pair.bpf.c)\n"
		"  --epoch-ms N          agent: the planner's epoch (default 10)\n"
		"  --agent-delay-us N    agent: from the view to the commit (default 0)\n"
		"  --cs-extension-us N   guest hints: a critical section's slice extension\n"
		"                        (default 50, as vmm-schedd; 0: none)\n"
		"  --cs-budget-pct N     guest hints: a VM's extensions, in %% of its vCPU time\n"
		"                        (default 3, as vmm-schedd)\n"
		"  --check               re-check pairing on every core after every event\n"
		"  --trace               every dispatch decision and transaction on stderr\n"
		"  --what-if no-charge-kept  charge a kept vCPU's vtime only when it stops\n"
		"                        (the scheduler before 30 Nov 2026; today it charges as it "
		"runs)\n"
		"Prints one summary line: work, forced idle, its lower bound and their ratio,\n"
		"the fair-share reference and forced idle's ratio to it, the worst wait p99\n"
		"and fairness error, cross-VM overlaps (must be 0), speed.\n");
}

/* @s as an unsigned integer in [lo, hi]; -1 with a message naming @opt if not. */
static int parse_uint(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
		      unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out < lo || *out > hi) {
		fprintf(stderr, "vmm-sched-sim: %s '%s': must be an integer in %llu..%llu\n", opt,
			s, lo, hi);
		return -1;
	}
	return 0;
}

static int parse_secs(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e6) {
		fprintf(stderr,
			"vmm-sched-sim: --secs '%s': must be a number of seconds in "
			"(0, 1000000]\n",
			s);
		return -1;
	}
	*ns = (uint64_t)(v * 1e9);
	return *ns ? 0 : -1;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"seed", required_argument, NULL, 's'},
	    {"cpus", required_argument, NULL, 'c'},
	    {"threads-per-core", required_argument, NULL, 't'},
	    {"nodes", required_argument, NULL, 'n'},
	    {"vms", required_argument, NULL, 'v'},
	    {"secs", required_argument, NULL, 'S'},
	    {"workload", required_argument, NULL, 'w'},
	    {"csv", required_argument, NULL, 'o'},
	    {"policy", required_argument, NULL, 'p'},
	    {"check", no_argument, NULL, 'k'},
	    {"epoch-ms", required_argument, NULL, 'E'},
	    {"agent-delay-us", required_argument, NULL, 'D'},
	    {"trace", no_argument, NULL, 'T'},
	    {"what-if", required_argument, NULL, 'W'},
	    {"cs-extension-us", required_argument, NULL, 'X'},
	    {"cs-budget-pct", required_argument, NULL, 'B'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *workload = NULL, *csv = NULL;
	struct sim_params p;
	struct sim_workload w;
	unsigned long long n;
	static struct sim s;
	char err[512];
	double t0;
	int c;

	sim_params_default(&p);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_uint("--seed", optarg, 0, UINT64_MAX, &n))
				return 2;
			p.seed = n;
			break;
		case 'c':
			if (parse_uint("--cpus", optarg, 1, 65536, &n))
				return 2;
			p.cpus = (unsigned int)n;
			break;
		case 't':
			if (parse_uint("--threads-per-core", optarg, 1, SIM_MAX_TPC, &n))
				return 2;
			p.threads_per_core = (unsigned int)n;
			break;
		case 'n':
			if (parse_uint("--nodes", optarg, 1, 64, &n))
				return 2;
			p.nodes = (unsigned int)n;
			break;
		case 'v':
			if (parse_uint("--vms", optarg, 1, 65536, &n))
				return 2;
			p.nr_vms = (unsigned int)n;
			break;
		case 'S':
			if (parse_secs(optarg, &p.duration_ns))
				return 2;
			break;
		case 'w':
			workload = optarg;
			break;
		case 'o':
			csv = optarg;
			break;
		case 'p':
			p.policy = sim_policy_by_name(optarg);
			if (!p.policy) {
				fprintf(
				    stderr,
				    "vmm-sched-sim: --policy '%s': must be bpf, agent or batch\n",
				    optarg);
				return 2;
			}
			break;
		case 'k':
			p.check_every_event = true;
			break;
		case 'E':
			if (parse_uint("--epoch-ms", optarg, 1, 10000, &n))
				return 2;
			p.epoch_ns = n * SIM_MS;
			break;
		case 'D':
			if (parse_uint("--agent-delay-us", optarg, 0, 1000000, &n))
				return 2;
			p.agent_delay_ns = n * 1000;
			break;
		case 'W':
			if (strcmp(optarg, "no-charge-kept")) {
				fprintf(stderr,
					"vmm-sched-sim: --what-if '%s': the only one is "
					"no-charge-kept\n",
					optarg);
				return 2;
			}
			p.charge_kept = false;
			break;
		case 'X':
			if (parse_uint("--cs-extension-us", optarg, 0, 1000000, &n))
				return 2;
			p.cs_ext_ns = n * 1000;
			break;
		case 'B':
			if (parse_uint("--cs-budget-pct", optarg, 0, 100, &n))
				return 2;
			p.cs_budget_pct = (unsigned int)n;
			break;
		case 'T':
			p.trace = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmm-sched-sim: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return 2;
	}
	if (workload) {
		if (sim_workload_load(&w, workload, err, sizeof(err))) {
			fprintf(stderr, "vmm-sched-sim: %s\n", err);
			return 2;
		}
	} else {
		sim_workload_default(&w);
		if (!p.nr_vms)
			p.nr_vms = 8;
	}
	if (sim_init(&s, &p, &w, err, sizeof(err))) {
		fprintf(stderr, "vmm-sched-sim: %s\n", err);
		return 2;
	}
	t0 = wall_now();
	if (sim_run(&s)) {
		fprintf(stderr, "vmm-sched-sim: out of memory while running\n");
		sim_free(&s);
		return 1;
	}
	sim_report_summary(&s, stdout, wall_now() - t0);
	if (csv) {
		FILE *f = strcmp(csv, "-") ? fopen(csv, "w") : stdout;

		if (!f) {
			fprintf(stderr, "vmm-sched-sim: --csv %s: cannot create it: %s\n", csv,
				strerror(errno));
			sim_free(&s);
			return 1;
		}
		sim_report_csv(&s, f);
		if (f != stdout && fclose(f)) {
			fprintf(stderr, "vmm-sched-sim: --csv %s: cannot write it: %s\n", csv,
				strerror(errno));
			sim_free(&s);
			return 1;
		}
	}
	sim_free(&s);
	return s.t.overlaps ? 1 : 0;
}
