/*
 * A hint region writer in the test VMM (hint_writer.h). Every 10 ms it
 * publishes, by mode:
 *   benign      vCPU 0 idle; vCPU 1 in a critical section through thread
 *               slot 5 (depth 2); the rest busy, outside critical sections
 *   cs-forever  every vCPU in a critical section, always (a lying guest)
 *   payload     what each vCPU's payload says it is doing (vcpu_slot.state):
 *               idle while a duty vCPU halts, a critical section while a lock
 *               vCPU holds the lock; sampled each tick, like a guest daemon
 *               that publishes without a driver, so changes shorter than the
 *               period are missed
 *   flap        every vCPU idle, its idle_transitions counting 100 changes
 *               per write (10,000/s, five times the agent's limit): a guest
 *               flapping too fast, whose idle the agent must not believe
 *   hostile     every 2 s a new boot id and the next of: random bytes, torn
 *               writes (a seqcount left odd), wrong magic, a huge vCPU count,
 *               idle flapping, a bad ABI version
 *   guest       only the header: the payload writes its vCPU slots itself at
 *               each change (tests/testvmm/guest/hints.c), the file being
 *               guest memory too (GUEST_HINTS_GPA); no thread, no sampling
 */
#include "hint_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "guest-agent/include/vmm_pvhint_abi.h"
#include "guest_abi.h"
#include "tests/lib/xorshift.h"

#define FILE_SIZE GUEST_HINTS_SIZE
#define PERIOD_NS 10000000L

enum mode {
	MODE_BENIGN,
	MODE_CS_FOREVER,
	MODE_FLAP,
	MODE_HOSTILE,
	MODE_PAYLOAD,
	MODE_GUEST,
	NR_MODES
};
static const char *const mode_names[NR_MODES] = {"benign",  "cs-forever", "flap",
						 "hostile", "payload",	  "guest"};

enum hostile { H_RANDOM, H_TORN, H_MAGIC, H_VCPUS, H_FLAP, H_VERSION, NR_HOSTILE };

static struct {
	unsigned char *map;
	enum mode mode;
	int nr_vcpus;
	const volatile struct vcpu_slot *guest; /* the payloads' state (payload mode) */
	pthread_t thread;
	bool threaded;
	atomic_bool stop;
	uint64_t rng;
} w;

static uint64_t guest_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct pvhint_header *hdr(void)
{
	return (struct pvhint_header *)(w.map + PVHINT_HEADER_OFF);
}

static struct pvhint_vcpu_slot *slot(int i)
{
	return (struct pvhint_vcpu_slot *)(w.map + PVHINT_VCPU_SLOT_OFF((unsigned int)i));
}

static void publish_header(uint64_t boot_id)
{
	/* The payload keeps no thread slots. */
	uint32_t features = w.mode == MODE_GUEST ? PVHINT_F_IDLE | PVHINT_F_CS | PVHINT_F_HEARTBEAT
						 : PVHINT_F_KNOWN;

	hdr()->magic = 0;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*hdr() = (struct pvhint_header){.abi_version = PVHINT_ABI_VERSION,
					.nr_vcpus = (uint32_t)w.nr_vcpus,
					.features = features,
					.boot_id = boot_id,
					.nr_thread_slots = 64};
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&hdr()->magic, PVHINT_MAGIC, __ATOMIC_RELEASE);
}

/* One seqcount-protected write of vCPU @i's slot; @torn leaves it odd. */
static void write_slot(int i, uint32_t flags, uint32_t cs_depth, uint32_t cur_thread,
		       uint32_t transitions, int torn)
{
	struct pvhint_vcpu_slot *s = slot(i);
	uint64_t now = guest_now();

	/*
	 * In guest mode the payload's clock (its TSC) may run ahead of this one:
	 * the "no guest" write at the end must not look like time going back.
	 */
	if (w.mode == MODE_GUEST && now < s->now_ns)
		now = s->now_ns;

	__atomic_store_n(&s->seq, s->seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if ((flags ^ s->flags) & PVHINT_VCPU_IDLE)
		s->idle_since_ns = now;
	s->flags = flags;
	s->cs_depth = cs_depth;
	s->cs_since_ns = cs_depth ? (s->cs_since_ns ? s->cs_since_ns : now) : 0;
	s->cur_thread = cur_thread;
	s->heartbeat++;
	s->now_ns = now;
	s->idle_transitions = transitions;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (!torn)
		__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
}

static void benign_tick(void)
{
	struct pvhint_thread_slot *t = (void *)(w.map + PVHINT_THREAD_SLOT_OFF(5));

	t->flags = PVHINT_THREAD_IN_USE;
	t->depth = 2;
	for (int i = 0; i < w.nr_vcpus; i++)
		write_slot(i, PVHINT_VCPU_ONLINE | (i == 0 ? PVHINT_VCPU_IDLE : 0), 0,
			   i == 1 ? 5 : PVHINT_NO_THREAD, 0, 0);
}

/* Publishes each vCPU's payload state; @transitions: per vCPU, its idle changes. */
static void payload_tick(uint32_t *transitions)
{
	for (int i = 0; i < w.nr_vcpus && i < GUEST_MAX_VCPUS; i++) {
		uint64_t state = w.guest[i].state;
		uint32_t idle = state & GUEST_STATE_IDLE ? PVHINT_VCPU_IDLE : 0;

		if (((slot(i)->flags ^ idle) & PVHINT_VCPU_IDLE) && slot(i)->heartbeat)
			transitions[i]++;
		write_slot(i, PVHINT_VCPU_ONLINE | idle, state & GUEST_STATE_IN_LOCK ? 1 : 0,
			   PVHINT_NO_THREAD, transitions[i], 0);
	}
}

static void hostile_tick(enum hostile h, uint32_t *transitions)
{
	switch (h) {
	case H_RANDOM:
		for (size_t off = 0; off < PVHINT_THREAD_OFF; off += 8) {
			uint64_t v = xorshift64_next(&w.rng);

			memcpy(w.map + off, &v, 8);
		}
		if (xorshift64_next(&w.rng) & 1)
			hdr()->magic = PVHINT_MAGIC; /* a valid-looking start, random slots */
		return;
	case H_TORN:
		for (int i = 0; i < w.nr_vcpus; i++)
			write_slot(i, PVHINT_VCPU_ONLINE, 1, PVHINT_NO_THREAD, 0, 1);
		return;
	case H_MAGIC:
		hdr()->magic = 0x12345678;
		return;
	case H_VCPUS:
		hdr()->nr_vcpus = 0xfffffff0u;
		return;
	case H_FLAP:
		*transitions += 5000;
		for (int i = 0; i < w.nr_vcpus; i++)
			write_slot(i,
				   PVHINT_VCPU_ONLINE |
				       ((*transitions / 5000) & 1 ? PVHINT_VCPU_IDLE : 0),
				   0, PVHINT_NO_THREAD, *transitions, 0);
		return;
	case H_VERSION:
		hdr()->abi_version = PVHINT_ABI_VERSION + 7;
		return;
	case NR_HOSTILE:
		return;
	}
}

static void *writer(void *arg)
{
	struct timespec next;
	uint64_t boot_id = 1, ticks = 0;
	uint32_t transitions = 0, payload_transitions[GUEST_MAX_VCPUS] = {0};
	enum hostile h = H_RANDOM;

	(void)arg;
	publish_header(boot_id);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&w.stop)) {
		switch (w.mode) {
		case MODE_BENIGN:
			benign_tick();
			break;
		case MODE_CS_FOREVER:
			for (int i = 0; i < w.nr_vcpus; i++)
				write_slot(i, PVHINT_VCPU_ONLINE, 1, PVHINT_NO_THREAD, 0, 0);
			break;
		case MODE_FLAP:
			transitions += 100; /* even: the published state stays idle */
			for (int i = 0; i < w.nr_vcpus; i++)
				write_slot(i, PVHINT_VCPU_ONLINE | PVHINT_VCPU_IDLE, 0,
					   PVHINT_NO_THREAD, transitions, 0);
			break;
		case MODE_PAYLOAD:
			payload_tick(payload_transitions);
			break;
		case MODE_GUEST:
			break;
		case MODE_HOSTILE:
			if (ticks % 200 == 0) { /* every 2 s: a new boot, the next attack */
				memset(w.map, 0, PVHINT_H2G_OFF);
				publish_header(++boot_id);
				h = (enum hostile)((ticks / 200) % NR_HOSTILE);
				transitions = 0;
				printf("hints vm-writer mode=%d boot=%llu\n", (int)h,
				       (unsigned long long)boot_id);
			}
			hostile_tick(h, &transitions);
			break;
		case NR_MODES:
			break;
		}
		ticks++;
		next.tv_nsec += PERIOD_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

int hint_writer_mode_known(const char *mode)
{
	for (int m = 0; m < NR_MODES; m++)
		if (!strcmp(mode, mode_names[m]))
			return 1;
	return 0;
}

int hint_writer_start(const char *path, const char *mode, int nr_vcpus,
		      const volatile struct vcpu_slot *guest)
{
	int fd, m;

	for (m = 0; m < NR_MODES && strcmp(mode, mode_names[m]); m++)
		;
	if (m == NR_MODES) {
		fprintf(stderr, "testvmm: unknown hint mode '%s'\n", mode);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, FILE_SIZE)) {
		fprintf(stderr, "testvmm: hint region %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	w.map = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (w.map == MAP_FAILED) {
		fprintf(stderr, "testvmm: hint region %s: mmap: %s\n", path, strerror(errno));
		return -1;
	}
	w.mode = (enum mode)m;
	w.nr_vcpus = nr_vcpus;
	w.guest = guest;
	w.rng = 0x9e3779b97f4a7c15ull;
	atomic_store(&w.stop, false);
	if (w.mode == MODE_GUEST) {
		publish_header(1);
		return 0;
	}
	if (pthread_create(&w.thread, NULL, writer, NULL)) {
		fprintf(stderr, "testvmm: cannot start the hint writer\n");
		return -1;
	}
	w.threaded = true;
	return 0;
}

int hint_writer_in_guest(const char *mode)
{
	return !strcmp(mode, mode_names[MODE_GUEST]);
}

void *hint_writer_region(void)
{
	return w.map;
}

void hint_writer_stop(void)
{
	if (!w.map)
		return;
	atomic_store(&w.stop, true);
	if (w.threaded)
		pthread_join(w.thread, NULL);
	w.threaded = false;
	/* "No guest": every vCPU offline, then magic 0 last. */
	for (int i = 0; i < w.nr_vcpus && i < (int)PVHINT_MAX_VCPUS; i++)
		write_slot(i, 0, 0, PVHINT_NO_THREAD, slot(i)->idle_transitions, 0);
	__atomic_store_n(&hdr()->magic, 0, __ATOMIC_RELEASE);
	munmap(w.map, FILE_SIZE);
	w.map = NULL;
}
