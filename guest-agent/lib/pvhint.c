// SPDX-License-Identifier: LGPL-2.1-or-later
/* libpvhint: per-thread critical-section hints, see pvhint.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "pvhint.h"
#include "pvhint_internal.h"
#include "pvhint_ioctl.h"
#include "pvhint_yield.h"

static int cpu_of_caller(void)
{
	return sched_getcpu(); /* the vDSO or rseq: no system call */
}

static int yield_by_driver(void);

/* The process's page of thread slots (one per open of the device). */
static pthread_mutex_t proc_lock = PTHREAD_MUTEX_INITIALIZER;
static int proc_fd = -1;
static struct pvhint_thread_slot *proc_page;
static int proc_error; /* a negative errno once opening failed: no retry */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
/* The host-to-guest slots, read-only; NULL where the driver does not map them. */
static const struct pvhint_h2g_slot *proc_h2g;
static unsigned int proc_h2g_slots;
static int (*caller_cpu)(void) = cpu_of_caller;
static int (*give_back)(void) = yield_by_driver;
static unsigned long proc_yields; /* acknowledged yields on exit */

static __thread struct pvhint_thread_slot *my_slot;
static __thread int my_index = -1;
static __thread int my_error;	       /* registration failed: calls are no-ops */
static __thread unsigned int my_depth; /* the true nesting; the slot shows at most 64 */
static __thread struct pvhint_yield_seen my_seen = PVHINT_YIELD_SEEN_NONE;

/* A forked child shares the parent's file and page: it starts over. */
static void child_after_fork(void)
{
	if (proc_page)
		munmap(proc_page, PVHINT_PAGE_SIZE);
	if (proc_h2g)
		munmap((void *)proc_h2g, PVHINT_H2G_MAP_SIZE);
	if (proc_fd >= 0)
		close(proc_fd);
	proc_page = NULL;
	proc_h2g = NULL;
	proc_h2g_slots = 0;
	proc_yields = 0;
	proc_fd = -1;
	proc_error = 0;
	my_slot = NULL;
	my_index = -1;
	my_error = 0;
	my_depth = 0;
	my_seen = PVHINT_YIELD_SEEN_NONE;
	pthread_mutex_init(&proc_lock, NULL);
}

static void install_atfork(void)
{
	pthread_atfork(NULL, NULL, child_after_fork);
}

static int open_page_locked(void)
{
	void *p;
	int fd;

	if (proc_page)
		return 0;
	if (proc_error)
		return proc_error;
	fd = open(PVHINT_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		proc_error = -errno;
		return proc_error;
	}
	p = mmap(NULL, PVHINT_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		proc_error = -errno;
		close(fd);
		return proc_error;
	}
	proc_fd = fd;
	proc_page = p;
	/* A driver without the host slots only costs the yield on exit. */
	p = mmap(NULL, PVHINT_H2G_MAP_SIZE, PROT_READ, MAP_SHARED, fd, PVHINT_H2G_MMAP_OFFSET);
	if (p != MAP_FAILED) {
		proc_h2g_slots = PVHINT_MAX_VCPUS;
		__atomic_store_n(&proc_h2g, p, __ATOMIC_RELEASE);
	}
	return 0;
}

static int yield_by_driver(void)
{
	return ioctl(proc_fd, PVHINT_IOC_YIELD);
}

int pvhint_thread_init(void)
{
	int err, idx;

	if (my_slot)
		return 0;
	if (my_error)
		return my_error;
	pthread_once(&atfork_once, install_atfork);
	pthread_mutex_lock(&proc_lock);
	err = open_page_locked();
	idx = err ? err : ioctl(proc_fd, PVHINT_IOC_REGISTER);
	if (idx < 0 && !err)
		err = -errno;
	pthread_mutex_unlock(&proc_lock);
	if (err) {
		my_error = err;
		return err;
	}
	my_index = idx;
	my_slot = &proc_page[idx % PVHINT_THREADS_PER_PAGE];
	return 0;
}

void pvhint_thread_fini(void)
{
	if (!my_slot)
		return;
	pthread_mutex_lock(&proc_lock);
	if (proc_fd >= 0)
		ioctl(proc_fd, PVHINT_IOC_UNREGISTER);
	pthread_mutex_unlock(&proc_lock);
	my_slot = NULL;
	my_index = -1;
	my_depth = 0;
}

/* The slot is only written: it may be uncached memory, where a load costs more. */
void pvhint_enter(void)
{
	struct pvhint_thread_slot *s = my_slot;

	if (__builtin_expect(!s, 0)) {
		if (my_error || pvhint_thread_init())
			return;
		s = my_slot;
	}
	if (my_depth == 0) {
		struct timespec ts;

		/* The coarse clock is read from the vDSO page even where the
		 * clocksource has no vDSO mode (no system call). */
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		__atomic_store_n(&s->since_ns, (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec,
				 __ATOMIC_RELAXED);
	}
	my_depth++;
	if (my_depth <= PVHINT_MAX_CS_DEPTH)
		__atomic_store_n(&s->depth, my_depth, __ATOMIC_RELEASE);
}

/*
 * The outermost section ended: if the host extended this vCPU's slice for it
 * and asks for the CPU back (YIELD_ON_EXIT), the driver gives it back. A
 * system call only then, once per extension the host reports.
 */
static void yield_if_asked(void)
{
	const struct pvhint_h2g_slot *h2g = __atomic_load_n(&proc_h2g, __ATOMIC_ACQUIRE);

	if (!h2g || !pvhint_yield_due(h2g, proc_h2g_slots, caller_cpu(), &my_seen))
		return;
	if (give_back() > 0)
		__atomic_fetch_add(&proc_yields, 1, __ATOMIC_RELAXED);
}

void pvhint_exit(void)
{
	struct pvhint_thread_slot *s = my_slot;

	if (!s || my_depth == 0)
		return;
	my_depth--;
	if (my_depth < PVHINT_MAX_CS_DEPTH)
		__atomic_store_n(&s->depth, my_depth, __ATOMIC_RELEASE);
	if (my_depth == 0)
		yield_if_asked();
}

int pvhint_slot_index(void)
{
	return my_slot ? my_index : -1;
}

unsigned int pvhint_depth(void)
{
	return my_slot ? __atomic_load_n(&my_slot->depth, __ATOMIC_RELAXED) : 0;
}

unsigned long pvhint_yields(void)
{
	return __atomic_load_n(&proc_yields, __ATOMIC_RELAXED);
}

void pvhint__use_h2g(const struct pvhint_h2g_slot *slots, unsigned int nr_slots, int (*cpu)(void),
		     int (*yield)(void))
{
	proc_h2g_slots = nr_slots;
	caller_cpu = cpu ? cpu : cpu_of_caller;
	give_back = yield ? yield : yield_by_driver;
	proc_yields = 0;
	my_seen = PVHINT_YIELD_SEEN_NONE;
	__atomic_store_n(&proc_h2g, slots, __ATOMIC_RELEASE);
}

void pvhint__use_slot(struct pvhint_thread_slot *slot, int index)
{
	my_slot = slot;
	my_index = index;
	my_error = 0;
	my_depth = 0;
}
