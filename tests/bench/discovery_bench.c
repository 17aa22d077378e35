/*
 * discovery-bench: the agent's cost of finding vCPU threads with N idle
 * enrolled VMs, polling (every VM rescanned from /proc every second) against
 * process events (a VM rescanned only after events about its threads, every
 * VM every --safety-rescan-s). Runs the agent's own vm_rescan() on N real
 * processes shaped like qemu (a KVM VM, T KVM vCPUs, T threads named
 * "CPU n/KVM", a few others), and the proc connector's reader on a burst of
 * thread creations. Needs root and /dev/kvm. Reports; never fails on time.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "proc_connector.h"
#include "registry.h"
#include "slot_tables.h"
#include "vcpu_threads.h"
#include "vm_discovery.h"

#define VCPUS	      4
#define OTHER_THREADS 4 /* main, call_rcu, an I/O thread, a worker: as an idle qemu */
#define SAFETY_S      30
#define BURST	      2000 /* threads created and ended for the events measure */

static struct vs_daemon d;

static int vcpu_tids[VCPUS];
static int nr_named;
static pthread_mutex_t named_lock = PTHREAD_MUTEX_INITIALIZER;

static void *idle_thread(void *arg)
{
	int i = (int)(long)arg % 100;
	char name[32];

	if (i < VCPUS)
		snprintf(name, sizeof(name), "CPU %d/KVM", i);
	else
		snprintf(name, sizeof(name), "worker-%d", i);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	pthread_mutex_lock(&named_lock);
	if (i < VCPUS)
		vcpu_tids[i] = gettid();
	nr_named++;
	pthread_mutex_unlock(&named_lock);
	pause();
	return NULL;
}

/* A process shaped like an idle qemu; writes its vCPU tids to @out, then waits. */
static void fake_vmm(int out)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm, named = 0;
	pthread_t t;

	vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
	for (int i = 0; i < VCPUS; i++)
		if (vm < 0 || ioctl(vm, KVM_CREATE_VCPU, i) < 0)
			_exit(1);
	for (long i = 0; i < VCPUS + OTHER_THREADS; i++)
		pthread_create(&t, NULL, idle_thread, (void *)i);
	while (named < VCPUS + OTHER_THREADS) {
		usleep(1000);
		pthread_mutex_lock(&named_lock);
		named = nr_named;
		pthread_mutex_unlock(&named_lock);
	}
	if (write(out, vcpu_tids, sizeof(vcpu_tids)) != sizeof(vcpu_tids))
		_exit(1);
	pause();
	_exit(0);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *short_thread(void *arg)
{
	return arg;
}

static void count_event(void *ctx, const struct vs_proc_event *ev)
{
	/* What the agent does with an event: find its VM, mark it. */
	int vm_id = registry_find_vm_by_pid(&d.reg, ev->tgid);

	if (vm_id >= 0)
		rescan_debounce_event(&d.disc.vm[vm_id], 1);
}

/* CPU ns the agent spends per process event read. */
static double ns_per_event(void)
{
	struct vs_proc_counts counts = {0};
	uint64_t spent = 0;
	char err[256];
	int fd = proc_connector_open(err, sizeof(err));

	if (fd < 0) {
		fprintf(stderr, "discovery-bench: no process events: %s\n", err);
		return -1;
	}
	for (int i = 0; i < BURST; i++) {
		pthread_t t;
		uint64_t t0;

		pthread_create(&t, NULL, short_thread, NULL);
		pthread_join(t, NULL);
		if (i % 100 == 99) {
			t0 = cpu_ns();
			proc_connector_drain(fd, count_event, NULL, &counts);
			spent += cpu_ns() - t0;
		}
	}
	proc_connector_close(fd);
	return counts.events ? (double)spent / (double)counts.events : -1;
}

static double ns_per_rescan(int nr_vms, pid_t *pids)
{
	char err[256];
	uint64_t t0, rounds = 20;

	slot_tables_free(&d);
	if (slot_tables_size(&d, VS_MAX_VMS, 4 * VS_MAX_VMS, err, sizeof(err))) {
		fprintf(stderr, "discovery-bench: %s\n", err);
		return -1;
	}
	for (int i = 0; i < nr_vms; i++) {
		int p[2], tids[VCPUS], vm_id;
		char name[32];

		if (pipe(p))
			return -1;
		pids[i] = fork();
		if (!pids[i]) {
			close(p[0]);
			fake_vmm(p[1]);
		}
		close(p[1]);
		if (read(p[0], tids, sizeof(tids)) != sizeof(tids)) {
			fprintf(stderr,
				"discovery-bench: fake VMM %d did not start (root, /dev/kvm?)\n",
				i);
			return -1;
		}
		close(p[0]);
		snprintf(name, sizeof(name), "vm%d", i);
		vm_id = registry_add_vm(&d.reg, pids[i], name, err, sizeof(err));
		if (vm_id < 0) {
			fprintf(stderr, "discovery-bench: %s\n", err);
			return -1;
		}
		d.reg.vms[vm_id].start_time = process_start_time(pids[i]);
		for (int v = 0; v < VCPUS; v++) {
			struct vs_saved_sched saved = {0};
			int slot =
			    registry_add_vcpu(&d.reg, vm_id, tids[v], v, &saved, err, sizeof(err));

			if (slot < 0) {
				fprintf(stderr, "discovery-bench: %s\n", err);
				return -1;
			}
			d.reg.vcpus[slot].start_time = thread_start_time(pids[i], tids[v]);
			d.reg.vms[vm_id].nr_vcpus++;
		}
	}
	t0 = cpu_ns();
	for (uint64_t r = 0; r < rounds; r++) {
		int vm_id;

		registry_for_each_vm(vm_id, &d.reg) vm_rescan(&d, vm_id);
	}
	return (double)(cpu_ns() - t0) / (double)(rounds * (uint64_t)nr_vms);
}

int main(int argc, char **argv)
{
	static const int sizes[] = {8, 32, 60};
	double per_event;

	if (geteuid() != 0) {
		fprintf(stderr, "discovery-bench: needs root (the proc connector, /dev/kvm)\n");
		return 77;
	}
	options_init(&d.opt);
	per_event = ns_per_event();
	printf("process events: %.0f ns of agent CPU per event read (fork, exit or comm; "
	       "%d threads created and ended)\n",
	       per_event, BURST);
	printf("%-5s %-14s %-15s %s\n", "VMs", "rescan us/VM", "poll CPU ms/s",
	       "events CPU ms/s (idle VMs: the safety rescan only)");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		pid_t pids[VS_MAX_VMS];
		int n = sizes[s];
		double per_vm = ns_per_rescan(n, pids);
		/* Idle VMs send no events: only the safety rescan remains. */
		double poll_ms = per_vm * n / 1e6, events_ms = per_vm * n / SAFETY_S / 1e6;

		for (int i = 0; i < n; i++)
			if (pids[i] > 0) {
				kill(pids[i], SIGKILL);
				waitpid(pids[i], NULL, 0);
			}
		if (per_vm < 0)
			return 1;
		printf("%-5d %-14.1f %-15.3f %.4f\n", n, per_vm / 1000, poll_ms, events_ms);
	}
	printf("(%d vCPU and %d other threads per VM; events mode: one rescan of every VM "
	       "per %d s safety period, plus %.0f ns per host process event)\n",
	       VCPUS, OTHER_THREADS, SAFETY_S, per_event);
	return 0;
}
