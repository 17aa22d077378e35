/*
 * batch-pair: loads the benchmark's batch-pairing baseline (batch_pair.bpf.c)
 * and moves the vCPU threads ("CPU n/KVM") of the given VMM processes into
 * SCHED_EXT. Runs until SIGTERM or SIGINT, then prints its counters and gives
 * those threads SCHED_OTHER back. With --stats FILE, each SIGUSR1 writes the
 * per-CPU forced idle so far to FILE (replaced whole, by rename).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/types.h>

#include "batch_pair.h"
#include "batch_pair.skel.h"

#define SCHED_EXT   7
#define SCHED_OTHER 0
#define MAX_VCPUS   1024

/* The threads moved into SCHED_EXT, given back to SCHED_OTHER at exit. */
static int enrolled[MAX_VCPUS];
static int nr_enrolled;

struct sched_attr_min {
	uint32_t size, sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: batch-pair [--batch-ms N] [--stats FILE] PID...\n"
	    "Gives each core to one VM (VMM process PID) at a time for batches of N ms\n"
	    "(default 20), FIFO within the VM: the benchmark's batch-pairing baseline.\n"
	    "--stats FILE: on SIGUSR1, write {\"cpus\": [{\"cpu\": N, \"forced_idle_ns\": NS}]}\n"
	    "to FILE (through FILE.tmp and a rename).\n");
}

/* The per-CPU forced idle so far, as JSON, to path (whole or not at all); -errno. */
static int write_stats(const struct batch_pair_bpf *skel, int nr_cpus, const char *path)
{
	char tmp[4096];
	FILE *f;
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "{\"cpus\": [");
	for (int cpu = 0; cpu < nr_cpus; cpu++)
		fprintf(f, "%s{\"cpu\": %d, \"forced_idle_ns\": %llu}", cpu ? ", " : "", cpu,
			(unsigned long long)__atomic_load_n(&skel->bss->forced_idle_ns[cpu],
							    __ATOMIC_RELAXED));
	fprintf(f, "]}\n");
	if (ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* The lowest CPU of cpu's core and whether cpu has a sibling; -1 if sysfs has no topology. */
static int read_siblings(int cpu, int *first, int *other)
{
	char path[128], buf[64];
	int a, b;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
		 cpu);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	if (sscanf(buf, "%d%*[-,]%d", &a, &b) == 2) {
		*first = a;
		*other = cpu == a ? b : a;
	} else if (sscanf(buf, "%d", &a) == 1) {
		*first = a;
		*other = -1;
	} else {
		return -1;
	}
	return 0;
}

static int set_topology(struct batch_pair_bpf *skel, int nr_cpus)
{
	for (int cpu = 0; cpu < nr_cpus; cpu++) {
		int first = cpu, other = -1;

		if (read_siblings(cpu, &first, &other) < 0) {
			first = cpu; /* offline or unknown: a core of its own */
			other = -1;
		}
		skel->rodata->core_of[cpu] = first;
		skel->rodata->thread_of[cpu] = cpu == first ? 0 : 1;
		skel->rodata->sibling_of[cpu] = other;
	}
	skel->rodata->nr_cpus = nr_cpus;
	return 0;
}

static bool is_vcpu_comm(const char *comm)
{
	unsigned int n;
	char tail[8];

	return sscanf(comm, "CPU %u/%7s", &n, tail) == 2 && strcmp(tail, "KVM") == 0;
}

/* SCHED_EXT for every vCPU thread of pid; returns how many, -1 on error. */
static int enrol_vcpus(int pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "batch-pair: cannot list the threads of pid %d: %s\n", pid,
			strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		struct sched_attr_min attr = {.size = sizeof(attr), .sched_policy = SCHED_EXT};
		char comm[32] = "";
		int tid = atoi(e->d_name);
		FILE *f;

		if (tid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		if (!is_vcpu_comm(comm))
			continue;
		if (nr_enrolled == MAX_VCPUS) {
			fprintf(stderr, "batch-pair: more than %d vCPU threads\n", MAX_VCPUS);
			closedir(d);
			return -1;
		}
		if (syscall(SYS_sched_setattr, tid, &attr, 0)) {
			fprintf(stderr, "batch-pair: SCHED_EXT for thread %d (%s) of pid %d: %s\n",
				tid, comm, pid, strerror(errno));
			closedir(d);
			return -1;
		}
		enrolled[nr_enrolled++] = tid;
		n++;
	}
	closedir(d);
	return n;
}

/*
 * When the scheduler unloads, the kernel runs SCHED_EXT threads in the fair
 * class but leaves their policy: the next sched_ext scheduler (vmm-schedd in
 * the benchmark's next turn) would take them over unasked. Give them back.
 */
static void restore_policies(void)
{
	for (int i = 0; i < nr_enrolled; i++) {
		struct sched_attr_min attr = {.size = sizeof(attr), .sched_policy = SCHED_OTHER};

		if (syscall(SYS_sched_setattr, enrolled[i], &attr, 0) && errno != ESRCH)
			fprintf(stderr, "batch-pair: cannot give thread %d SCHED_OTHER back: %s\n",
				enrolled[i], strerror(errno));
	}
}

int main(int argc, char **argv)
{
	struct batch_pair_bpf *skel;
	struct bpf_link *link = NULL, *switch_link = NULL;
	long batch_ms = 20;
	const char *stats_path = NULL;
	int vms = 0, vcpus = 0, status = 1, argi = 1, nr_cpus;
	sigset_t stop;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	while (argi + 1 < argc && !strncmp(argv[argi], "--", 2)) {
		if (!strcmp(argv[argi], "--batch-ms")) {
			char *end;

			batch_ms = strtol(argv[argi + 1], &end, 10);
			if (*end || batch_ms < 1 || batch_ms > 10000) {
				fprintf(stderr, "batch-pair: --batch-ms '%s' is not 1-10000\n",
					argv[argi + 1]);
				return 2;
			}
		} else if (!strcmp(argv[argi], "--stats")) {
			stats_path = argv[argi + 1];
		} else {
			fprintf(stderr, "batch-pair: unknown option '%s'\n", argv[argi]);
			usage(stderr);
			return 2;
		}
		argi += 2;
	}
	if (argi >= argc) {
		usage(stderr);
		return 2;
	}
	if (argc - argi > BP_MAX_VMS) {
		fprintf(stderr, "batch-pair: %d VMs given, at most %d\n", argc - argi, BP_MAX_VMS);
		return 2;
	}
	nr_cpus = libbpf_num_possible_cpus();
	if (nr_cpus <= 0 || nr_cpus > BP_MAX_CPUS) {
		fprintf(stderr, "batch-pair: %d possible CPUs, this build handles 1-%d\n", nr_cpus,
			BP_MAX_CPUS);
		return 2;
	}

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGUSR1);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	skel = batch_pair_bpf__open();
	if (!skel) {
		fprintf(stderr, "batch-pair: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->batch_ns = (uint64_t)batch_ms * 1000000ULL;
	set_topology(skel, nr_cpus);
	/* bpftool 7.1 cannot emit "struct_ops.s/"; init creates DSQs, which must sleep. */
	bpf_program__set_flags(skel->progs.bp_init,
			       bpf_program__flags(skel->progs.bp_init) | BPF_F_SLEEPABLE);
	if (batch_pair_bpf__load(skel)) {
		fprintf(stderr, "batch-pair: cannot load the scheduler: %s\n", strerror(errno));
		goto out;
	}
	for (int i = argi; i < argc; i++) {
		int pid = atoi(argv[i]), vm = vms;

		if (pid <= 0 || kill(pid, 0)) {
			fprintf(stderr, "batch-pair: '%s' is not a running process\n", argv[i]);
			goto out;
		}
		if (bpf_map__update_elem(skel->maps.vm_of_tgid, &pid, sizeof(pid), &vm, sizeof(vm),
					 BPF_ANY)) {
			fprintf(stderr, "batch-pair: cannot register pid %d: %s\n", pid,
				strerror(errno));
			goto out;
		}
		vms++;
	}
	/* The switch hook first: it must see every switch the scheduler causes. */
	switch_link = bpf_program__attach(skel->progs.bp_sched_switch);
	if (!switch_link) {
		fprintf(stderr, "batch-pair: cannot attach the sched_switch hook: %s\n",
			strerror(errno));
		goto out;
	}
	link = bpf_map__attach_struct_ops(skel->maps.batch_pair_ops);
	if (!link) {
		fprintf(stderr,
			"batch-pair: cannot enable the scheduler: %s (is another sched_ext "
			"scheduler loaded? see /sys/kernel/sched_ext/state)\n",
			strerror(errno));
		goto out;
	}
	for (int i = argi; i < argc; i++) {
		int n = enrol_vcpus(atoi(argv[i]));

		if (n < 0)
			goto out;
		vcpus += n;
	}
	fprintf(stderr, "batch-pair: ready vms=%d vcpus=%d batch_ms=%ld\n", vms, vcpus, batch_ms);

	for (;;) {
		struct timespec tick = {0, 200000000};
		int sig = sigtimedwait(&stop, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT) {
			status = 0;
			break;
		}
		if (sig == SIGUSR1 && stats_path) {
			int err = write_stats(skel, nr_cpus, stats_path);

			if (err)
				fprintf(stderr, "batch-pair: cannot write the stats to %s: %s\n",
					stats_path, strerror(-err));
		}
		if (__atomic_load_n(&skel->bss->exit_kind, __ATOMIC_ACQUIRE)) {
			fprintf(stderr, "batch-pair: the kernel stopped the scheduler: %s\n",
				skel->bss->exit_msg);
			break;
		}
	}
	unsigned long long forced_ns = 0;

	for (int cpu = 0; cpu < nr_cpus; cpu++)
		forced_ns += skel->bss->forced_idle_ns[cpu];
	printf(
	    "batch-pair batches=%llu drains=%llu extended=%llu overlaps=%llu switch_overlaps=%llu "
	    "unknown=%llu forced_idle_ms=%llu\n",
	    skel->bss->stats.batches, skel->bss->stats.drains, skel->bss->stats.extended,
	    skel->bss->stats.overlaps, skel->bss->stats.switch_overlaps, skel->bss->stats.unknown,
	    forced_ns / 1000000ULL);
out:
	restore_policies();
	bpf_link__destroy(link);
	bpf_link__destroy(switch_link);
	batch_pair_bpf__destroy(skel);
	return status;
}
