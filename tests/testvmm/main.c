/*
 * testvmm: a minimal KVM VMM for the scheduler's tests. One VM, N vCPU threads
 * named like qemu's, a payload chosen on the command line, and machine-readable
 * progress lines on stdout.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "hint_writer.h"
#include "options.h"
#include "tsc.h"
#include "vcpu.h"
#include "vm.h"
#include "wake_report.h"

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC  1000000000ULL

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static uint64_t read_counter(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void print_progress(const char *name, struct vcpu *vcpus, int n)
{
	for (int i = 0; i < n; i++) {
		const struct vcpu_slot *s = vcpus[i].slot;

		printf("progress vm=%s vcpu=%d tid=%d units=%" PRIu64 " halts=%" PRIu64
		       " spin_cycles=%" PRIu64 " acq=%" PRIu64 " yields=%" PRIu64 "\n",
		       name, i, (int)vcpus[i].tid, read_counter(&s->units), read_counter(&s->halts),
		       read_counter(&s->spin_cycles), read_counter(&s->acquisitions),
		       read_counter(&s->yields));
	}
}

/* Print progress every interval until the duration passes, a signal asks to stop, or a vCPU fails.
 */
static int supervise(const struct options *opts, struct vcpu_control *ctl, struct vcpu *vcpus,
		     struct wake_mark *marks, uint64_t tsc_khz)
{
	uint64_t start = monotonic_ns();
	uint64_t interval = opts->interval_ms * NSEC_PER_MSEC;
	uint64_t deadline = opts->duration_s ? start + opts->duration_s * NSEC_PER_SEC : UINT64_MAX;
	uint64_t next = start + interval;
	sigset_t wake;

	sigemptyset(&wake);
	sigaddset(&wake, SIGTERM);
	sigaddset(&wake, SIGINT);
	sigaddset(&wake, SIGNAL_VCPU_FAILED);
	sigaddset(&wake, SIGNAL_HIST_MARK);
	for (;;) {
		uint64_t now = monotonic_ns(), until;
		struct timespec timeout;
		int sig;

		if (atomic_load(&ctl->failed))
			return -1;
		if (now >= deadline)
			return 0;
		if (now >= next) {
			print_progress(opts->name, vcpus, opts->vcpus);
			if (opts->payload == PAYLOAD_DUTY)
				wake_report_print(opts->name, vcpus, marks, opts->vcpus, tsc_khz);
			next += interval;
			if (next <= now)
				next = now + interval;
			continue;
		}
		until = next < deadline ? next : deadline;
		timeout.tv_sec = (until - now) / NSEC_PER_SEC;
		timeout.tv_nsec = (until - now) % NSEC_PER_SEC;
		sig = sigtimedwait(&wake, NULL, &timeout);
		if (sig == SIGTERM || sig == SIGINT)
			return 0;
		if (sig == SIGNAL_HIST_MARK) {
			wake_report_mark(vcpus, marks, opts->vcpus);
			printf("marked vm=%s\n", opts->name);
		}
	}
}

static void block_signals(void)
{
	sigset_t set;

	/* Threads inherit this; vCPU threads unblock only their kick signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGNAL_VCPU_KICK);
	sigaddset(&set, SIGNAL_VCPU_FAILED);
	sigaddset(&set, SIGNAL_VM_RESUME);
	sigaddset(&set, SIGNAL_HIST_MARK);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void configure_guest(const struct options *opts, struct vcpu *vcpus, uint64_t khz)
{
	for (int i = 0; i < opts->vcpus; i++) {
		vcpus[i].slot->config = (struct guest_config){
		    .payload = opts->payload,
		    .nr_vcpus = (uint32_t)opts->vcpus,
		    .run_us = opts->run_us,
		    .block_us = opts->block_us,
		    .hold_us = opts->hold_us,
		    .tsc_khz = khz,
		    .hints_in_guest =
			opts->hints && opts->hints_mode && hint_writer_in_guest(opts->hints_mode),
		};
	}
}

/* Paused start: hold the vCPUs outside the guest until resumed or stopped. */
static void wait_for_resume(const struct options *opts, struct vcpu_control *ctl)
{
	sigset_t wake;
	int sig = 0;

	sigemptyset(&wake);
	sigaddset(&wake, SIGNAL_VM_RESUME);
	sigaddset(&wake, SIGTERM);
	sigaddset(&wake, SIGINT);
	printf("paused vm=%s\n", opts->name);
	sigwait(&wake, &sig);
	if (sig != SIGNAL_VM_RESUME)
		atomic_store(&ctl->stop, true);
	else
		printf("resumed vm=%s\n", opts->name);
}

/* Start the vCPU threads, announce them, and supervise until told to stop. */
static int run_vcpus(const struct options *opts, struct vcpu_control *ctl, struct vcpu *vcpus,
		     uint64_t tsc_khz)
{
	struct wake_mark *marks =
	    calloc((size_t)(opts->vcpus > 0 ? opts->vcpus : 1), sizeof(*marks));
	int status;

	if (!marks) {
		fprintf(stderr, "testvmm: out of memory for %d histogram marks\n", opts->vcpus);
		return -1;
	}
	for (int i = 0; i < opts->vcpus; i++) {
		/* A half-started VM never passes the barrier; exiting ends its threads. */
		if (vcpu_start(&vcpus[i]) < 0)
			exit(1);
	}
	pthread_barrier_wait(&ctl->named);
	for (int i = 0; i < opts->vcpus; i++)
		printf("vcpu vm=%s index=%d tid=%d\n", opts->name, i, (int)vcpus[i].tid);
	/* spin_cycles are guest TSC cycles; this converts them to time. */
	printf("info vm=%s tsc_khz=%" PRIu64 "\n", opts->name, tsc_khz);
	printf("ready vm=%s pid=%d vcpus=%d\n", opts->name, (int)getpid(), opts->vcpus);
	if (opts->start_paused)
		wait_for_resume(opts, ctl);
	pthread_barrier_wait(&ctl->go);

	status = atomic_load(&ctl->stop) ? 0 : supervise(opts, ctl, vcpus, marks, tsc_khz);

	atomic_store(&ctl->stop, true);
	for (int i = 0; i < opts->vcpus; i++)
		vcpu_kick(&vcpus[i]);
	for (int i = 0; i < opts->vcpus; i++)
		vcpu_join(&vcpus[i]);
	if (atomic_load(&ctl->failed))
		status = -1;
	print_progress(opts->name, vcpus, opts->vcpus);
	if (opts->payload == PAYLOAD_DUTY)
		wake_report_print(opts->name, vcpus, marks, opts->vcpus, tsc_khz);
	free(marks);
	printf("exit vm=%s status=%s\n", opts->name, status ? "error" : "ok");
	return status;
}

int main(int argc, char **argv)
{
	struct vcpu_control ctl = {0};
	struct options opts;
	struct vcpu *vcpus = NULL;
	struct vm vm;
	uint64_t khz;
	int created = 0, status = -1;

	switch (options_parse(&opts, argc, argv)) {
	case OPTIONS_HELP:
		return 0;
	case OPTIONS_ERROR:
		return 2;
	case OPTIONS_OK:
		break;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	block_signals();
	vcpu_signals_init();
	ctl.vm_name = opts.name;
	ctl.supervisor = pthread_self();
	pthread_barrier_init(&ctl.named, NULL, opts.vcpus + 1);
	pthread_barrier_init(&ctl.go, NULL, opts.vcpus + 1);

	if (vm_create(&vm) < 0)
		goto out;
	vcpus = calloc(opts.vcpus, sizeof(*vcpus));
	if (!vcpus)
		goto out;
	for (; created < opts.vcpus; created++) {
		if (vcpu_create(&vcpus[created], &vm, &ctl, created) < 0)
			goto out;
	}
	khz = tsc_khz(vcpus[0].fd);
	configure_guest(&opts, vcpus, khz);
	if (opts.hints &&
	    hint_writer_start(opts.hints, opts.hints_mode ? opts.hints_mode : "benign", opts.vcpus,
			      vm_shared(&vm)->slots))
		goto out;
	if (vcpus[0].slot->config.hints_in_guest &&
	    vm_add_hint_memory(&vm, hint_writer_region()) < 0)
		goto out;
	status = run_vcpus(&opts, &ctl, vcpus, khz);
	hint_writer_stop();
out:
	for (int i = 0; i < created; i++)
		vcpu_destroy(&vcpus[i]);
	free(vcpus);
	vm_destroy(&vm);
	pthread_barrier_destroy(&ctl.named);
	pthread_barrier_destroy(&ctl.go);
	return status ? 1 : 0;
}
