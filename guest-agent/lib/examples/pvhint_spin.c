// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pvhint_spin: threads contending for one pthread spinlock, each critical
 * section wrapped in pvhint_enter()/pvhint_exit(); the example of libpvhint.
 *
 *   pvhint_spin [--threads N] [--iterations K] [--work W]
 *       N threads (default 2) take the lock K times each (default 200000),
 *       doing W loop steps inside (default 200); checks the shared counter.
 *   pvhint_spin --hold SECONDS [--in-kernel]
 *       one thread takes the lock and keeps it, spinning, for SECONDS: the
 *       host then sees a critical section on whichever vCPU runs the thread.
 *       --in-kernel spins on a system call (getppid), so that most of the time
 *       is spent in the kernel rather than in user mode.
 *
 * Prints each thread's slot ("thread T slot S") and a closing line with the
 * vCPUs given back at the host's request (yields=N); exits 1 if the counter
 * is wrong or a slot still shows a critical section after it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "pvhint.h"

static pthread_spinlock_t lock;
static unsigned long counter;
static unsigned long iterations = 200000, work = 200;
static volatile unsigned long sink;

struct worker {
	pthread_t thread;
	int n;
	int slot;
	unsigned int depth_after;
};

static void *run(void *arg)
{
	struct worker *w = arg;
	int err = pvhint_thread_init();

	w->slot = pvhint_slot_index();
	if (err)
		printf("thread %d no hints: %s\n", w->n, strerror(-err));
	else
		printf("thread %d slot %d\n", w->n, w->slot);
	for (unsigned long i = 0; i < iterations; i++) {
		pvhint_enter();
		pthread_spin_lock(&lock);
		counter++;
		for (unsigned long k = 0; k < work; k++)
			sink += k;
		pthread_spin_unlock(&lock);
		pvhint_exit();
	}
	w->depth_after = pvhint_depth();
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int hold(double seconds, int in_kernel)
{
	int err = pvhint_thread_init();
	double end;

	if (err) {
		fprintf(stderr, "pvhint_spin: no hints: %s\n", strerror(-err));
		return 1;
	}
	pvhint_enter();
	pthread_spin_lock(&lock);
	printf("pvhint_spin: holding slot=%d tid=%ld depth=%u\n", pvhint_slot_index(),
	       (long)syscall(SYS_gettid), pvhint_depth());
	fflush(stdout);
	for (end = now_s() + seconds; now_s() < end;) {
		sink++;
		if (in_kernel)
			syscall(SYS_getppid);
	}
	pthread_spin_unlock(&lock);
	pvhint_exit();
	printf("pvhint_spin: released depth=%u\n", pvhint_depth());
	return pvhint_depth() != 0;
}

static unsigned long number(const char *opt, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s ? s : "", &end, 10);
	if (!s || errno || *end || end == s) {
		fprintf(stderr, "pvhint_spin: %s needs a whole number, got '%s'\n", opt,
			s ? s : "");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long nthreads = 2, hold_s = 0;
	struct worker *w;
	int bad = 0, in_kernel = 0;

	pthread_spin_init(&lock, PTHREAD_PROCESS_PRIVATE);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads"))
			nthreads = number(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "--iterations"))
			iterations = number(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "--work"))
			work = number(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "--hold"))
			hold_s = number(argv[i], argv[i + 1]), i++;
		else if (!strcmp(argv[i], "--in-kernel"))
			in_kernel = 1;
		else {
			fprintf(stderr,
				"pvhint_spin: unknown option '%s' (see the source's header)\n",
				argv[i]);
			return 2;
		}
	}
	if (hold_s)
		return hold(hold_s, in_kernel);
	if (nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "pvhint_spin: --threads %lu is outside 1..64\n", nthreads);
		return 2;
	}
	w = calloc(nthreads, sizeof(*w));
	for (unsigned long i = 0; i < nthreads; i++) {
		w[i].n = i;
		pthread_create(&w[i].thread, NULL, run, &w[i]);
	}
	for (unsigned long i = 0; i < nthreads; i++) {
		pthread_join(w[i].thread, NULL);
		bad |= w[i].depth_after != 0;
	}
	printf("pvhint_spin: threads=%lu iterations=%lu counter=%lu expected=%lu depth_after=%s "
	       "yields=%lu %s\n",
	       nthreads, iterations, counter, nthreads * iterations, bad ? "nonzero" : "0",
	       pvhint_yields(), counter == nthreads * iterations && !bad ? "ok" : "WRONG");
	free(w);
	return counter == nthreads * iterations && !bad ? 0 : 1;
}
