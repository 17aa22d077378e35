// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host's view of a hint region, for the real-guest tests.
 *
 *   pvhint_region mark FILE VCPUS [SIZE]   create FILE (SIZE bytes, default 1 MiB),
 *                                          zeroed, with the host mark the guest
 *                                          driver and daemon bind to
 *   pvhint_region ask FILE VCPU EXTENSIONS  write VCPU's host-to-guest slot as the
 *                                          agent does after EXTENSIONS extensions:
 *                                          YIELD_ON_EXIT, under its seqcount
 *   pvhint_region show FILE                print the region as key=value lines:
 *     header magic=0x.. abi=N nr_vcpus=N features=0x.. boot_id=0x.. threads=N
 *     vcpu I online=0|1 idle=0|1 cur_thread=N|-1 heartbeat=N transitions=N seq=N
 *     thread J in_use=0|1 depth=N tid=N          (slots not all zero only)
 *
 * Reads each vCPU slot under its seqcount (bounded retries; "torn" if it never
 * settles). Bounds come from vmm_pvhint_abi.h, never from the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "guest-agent/include/pvhint_host_mark.h"

static int usage(void)
{
	fprintf(stderr, "usage: pvhint_region mark FILE VCPUS [SIZE] | ask FILE VCPU EXTENSIONS | "
			"show FILE\n");
	return 2;
}

static int mark(const char *path, const char *vcpus_s, const char *size_s)
{
	unsigned long vcpus = strtoul(vcpus_s, NULL, 10);
	unsigned long size = size_s ? strtoul(size_s, NULL, 0) : 1 << 20;
	struct pvhint_host_mark m = {PVHINT_HOST_MAGIC, PVHINT_ABI_VERSION, vcpus, 0};
	int fd;

	if (vcpus < 1 || vcpus > PVHINT_MAX_VCPUS || size < PVHINT_MIN_REGION_SIZE) {
		fprintf(stderr, "pvhint_region: VCPUS must be 1..%u and SIZE at least %u\n",
			PVHINT_MAX_VCPUS, PVHINT_MIN_REGION_SIZE);
		return 2;
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, size) ||
	    pwrite(fd, &m, sizeof(m), PVHINT_HOST_MARK_OFF) != sizeof(m)) {
		fprintf(stderr, "pvhint_region: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

/* The host asks VCPU to yield when its critical section ends (pvhint_h2g_publish()'s order). */
static int ask(const char *path, const char *vcpu_s, const char *ext_s)
{
	char *end1, *end2;
	unsigned long vcpu = strtoul(vcpu_s, &end1, 10);
	unsigned long long ext = strtoull(ext_s, &end2, 10);
	struct pvhint_h2g_slot *s;
	void *map;
	int fd;

	if (*end1 || end1 == vcpu_s || vcpu >= PVHINT_MAX_VCPUS || *end2 || end2 == ext_s) {
		fprintf(stderr, "pvhint_region: VCPU must be 0..%u and EXTENSIONS a number\n",
			PVHINT_MAX_VCPUS - 1);
		return 2;
	}
	fd = open(path, O_RDWR);
	map = fd < 0 ? MAP_FAILED
		     : mmap(NULL, PVHINT_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "pvhint_region: cannot map %s: %s\n", path, strerror(errno));
		return 1;
	}
	s = (struct pvhint_h2g_slot *)((char *)map + PVHINT_H2G_SLOT_OFF(vcpu));
	__atomic_store_n(&s->seq, s->seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->flags, PVHINT_H2G_YIELD_ON_EXIT, __ATOMIC_RELAXED);
	__atomic_store_n(&s->extensions, ext, __ATOMIC_RELAXED);
	__atomic_store_n(&s->extended_ns, ext * 50000, __ATOMIC_RELAXED);
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	munmap(map, PVHINT_REGION_SIZE);
	close(fd);
	return 0;
}

static int show(const char *path)
{
	struct pvhint_header h;
	struct stat st;
	const unsigned char *r;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "pvhint_region: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (st.st_size < PVHINT_MIN_REGION_SIZE) {
		fprintf(stderr, "pvhint_region: %s is %lld bytes, smaller than a region\n", path,
			(long long)st.st_size);
		return 1;
	}
	r = mmap(NULL, PVHINT_MIN_REGION_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (r == MAP_FAILED) {
		fprintf(stderr, "pvhint_region: cannot map %s: %s\n", path, strerror(errno));
		return 1;
	}
	memcpy(&h, r + PVHINT_HEADER_OFF, sizeof(h));
	printf(
	    "header magic=0x%08x abi=%u nr_vcpus=%u features=0x%x boot_id=0x%016llx threads=%u\n",
	    h.magic, h.abi_version, h.nr_vcpus, h.features, (unsigned long long)h.boot_id,
	    h.nr_thread_slots);
	unsigned int nv = h.nr_vcpus < PVHINT_MAX_VCPUS ? h.nr_vcpus : PVHINT_MAX_VCPUS;
	for (unsigned int i = 0; i < nv; i++) {
		const struct pvhint_vcpu_slot *live = (const void *)(r + PVHINT_VCPU_SLOT_OFF(i));
		struct pvhint_vcpu_slot s;
		int tries = 0;
		unsigned int seq;

		do {
			seq = __atomic_load_n(&live->seq, __ATOMIC_ACQUIRE);
			memcpy(&s, live, sizeof(s));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
		} while ((seq & 1 || __atomic_load_n(&live->seq, __ATOMIC_RELAXED) != seq) &&
			 ++tries < 1000);
		printf("vcpu %u online=%u idle=%u cur_thread=%d heartbeat=%llu transitions=%u "
		       "seq=%u%s\n",
		       i, !!(s.flags & PVHINT_VCPU_ONLINE), !!(s.flags & PVHINT_VCPU_IDLE),
		       s.cur_thread == PVHINT_NO_THREAD ? -1 : (int)s.cur_thread,
		       (unsigned long long)s.heartbeat, s.idle_transitions, s.seq,
		       tries >= 1000 ? " torn" : "");
	}
	for (unsigned int j = 0; j < PVHINT_MAX_THREAD_SLOTS; j++) {
		struct pvhint_thread_slot t;

		memcpy(&t, r + PVHINT_THREAD_SLOT_OFF(j), sizeof(t));
		if (t.flags || t.depth || t.tid)
			printf("thread %u in_use=%u depth=%u tid=%u\n", j,
			       !!(t.flags & PVHINT_THREAD_IN_USE), t.depth, t.tid);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && argc <= 5 && !strcmp(argv[1], "mark"))
		return mark(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	if (argc == 5 && !strcmp(argv[1], "ask"))
		return ask(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "show"))
		return show(argv[2]);
	return usage();
}
