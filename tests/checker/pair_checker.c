/* SPDX-License-Identifier: GPL-2.0 */
/* Over 400 lines: the checker shares no code with the agent, so its loader, options and report are
 * here. */
/*
 * pair-checker: loads tests/checker/pair_checker.bpf.c, tells it which threads
 * are vCPUs of which VM (rescanning /proc every 200 ms), and at the end prints
 * one line with the cross-VM and host/vCPU SMT-sibling overlaps it measured.
 * Independent of the scheduler: no scheduler header, map or statistic is used.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pair_checker.h"
#include "vcpu_name.h"
#include "pair_checker.skel.h"

#define RESCAN_NS	200000000ULL
#define FULL_SCAN_EVERY 25 /* rescans: a full /proc scan every 5 s */
#define MAX_TARGETS	64

struct target {
	int pid;
	const char *label;
	__u32 vm;
};

struct options {
	bool cpus[PC_MAX_CPUS];
	bool have_cpus;
	struct target targets[MAX_TARGETS];
	int nr_targets;
	bool track_all;
	double duration_s; /* 0: until SIGTERM/SIGINT */
	__u64 grace_ns;
	__u64 gap_threshold_ns;
	bool verbose;
	bool json;
	int pair_with[PC_MAX_CPUS]; /* --pair-cpus: sibling override, -2 if none */
};

/* The loader's view of the `tracked` map. */
struct tracked_thread {
	__u32 tid;
	__u32 vm;
	unsigned int gen;
};

static struct tracked_thread tracked[PC_MAX_VCPUS];
static int nr_tracked;
static int tracked_fd = -1;
static int seen_fd = -1; /* every vCPU thread of the run: what tracked_vcpus counts */
static bool verbose;
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t mark_requested;
static __u64 count_from_ns; /* the SIGUSR1 mark, in bpf_ktime_get_ns() time */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pair-checker --cpus LIST (--track-pid PID[:VM]... | --track-all-vmms)\n"
		"                    [--track-comm-regex-default] [--duration-s S] [--grace-ns N]\n"
		"                    [--gap-threshold-ms N] [--verbose] [--json]\n"
		"\n"
		"Independently of the scheduler, traces sched_switch on the cores of LIST and\n"
		"measures when SMT siblings run vCPUs of different VMs (cross-VM) or a vCPU\n"
		"beside a host task (host). Runs for S seconds or until SIGTERM/SIGINT, then\n"
		"prints one line (with --json, one JSON object of the same names):\n"
		"  checker cross_vm_overlaps=N cross_vm_ns=T cross_vm_max_ns=M host_overlaps=N\n"
		"  host_ns=T host_max_ns=M switches=N tracked_vcpus=K cross_vm_short=N\n"
		"  host_short=N grace_ns=G gaps=N gaps_over=N gap_max_ns=M gap_max_tid=T\n"
		"  gap_threshold_ns=G vcpu_beside_host=N vcpu_beside_host_ns=T\n"
		"  vcpu_beside_host_max_ns=M vcpu_beside_host_short=N host_beside_vcpu=N\n"
		"  host_beside_vcpu_ns=T host_beside_vcpu_max_ns=M host_beside_vcpu_short=N\n"
		"(vcpu_beside_host*: a vCPU started beside a running host task;\n"
		"host_beside_vcpu*: a host task started beside a running vCPU)\n"
		"  vcpu_beside_host_left_0_timer_irqs=N vcpu_beside_host_left_1_timer_irq=N\n"
		"  vcpu_beside_host_left_2_timer_irqs=N host_beside_vcpu_left_0_timer_irqs=N\n"
		"  host_beside_vcpu_left_1_timer_irq=N host_beside_vcpu_left_2_timer_irqs=N\n"
		"(the counted exposures that ended because the vCPU left, by the timer\n"
		"interrupts its CPU took meanwhile: a vCPU made to leave by a reschedule\n"
		"IPI or its own CPU's kick leaves before any, however long an emulator\n"
		"delays that CPU; one left to its tick stays through one; more means other\n"
		"timers fired, or nothing made it leave)\n"
		"SIGUSR1 marks the point to count from: intervals open before it are not\n"
		"counted (start the checker before the scheduler, mark once set up).\n"
		"\n"
		"  --cpus LIST          CPUs to watch, e.g. 0-7 (their SMT siblings are added)\n"
		"  --track-pid PID[:VM] vCPU threads of VMM process PID form one VM; PIDs with\n"
		"                       the same VM label form one VM (repeatable)\n"
		"  --track-all-vmms     every process with vCPU-named threads is a VM, including\n"
		"                       processes started later\n"
		"  --track-comm-regex-default\n"
		"                       accepted for compatibility: vCPU threads are always\n"
		"                       recognised by the built-in names (CPU n/KVM, CPU n/TCG,\n"
		"                       vcpuN, fc_vcpu N, crosvm_vcpuN)\n"
		"  --duration-s S       stop after S seconds (default: at SIGTERM/SIGINT)\n"
		"  --grace-ns N         overlaps shorter than N ns are counted only in *_short\n"
		"                       (default 0: every overlap counts)\n"
		"  --gap-threshold-ms N count vCPU waits (wakeup or preemption to the next\n"
		"                       switch-in, or to the end for one still waiting) longer\n"
		"                       than N ms in gaps_over (default 100)\n"
		"  --verbose            log tracking changes, per-core results, cross-VM\n"
		"                       overlaps and vCPUs started beside host tasks on stderr\n"
		"  --json               print the result as one JSON object instead\n"
		"  --pair-cpus A:B      treat CPUs A and B as SMT siblings instead of what sysfs\n"
		"                       says (repeatable; to test the checker without SMT)\n");
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pair-checker: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

__attribute__((format(printf, 1, 2))) static void logv(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fprintf(stderr, "pair-checker: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Parses "0-3,6,8-9" into set[]; returns 0 or -1 with err filled. */
static int parse_cpu_list(const char *list, bool *set, char *err, size_t errlen)
{
	const char *p = list;

	if (!*p) {
		snprintf(err, errlen, "empty CPU list");
		return -1;
	}
	while (*p) {
		char *end;
		long lo, hi;

		if (!isdigit((unsigned char)*p)) {
			snprintf(err, errlen, "expected a CPU number at '%s' in '%s'", p, list);
			return -1;
		}
		lo = strtol(p, &end, 10);
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p)) {
				snprintf(err, errlen, "expected a CPU number after '-' in '%s'",
					 list);
				return -1;
			}
			hi = strtol(p, &end, 10);
			p = end;
		}
		if (hi < lo) {
			snprintf(err, errlen, "reversed range %ld-%ld in '%s'", lo, hi, list);
			return -1;
		}
		if (hi >= PC_MAX_CPUS) {
			snprintf(err, errlen, "CPU %ld is beyond the supported %d", hi,
				 PC_MAX_CPUS);
			return -1;
		}
		for (long c = lo; c <= hi; c++)
			set[c] = true;
		if (*p == ',') {
			p++;
			if (!*p) {
				snprintf(err, errlen, "'%s' ends with a comma", list);
				return -1;
			}
		} else if (*p && *p != '\n') {
			snprintf(err, errlen, "unexpected '%c' in '%s'", *p, list);
			return -1;
		} else if (*p) {
			p++;
		}
	}
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* The SMT sibling of cpu, -1 if it has none. */
static int sibling_of(int cpu)
{
	bool set[PC_MAX_CPUS] = {false};
	char path[128], buf[256], err[256];
	int sib = -1, n = 0;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
		 cpu);
	if (read_small_file(path, buf, sizeof(buf)))
		die("cannot read %s: %s", path, strerror(errno));
	if (parse_cpu_list(buf, set, err, sizeof(err)))
		die("%s: %s", path, err);
	for (int c = 0; c < PC_MAX_CPUS; c++) {
		if (!set[c])
			continue;
		n++;
		if (c != cpu)
			sib = c;
	}
	if (n > 2)
		die("CPU %d has %d hardware threads: only 2-way SMT is supported", cpu, n);
	return sib;
}

static void parse_track_pid(struct options *o, char *arg)
{
	char *colon = strchr(arg, ':'), *end;
	long pid;

	if (o->nr_targets >= MAX_TARGETS)
		die("at most %d --track-pid options", MAX_TARGETS);
	if (colon)
		*colon = '\0';
	errno = 0;
	pid = strtol(arg, &end, 10);
	if (errno || end == arg || *end || pid <= 0 || pid > 0x3fffffff)
		die("--track-pid: '%s' is not a process id", arg);
	if (colon && !colon[1])
		die("--track-pid %ld: empty VM label after ':'", pid);
	o->targets[o->nr_targets].pid = (int)pid;
	o->targets[o->nr_targets].label = colon ? colon + 1 : NULL;
	o->nr_targets++;
}

static void parse_options(struct options *o, int argc, char **argv)
{
	enum {
		OPT_CPUS = 256,
		OPT_PID,
		OPT_ALL,
		OPT_REGEX,
		OPT_DUR,
		OPT_GRACE,
		OPT_VERBOSE,
		OPT_PAIR,
		OPT_GAP,
		OPT_JSON
	};
	static const struct option longopts[] = {
	    {"cpus", required_argument, NULL, OPT_CPUS},
	    {"track-pid", required_argument, NULL, OPT_PID},
	    {"track-all-vmms", no_argument, NULL, OPT_ALL},
	    {"track-comm-regex-default", no_argument, NULL, OPT_REGEX},
	    {"duration-s", required_argument, NULL, OPT_DUR},
	    {"grace-ns", required_argument, NULL, OPT_GRACE},
	    {"verbose", no_argument, NULL, OPT_VERBOSE},
	    {"pair-cpus", required_argument, NULL, OPT_PAIR},
	    {"gap-threshold-ms", required_argument, NULL, OPT_GAP},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char err[256], *end;
	int c, a, b, n;

	for (c = 0; c < PC_MAX_CPUS; c++)
		o->pair_with[c] = -2;
	o->gap_threshold_ns = 100000000ULL;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CPUS:
			if (parse_cpu_list(optarg, o->cpus, err, sizeof(err)))
				die("--cpus: %s", err);
			o->have_cpus = true;
			break;
		case OPT_PID:
			parse_track_pid(o, optarg);
			break;
		case OPT_ALL:
			o->track_all = true;
			break;
		case OPT_REGEX:
			break;
		case OPT_DUR:
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration_s > 0) ||
			    o->duration_s > 1e7)
				die("--duration-s: '%s' is not a positive number of seconds",
				    optarg);
			break;
		case OPT_GRACE:
			errno = 0;
			o->grace_ns = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-')
				die("--grace-ns: '%s' is not a number of nanoseconds", optarg);
			break;
		case OPT_GAP:
			errno = 0;
			o->gap_threshold_ns = strtoull(optarg, &end, 10) * 1000000ULL;
			if (errno || end == optarg || *end || optarg[0] == '-')
				die("--gap-threshold-ms: '%s' is not a number of milliseconds",
				    optarg);
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_PAIR:
			if (sscanf(optarg, "%d:%d%n", &a, &b, &n) != 2 || optarg[n] || a < 0 ||
			    b < 0 || a >= PC_MAX_CPUS || b >= PC_MAX_CPUS || a == b)
				die("--pair-cpus: '%s' is not two different CPUs A:B", optarg);
			o->pair_with[a] = b;
			o->pair_with[b] = a;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			die("option '%s' needs a value (see --help)", argv[optind - 1]);
		default:
			die("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->have_cpus)
		die("--cpus is required (see --help)");
	if (o->track_all && o->nr_targets)
		die("use either --track-pid or --track-all-vmms, not both");
	if (!o->track_all && !o->nr_targets)
		die("nothing to track: give --track-pid PID or --track-all-vmms");
}

/* --- tracking ------------------------------------------------------------ */

static struct tracked_thread *find_tracked(__u32 tid)
{
	for (int i = 0; i < nr_tracked; i++)
		if (tracked[i].tid == tid)
			return &tracked[i];
	return NULL;
}

static void track(__u32 tid, __u32 vm, unsigned int gen)
{
	struct tracked_thread *t = find_tracked(tid);

	if (t && t->vm == vm) {
		t->gen = gen;
		return;
	}
	if (!t) {
		if (nr_tracked >= PC_MAX_VCPUS) {
			fprintf(stderr,
				"pair-checker: more than %d vCPU threads; thread %u ignored\n",
				PC_MAX_VCPUS, tid);
			return;
		}
		t = &tracked[nr_tracked++];
		t->tid = tid;
		logv("tracking vCPU thread %u of VM %u", tid, vm);
	}
	t->vm = vm;
	t->gen = gen;
	if (bpf_map_update_elem(tracked_fd, &tid, &vm, BPF_ANY))
		fprintf(stderr, "pair-checker: cannot track thread %u: %s\n", tid, strerror(errno));
	if (bpf_map_update_elem(seen_fd, &tid, &vm, BPF_ANY) && errno == E2BIG)
		fprintf(
		    stderr,
		    "pair-checker: more than %d vCPU threads in this run; thread %u not counted\n",
		    PC_MAX_SEEN, tid);
}

/* Drops every thread not seen in scan `gen`. */
static void prune(unsigned int gen)
{
	for (int i = 0; i < nr_tracked;) {
		if (tracked[i].gen == gen) {
			i++;
			continue;
		}
		logv("thread %u of VM %u is gone", tracked[i].tid, tracked[i].vm);
		bpf_map_delete_elem(tracked_fd, &tracked[i].tid);
		tracked[i] = tracked[--nr_tracked];
	}
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Tracks the vCPU-named threads of process pid as VM vm; returns how many, or
 * -1 if the process is gone. */
static int scan_process(int pid, __u32 vm, unsigned int gen)
{
	char path[64], cpath[300], comm[PC_COMM_LEN + 8];
	struct dirent *de;
	int n = 0, taskfd;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	taskfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (taskfd < 0)
		return -1;
	dir = fdopendir(taskfd);
	if (!dir) {
		close(taskfd);
		return -1;
	}
	while ((de = readdir(dir))) {
		char name[PC_COMM_LEN] = {0};
		ssize_t len;
		int fd;

		if (!is_number(de->d_name))
			continue;
		snprintf(cpath, sizeof(cpath), "%s/comm", de->d_name);
		fd = openat(taskfd, cpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, comm, sizeof(comm) - 1);
		close(fd);
		if (len <= 0)
			continue;
		comm[len] = '\0';
		len = (ssize_t)strcspn(comm, "\n");
		memcpy(name, comm, len < PC_COMM_LEN - 1 ? (size_t)len : PC_COMM_LEN - 1);
		if (!pcn_is_vcpu_comm(name))
			continue;
		track((__u32)atoi(de->d_name), vm, gen);
		n++;
	}
	closedir(dir);
	return n;
}

/* VMM processes in --track-all-vmms mode: rescanned every time. */
static int vmms[PC_MAX_VMMS];
static int nr_vmms;
static int candidates_fd = -1;

static void add_vmm(int pid)
{
	for (int i = 0; i < nr_vmms; i++)
		if (vmms[i] == pid)
			return;
	if (nr_vmms < PC_MAX_VMMS)
		vmms[nr_vmms++] = pid;
}

/*
 * --track-pid: the given processes. --track-all-vmms: every process in /proc at
 * the first scan and then every FULL_SCAN_EVERY scans; in between, the VMMs
 * found so far and the processes in which the BPF program saw a vCPU-named
 * thread switch in that is not tracked yet (a full /proc scan every 200 ms costs
 * too much CPU on a slow machine).
 */
static void rescan(const struct options *o)
{
	static unsigned int gen;
	struct dirent *de;
	__u32 key;
	DIR *proc;

	gen++;
	if (!o->track_all) {
		for (int i = 0; i < o->nr_targets; i++)
			scan_process(o->targets[i].pid, o->targets[i].vm, gen);
		prune(gen);
		return;
	}
	while (!bpf_map_get_next_key(candidates_fd, NULL, &key)) {
		add_vmm((int)key);
		bpf_map_delete_elem(candidates_fd, &key);
	}
	if (gen % FULL_SCAN_EVERY == 1) {
		int self = getpid();

		proc = opendir("/proc");
		if (!proc)
			die("cannot open /proc: %s", strerror(errno));
		while ((de = readdir(proc))) {
			int pid;

			if (!is_number(de->d_name))
				continue;
			pid = atoi(de->d_name);
			if (pid != self && scan_process(pid, (__u32)pid, gen) > 0)
				add_vmm(pid);
		}
		closedir(proc);
	}
	for (int i = 0; i < nr_vmms;) {
		if (scan_process(vmms[i], (__u32)vmms[i], gen) < 0)
			vmms[i] = vmms[--nr_vmms]; /* the process is gone */
		else
			i++;
	}
	prune(gen);
}

/* --- seeding ------------------------------------------------------------- */

static void *kick_thread(void *arg)
{
	return arg;
}

/*
 * A CPU's state is unknown until its first switch, and a vCPU that has a CPU
 * to itself may not switch for a long time. Run one short thread of our own on
 * every watched CPU: the switches into it and out of it record what each CPU
 * runs. Our own threads are never counted.
 */
static void kick_cpus(const bool *watched)
{
	pthread_t th[PC_MAX_CPUS];
	bool started[PC_MAX_CPUS] = {false};

	for (int c = 0; c < PC_MAX_CPUS; c++) {
		pthread_attr_t attr;
		cpu_set_t set;

		if (!watched[c])
			continue;
		CPU_ZERO(&set);
		CPU_SET(c, &set);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		started[c] = pthread_create(&th[c], &attr, kick_thread, NULL) == 0;
		pthread_attr_destroy(&attr);
		if (!started[c])
			fprintf(stderr, "pair-checker: warning: cannot start a thread on CPU %d\n",
				c);
	}
	for (int c = 0; c < PC_MAX_CPUS; c++)
		if (started[c])
			pthread_join(th[c], NULL);
}

/* --- results ------------------------------------------------------------- */

struct totals {
	__u64 count, ns, max_ns, short_count;
};

static void add_ticks(struct pc_ticks *sum, const struct pc_ticks *t)
{
	sum->none += t->none;
	sum->one += t->one;
	sum->two_plus += t->two_plus;
}

/* Adds one interval statistic, closing a still-open interval at `end`. */
static void add_ovl(struct totals *t, const struct pc_ovl *o, __u64 end, __u64 grace)
{
	__u64 count = o->count, ns = o->ns, max = o->max_ns, shorts = o->short_count;

	if (o->open && o->start >= count_from_ns) {
		__u64 d = end > o->start ? end - o->start : 0;

		if (d < grace) {
			shorts++;
		} else {
			count++;
			ns += d;
			if (d > max)
				max = d;
		}
	}
	t->count += count;
	t->ns += ns;
	t->short_count += shorts;
	if (max > t->max_ns)
		t->max_ns = max;
}

/*
 * The distinct vCPU threads of the run: tracked by a /proc scan or switched in
 * as a vCPU (judged by name before a scan reached it). Read after detaching.
 */
static unsigned long long count_seen_vcpus(void)
{
	__u32 key, next, *prev = NULL;
	unsigned long long n = 0;

	while (!bpf_map_get_next_key(seen_fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	if (n >= PC_MAX_SEEN)
		fprintf(stderr,
			"pair-checker: warning: %llu vCPU threads or more; tracked_vcpus is a "
			"lower bound\n",
			n);
	return n;
}

/* The recorded waits, and those of vCPUs still waiting at @end (a starved vCPU never runs). */
static void read_gaps(struct pair_checker *skel, __u64 end, __u64 threshold, struct pc_gaps *out)
{
	int fd = bpf_map__fd(skel->maps.runnable_since);
	__u32 zero = 0, key, next, *prev = NULL;
	__u64 since;

	if (bpf_map_lookup_elem_flags(bpf_map__fd(skel->maps.gaps), &zero, out, BPF_F_LOCK))
		die("cannot read the gap statistics: %s", strerror(errno));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &since) || since >= end)
			continue;
		out->count++;
		if (end - since > threshold)
			out->over++;
		if (end - since > out->max_ns) {
			out->max_ns = end - since;
			out->max_tid = key;
		}
	}
}

struct result_field {
	const char *name;
	unsigned long long value;
};

/* The result: one `checker name=value ...` line, or with --json one JSON object. */
static void print_result(const struct result_field *f, size_t n, bool json)
{
	printf(json ? "{" : "checker");
	for (size_t i = 0; i < n; i++)
		printf(json ? "%s\"%s\": %llu" : "%s%s=%llu", json ? (i ? ", " : "") : " ",
		       f[i].name, f[i].value);
	printf(json ? "}\n" : "\n");
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		mark_requested = 1;
	else
		stop_requested = 1;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !verbose))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool cpu_online(int cpu, const bool *online)
{
	return cpu >= 0 && cpu < PC_MAX_CPUS && online[cpu];
}

/* --verbose: one line per closed cross-VM interval or vCPU started beside a host task. */
static int log_overlap(void *ctx, void *data, size_t len)
{
	const struct pc_overlap_event *e = data;

	if (len < sizeof(*e) || e->start < count_from_ns)
		return 0;
	if (e->kind == PC_EV_VCPU_SECOND) {
		fprintf(stderr,
			"pair-checker: vcpu_beside_host core=%u closed_by_cpu=%u tids=%u,%u "
			"start=%llu ns=%llu\n",
			e->core, e->closing_cpu, e->tid[0], e->tid[1], (unsigned long long)e->start,
			(unsigned long long)e->ns);
		return 0;
	}
	fprintf(stderr,
		"pair-checker: overlap core=%u closed_by_cpu=%u tids=%u,%u vms=%u,%u start=%llu "
		"ns=%llu\n",
		e->core, e->closing_cpu, e->tid[0], e->tid[1], e->vm[0], e->vm[1],
		(unsigned long long)e->start, (unsigned long long)e->ns);
	return 0;
}

int main(int argc, char **argv)
{
	struct ring_buffer *overlaps = NULL;
	static struct options opt;
	static bool online[PC_MAX_CPUS], watched[PC_MAX_CPUS];
	static int sib[PC_MAX_CPUS];
	struct totals cross = {0}, host = {0}, vcpu_second = {0}, host_second = {0};
	struct pc_ticks vcpu_ticks = {0}, host_ticks = {0};
	struct pc_gaps gap = {0};
	struct pair_checker *skel;
	struct sigaction sa;
	char buf[4096], err[256];
	__u64 deadline = 0, end, switches = 0, tracked_vcpus;
	int cores_fd, nr_watched = 0;

	parse_options(&opt, argc, argv);
	verbose = opt.verbose;
	/* From here on SIGTERM/SIGINT end the run with a result line. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* Topology: every listed CPU must be online; its sibling is watched too. */
	if (read_small_file("/sys/devices/system/cpu/online", buf, sizeof(buf)) ||
	    parse_cpu_list(buf, online, err, sizeof(err)))
		die("cannot read the online CPUs from /sys/devices/system/cpu/online");
	for (int c = 0; c < PC_MAX_CPUS; c++) {
		sib[c] = -1;
		if (!opt.cpus[c])
			continue;
		if (!cpu_online(c, online))
			die("--cpus: CPU %d is not online", c);
		watched[c] = true;
	}
	for (int c = 0; c < PC_MAX_CPUS; c++) {
		if (!watched[c])
			continue;
		sib[c] = opt.pair_with[c] != -2 ? opt.pair_with[c] : sibling_of(c);
		if (sib[c] >= 0 && !cpu_online(sib[c], online))
			sib[c] = -1;
		if (sib[c] >= 0 && !watched[sib[c]]) {
			fprintf(stderr,
				"pair-checker: CPU %d is not in --cpus; watching it as the "
				"SMT sibling of CPU %d\n",
				sib[c], c);
			watched[sib[c]] = true;
			sib[sib[c]] = c;
		}
	}
	for (int c = 0; c < PC_MAX_CPUS; c++)
		nr_watched += watched[c];

	/* VM ids: a --track-pid's PID, or the PID of the first one with its label. */
	for (int i = 0; i < opt.nr_targets; i++) {
		struct target *t = &opt.targets[i];
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d", t->pid);
		if (access(path, F_OK))
			die("--track-pid: no process %d", t->pid);
		t->vm = (__u32)t->pid;
		for (int j = 0; j < i && t->label; j++)
			if (opt.targets[j].label && !strcmp(opt.targets[j].label, t->label)) {
				t->vm = opt.targets[j].vm;
				break;
			}
	}

	libbpf_set_print(libbpf_log);
	skel = pair_checker__open();
	if (!skel)
		die("cannot open the BPF program: %s", strerror(errno));
	skel->rodata->self_tgid = (__u32)getpid();
	skel->rodata->track_all = opt.track_all;
	skel->rodata->grace_ns = opt.grace_ns;
	skel->rodata->gap_threshold_ns = opt.gap_threshold_ns;
	if (pair_checker__load(skel))
		die("cannot load the BPF program (root and a kernel with BTF needed): %s",
		    strerror(errno));

	for (__u32 c = 0; c < PC_MAX_CPUS; c++) {
		__u32 on = watched[c];
		__s32 s = watched[c] ? sib[c] : -1;

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.sibling), &c, &s, BPF_ANY) ||
		    bpf_map_update_elem(bpf_map__fd(skel->maps.enclave), &c, &on, BPF_ANY))
			die("cannot fill the CPU maps: %s", strerror(errno));
	}
	for (int i = 0; i < opt.nr_targets; i++) {
		__u32 tgid = (__u32)opt.targets[i].pid;

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.vmm_tgid), &tgid, &opt.targets[i].vm,
					BPF_ANY))
			die("cannot fill vmm_tgid: %s", strerror(errno));
	}
	tracked_fd = bpf_map__fd(skel->maps.tracked);
	seen_fd = bpf_map__fd(skel->maps.seen_vcpus);
	candidates_fd = bpf_map__fd(skel->maps.candidates);
	rescan(&opt);
	for (int i = 0; i < opt.nr_targets; i++) {
		bool any = false;

		for (int j = 0; j < nr_tracked; j++)
			any |= tracked[j].vm == opt.targets[i].vm;
		if (!any)
			fprintf(stderr, "pair-checker: note: process %d has no vCPU threads yet\n",
				opt.targets[i].pid);
	}

	if (pair_checker__attach(skel))
		die("cannot attach to sched_switch: %s", strerror(errno));
	kick_cpus(watched);
	logv("watching %d CPUs, %d vCPU threads tracked", nr_watched, nr_tracked);
	fprintf(stderr, "pair-checker: ready\n");

	if (verbose) {
		overlaps =
		    ring_buffer__new(bpf_map__fd(skel->maps.overlap_log), log_overlap, NULL, NULL);
		if (!overlaps)
			die("cannot open the overlap log: %s", strerror(errno));
	}
	if (opt.duration_s > 0)
		deadline = now_ns() + (__u64)(opt.duration_s * 1e9);
	while (!stop_requested) {
		__u64 now = now_ns(), wait = RESCAN_NS;
		struct timespec ts;

		if (deadline) {
			if (now >= deadline)
				break;
			if (deadline - now < wait)
				wait = deadline - now;
		}
		ts.tv_sec = (time_t)(wait / 1000000000ULL);
		ts.tv_nsec = (long)(wait % 1000000000ULL);
		nanosleep(&ts, NULL); /* a signal cuts it short */
		if (overlaps)
			ring_buffer__consume(overlaps);
		if (mark_requested) {
			mark_requested = 0;
			count_from_ns = now_ns();
			skel->bss->count_from_ns = count_from_ns;
			__atomic_store_n(&skel->bss->mark_gen, skel->bss->mark_gen + 1,
					 __ATOMIC_RELEASE);
			fprintf(stderr, "pair-checker: counting from here (SIGUSR1)\n");
		}
		if (!stop_requested)
			rescan(&opt);
	}
	if (overlaps) {
		ring_buffer__consume(overlaps);
		ring_buffer__free(overlaps);
	}

	/* Stop tracing first: the state is then frozen and open intervals end now. */
	pair_checker__detach(skel);
	end = now_ns();
	cores_fd = bpf_map__fd(skel->maps.cores);
	for (__u32 c = 0; c < PC_MAX_CPUS; c++) {
		struct pc_core core;
		__u64 n;

		if (!watched[c])
			continue;
		if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.switches), &c, &n))
			switches += n;
		if (sib[c] < 0 || (int)c > sib[c])
			continue; /* no core state, or the core is read at its lower CPU */
		if (bpf_map_lookup_elem_flags(cores_fd, &c, &core, BPF_F_LOCK)) {
			fprintf(stderr, "pair-checker: cannot read core %u: %s\n", c,
				strerror(errno));
			continue;
		}
		/* No switch on this core since the mark: nothing it counted is from after it. */
		if (core.mark_gen != skel->bss->mark_gen)
			memset(&core, 0, sizeof(core));
		add_ovl(&cross, &core.cross, end, opt.grace_ns);
		add_ovl(&host, &core.host, end, opt.grace_ns);
		add_ovl(&vcpu_second, &core.vcpu_second, end, opt.grace_ns);
		add_ovl(&host_second, &core.host_second, end, opt.grace_ns);
		add_ticks(&vcpu_ticks, &core.vcpu_second_ticks);
		add_ticks(&host_ticks, &core.host_second_ticks);
		logv("core %u-%d: cross %llu (%llu ns, %llu short) host %llu (%llu ns, %llu short)",
		     c, sib[c], (unsigned long long)core.cross.count,
		     (unsigned long long)core.cross.ns, (unsigned long long)core.cross.short_count,
		     (unsigned long long)core.host.count, (unsigned long long)core.host.ns,
		     (unsigned long long)core.host.short_count);
	}
	read_gaps(skel, end, opt.gap_threshold_ns, &gap);
	tracked_vcpus = count_seen_vcpus();
	pair_checker__destroy(skel);

	{
		const struct result_field fields[] = {
		    {"cross_vm_overlaps", cross.count},
		    {"cross_vm_ns", cross.ns},
		    {"cross_vm_max_ns", cross.max_ns},
		    {"host_overlaps", host.count},
		    {"host_ns", host.ns},
		    {"host_max_ns", host.max_ns},
		    {"switches", switches},
		    {"tracked_vcpus", tracked_vcpus},
		    {"cross_vm_short", cross.short_count},
		    {"host_short", host.short_count},
		    {"grace_ns", opt.grace_ns},
		    {"gaps", gap.count},
		    {"gaps_over", gap.over},
		    {"gap_max_ns", gap.max_ns},
		    {"gap_max_tid", gap.max_tid},
		    {"gap_threshold_ns", opt.gap_threshold_ns},
		    {"vcpu_beside_host", vcpu_second.count},
		    {"vcpu_beside_host_ns", vcpu_second.ns},
		    {"vcpu_beside_host_max_ns", vcpu_second.max_ns},
		    {"vcpu_beside_host_short", vcpu_second.short_count},
		    {"host_beside_vcpu", host_second.count},
		    {"host_beside_vcpu_ns", host_second.ns},
		    {"host_beside_vcpu_max_ns", host_second.max_ns},
		    {"host_beside_vcpu_short", host_second.short_count},
		    {"vcpu_beside_host_left_0_timer_irqs", vcpu_ticks.none},
		    {"vcpu_beside_host_left_1_timer_irq", vcpu_ticks.one},
		    {"vcpu_beside_host_left_2_timer_irqs", vcpu_ticks.two_plus},
		    {"host_beside_vcpu_left_0_timer_irqs", host_ticks.none},
		    {"host_beside_vcpu_left_1_timer_irq", host_ticks.one},
		    {"host_beside_vcpu_left_2_timer_irqs", host_ticks.two_plus},
		};

		print_result(fields, sizeof(fields) / sizeof(fields[0]), opt.json);
	}
	return 0;
}
