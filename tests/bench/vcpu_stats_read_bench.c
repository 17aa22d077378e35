/*
 * Benchmark (make bench-maps, on the host, no VM; needs CAP_BPF): the share
 * plan's read of every vCPU's counters at VS_MAX_VCPUS (1,024) enrolled vCPU
 * slots, one bpf() lookup per slot (as before) against one
 * BPF_MAP_LOOKUP_BATCH over the array (sched_maps.c, as now), on an array map
 * of struct vs_vcpu_stats sized like the scheduler's vcpu_stats. Prints ns per
 * round and the ratio; nothing passes or fails on time. Exits 1 only if the
 * two reads disagree, 2 if no BPF map can be created here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "bpf/vmm_sched_abi.h"

#define ROUNDS 101 /* the median of these is reported */

static struct vs_vcpu_stats one_by_one[VS_MAX_VCPUS], batched[VS_MAX_VCPUS];
static uint32_t keys[VS_MAX_VCPUS];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int read_one_by_one(int fd, int nr)
{
	for (uint32_t slot = 0; slot < (uint32_t)nr; slot++)
		if (bpf_map_lookup_elem(fd, &slot, &one_by_one[slot]))
			return -errno;
	return 0;
}

/* As vs_maps_read_vcpu_stats_batch(): slots 0..nr in one call. */
static int read_batched(int fd, int nr)
{
	__u32 count = (__u32)nr, next;
	int err = bpf_map_lookup_batch(fd, NULL, &next, keys, batched, &count, NULL);

	if (err && err != -ENOENT)
		return err;
	return count == (__u32)nr ? 0 : -EPROTO;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median ns of ROUNDS calls of @read; 0 if one failed. */
static uint64_t median_ns(int (*read)(int, int), int fd, int nr)
{
	uint64_t t[ROUNDS];

	for (int i = 0; i < ROUNDS; i++) {
		uint64_t t0 = now_ns();

		if (read(fd, nr)) {
			fprintf(stderr, "vcpu-stats-bench: read failed: %s\n", strerror(errno));
			return 0;
		}
		t[i] = now_ns() - t0;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_u64);
	return t[ROUNDS / 2];
}

int main(void)
{
	static const int slots[] = {16, 256, VS_MAX_VCPUS};
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vcpu_stats", sizeof(uint32_t),
				sizeof(struct vs_vcpu_stats), VS_MAX_VCPUS, NULL);

	if (fd < 0) {
		fprintf(stderr,
			"vcpu-stats-bench: cannot create a BPF array map (%s): run it as root "
			"(CAP_BPF)\n",
			strerror(-fd));
		return 2;
	}
	for (uint32_t slot = 0; slot < VS_MAX_VCPUS; slot++) {
		struct vs_vcpu_stats st = {.runs = slot, .wakeups = 3 * slot, .tid = 1000 + slot};

		bpf_map_update_elem(fd, &slot, &st, 0);
	}
	printf("vCPU counters per share round (array of %d x %zu B, median of %d rounds)\n",
	       VS_MAX_VCPUS, sizeof(struct vs_vcpu_stats), ROUNDS);
	printf("| slots | one bpf() per slot, ns | one batch, ns | ratio |\n");
	printf("|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		int nr = slots[i];
		uint64_t old_ns = median_ns(read_one_by_one, fd, nr);
		uint64_t new_ns = median_ns(read_batched, fd, nr);

		if (!old_ns || !new_ns)
			return 1;
		if (memcmp(one_by_one, batched, (size_t)nr * sizeof(batched[0]))) {
			fprintf(stderr, "vcpu-stats-bench: the batched read differs from the "
					"one-by-one read\n");
			return 1;
		}
		printf("| %d | %llu | %llu | %.1fx |\n", nr, (unsigned long long)old_ns,
		       (unsigned long long)new_ns, (double)old_ns / (double)new_ns);
	}
	return 0;
}
