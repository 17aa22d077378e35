// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvhint-guestd: publishes per-vCPU idle hints and a heartbeat for guests
 * without the vmm_pvhint driver. Maps BAR2 of the ivshmem-plain device that
 * carries the host mark through sysfs resource2, and every interval derives
 * each CPU's idle state from /proc/stat (idle + iowait share of the interval).
 *
 *   pvhint-guestd [--interval-ms N] [--idle-threshold PCT] [--device BDF]
 *
 * --interval-ms: publish period, 10..10000 (default 100); --idle-threshold: a
 * CPU idle for at least PCT percent of the interval counts as idle (default 90);
 * --device: the PCI address (e.g. 0000:00:02.0), default the first
 * 1af4:1110 device with the mark. SIGTERM or SIGINT leave the region in the
 * "no guest" state (no vCPU online, magic 0) and exit 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "pvhint_host_mark.h"
#include "procstat_idle.h"

#define SYSFS_PCI "/sys/bus/pci/devices"

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	stop = 1;
}

static unsigned long opt_number(const char *opt, const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s ? s : "", &end, 10);
	if (!s || errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "pvhint-guestd: %s needs a whole number in %lu..%lu, got '%s'\n",
			opt, lo, hi, s ? s : "");
		exit(2);
	}
	return v;
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int is_ivshmem(const char *bdf)
{
	char path[PATH_MAX], v[32], d[32];

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/vendor", bdf);
	if (read_small(path, v, sizeof(v)))
		return 0;
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/device", bdf);
	if (read_small(path, d, sizeof(d)))
		return 0;
	return strtoul(v, NULL, 16) == PVHINT_PCI_VENDOR &&
	       strtoul(d, NULL, 16) == PVHINT_PCI_DEVICE;
}

/* Maps BAR2 of bdf read-write if it carries the host mark; NULL with a reason. */
static void *map_bar2(const char *bdf, size_t *len, char *why, size_t whylen)
{
	char path[PATH_MAX], drv[PATH_MAX];
	const struct pvhint_host_mark *m;
	struct stat st;
	void *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/enable", bdf);
	fd = open(path, O_WRONLY);
	if (fd >= 0) { /* memory decoding on; harmless if it already was */
		if (write(fd, "1", 1) < 0) {
		}
		close(fd);
	}
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource2", bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(why, whylen, "cannot open %.300s: %s", path, strerror(errno));
		return NULL;
	}
	if (st.st_size < (off_t)PVHINT_MIN_REGION_SIZE) {
		snprintf(why, whylen, "BAR2 is %lld bytes, smaller than a hint region",
			 (long long)st.st_size);
		close(fd);
		return NULL;
	}
	p = mmap(NULL, PVHINT_MIN_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		int e = errno;

		snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", bdf);
		n = readlink(path, drv, sizeof(drv) - 1);
		drv[n > 0 ? n : 0] = '\0';
		snprintf(why, whylen, "cannot map BAR2: %s%s%s", strerror(e),
			 n > 0 ? "; the device is bound to driver " : "",
			 n > 0 ? strrchr(drv, '/') + 1 : "");
		return NULL;
	}
	m = (const void *)((const char *)p + PVHINT_HOST_MARK_OFF);
	if (m->magic != PVHINT_HOST_MAGIC || m->abi_version != PVHINT_ABI_VERSION) {
		snprintf(why, whylen,
			 "BAR2 carries no vmm-sched host mark (another ivshmem user's)");
		munmap(p, PVHINT_MIN_REGION_SIZE);
		return NULL;
	}
	*len = PVHINT_MIN_REGION_SIZE;
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void slot_begin(struct pvhint_vcpu_slot *s)
{
	__atomic_store_n(&s->seq, s->seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void slot_end(struct pvhint_vcpu_slot *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	unsigned long interval_ms = 100, threshold = 90;
	const char *want = NULL;
	char why[512] = "no 1af4:1110 (ivshmem-plain) device under " SYSFS_PCI, bdf[64] = "";
	static char stat_text[1 << 16];
	struct cpu_times *prev, *cur;
	struct pvhint_header *h;
	unsigned char *region = NULL;
	unsigned int nr;
	size_t len = 0;
	uint64_t boot_id = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interval-ms"))
			interval_ms = opt_number(argv[i], argv[i + 1], 10, 10000), i++;
		else if (!strcmp(argv[i], "--idle-threshold"))
			threshold = opt_number(argv[i], argv[i + 1], 1, 100), i++;
		else if (!strcmp(argv[i], "--device") && i + 1 < argc)
			want = argv[++i];
		else {
			fprintf(stderr,
				"pvhint-guestd: unknown option '%s'; usage: pvhint-guestd "
				"[--interval-ms N] [--idle-threshold PCT] [--device BDF]\n",
				argv[i]);
			return 2;
		}
	}
	if (want) {
		if (strlen(want) >= 64 || strchr(want, '/') || !is_ivshmem(want)) {
			fprintf(stderr,
				"pvhint-guestd: %s is not an ivshmem-plain (1af4:1110) device\n",
				want);
			return 1;
		}
		snprintf(bdf, sizeof(bdf), "%.63s", want);
		region = map_bar2(bdf, &len, why, sizeof(why));
	} else {
		DIR *d = opendir(SYSFS_PCI);
		struct dirent *e;

		while (d && !region && (e = readdir(d))) {
			if (e->d_name[0] == '.' || !is_ivshmem(e->d_name))
				continue;
			snprintf(bdf, sizeof(bdf), "%.63s", e->d_name);
			region = map_bar2(bdf, &len, why, sizeof(why));
		}
		if (d)
			closedir(d);
	}
	if (!region) {
		fprintf(stderr, "pvhint-guestd: %s%s%s\n", bdf[0] ? bdf : "", bdf[0] ? ": " : "",
			why);
		return 1;
	}

	long conf = sysconf(_SC_NPROCESSORS_CONF);
	nr = conf < 1 ? 1 : conf > (long)PVHINT_MAX_VCPUS ? PVHINT_MAX_VCPUS : (unsigned int)conf;
	prev = calloc(nr, sizeof(*prev));
	cur = calloc(nr, sizeof(*cur));
	while (!boot_id)
		if (getrandom(&boot_id, sizeof(boot_id), 0) != sizeof(boot_id))
			boot_id = now_ns() ^ ((uint64_t)getpid() << 32);

	h = (void *)(region + PVHINT_HEADER_OFF);
	__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
	h->abi_version = PVHINT_ABI_VERSION;
	h->nr_vcpus = nr;
	h->features = PVHINT_F_IDLE | PVHINT_F_HEARTBEAT;
	h->boot_id = boot_id;
	h->nr_thread_slots = 0;
	h->reserved0 = 0;
	memset(h->reserved, 0, sizeof(h->reserved));
	for (unsigned int i = 0; i < nr; i++) {
		struct pvhint_vcpu_slot *s = (void *)(region + PVHINT_VCPU_SLOT_OFF(i));

		slot_begin(s);
		s->flags = 0;
		s->idle_since_ns = s->now_ns = now_ns();
		s->cs_depth = 0;
		s->cur_thread = PVHINT_NO_THREAD;
		s->cs_since_ns = 0;
		s->heartbeat = 0;
		s->idle_transitions = 0;
		slot_end(s);
	}
	__atomic_store_n(&h->magic, PVHINT_MAGIC, __ATOMIC_RELEASE);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr,
		"pvhint-guestd: publishing idle of %u vCPUs from /proc/stat every %lu ms on %s\n",
		nr, interval_ms, bdf);
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int first = 1; !stop; first = 0) {
		int n = -1;

		if (read_small("/proc/stat", stat_text, sizeof(stat_text)) == 0)
			n = procstat_parse(stat_text, cur, nr);
		if (n < 0)
			fprintf(stderr, "pvhint-guestd: cannot read or parse /proc/stat; keeping "
					"the last state\n");
		for (unsigned int i = 0; n >= 0 && i < nr; i++) {
			struct pvhint_vcpu_slot *s = (void *)(region + PVHINT_VCPU_SLOT_OFF(i));
			uint32_t flags = s->flags;
			bool was = flags & PVHINT_VCPU_IDLE;
			bool idle =
			    first ? false : procstat_idle(&prev[i], &cur[i], threshold, was);
			uint64_t t = now_ns();

			slot_begin(s);
			flags = cur[i].present ? flags | PVHINT_VCPU_ONLINE
					       : flags & ~PVHINT_VCPU_ONLINE;
			if (idle != was) {
				flags ^= PVHINT_VCPU_IDLE;
				s->idle_since_ns = t;
				s->idle_transitions++;
			}
			s->flags = flags;
			s->heartbeat++;
			s->now_ns = t;
			slot_end(s);
		}
		if (n >= 0)
			memcpy(prev, cur, sizeof(*cur) * nr);
		next.tv_nsec += (long)(interval_ms % 1000) * 1000000;
		next.tv_sec += interval_ms / 1000 + next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		while (!stop &&
		       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}

	for (unsigned int i = 0; i < nr; i++) {
		struct pvhint_vcpu_slot *s = (void *)(region + PVHINT_VCPU_SLOT_OFF(i));

		slot_begin(s);
		s->flags = 0;
		s->now_ns = now_ns();
		slot_end(s);
	}
	__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
	munmap(region, len);
	fprintf(stderr, "pvhint-guestd: stopped; the region says 'no guest'\n");
	return 0;
}
