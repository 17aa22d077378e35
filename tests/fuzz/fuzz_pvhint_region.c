/*
 * libFuzzer target: the guest hint region reader (vmm-sched/lib/pvhint_region.c),
 * built with ASan and UBSan (make fuzz). The input is a hostile guest: the
 * header, the first vCPU and thread slots, then pokes between ticks. Beyond not
 * crashing, a hint is only ever given by a sound region and within its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pvhint_region.h"

#define FUZZ_SLOTS 8
#define POKE_SIZE  12 /* 4 bytes of offset, 8 of value */

static _Alignas(64) unsigned char region[PVHINT_REGION_SIZE];
static struct pvhint_vm vm;
static struct pvhint_hint hints[PVHINT_MAX_VCPUS];

static void check(enum pvhint_fault f, uint32_t host_nr)
{
	const struct pvhint_header *h = (const void *)region;

	if ((unsigned int)f >= PVHINT_NR_FAULTS || vm.disabled != (f >= PVHINT_DISABLED))
		abort();
	for (uint32_t i = 0; i < PVHINT_MAX_VCPUS; i++) {
		if (!hints[i].valid) {
			if (hints[i].idle || hints[i].preempt_sen || hints[i].cs_depth)
				abort();
			continue;
		}
		if (f != PVHINT_OK || i >= h->nr_vcpus || (host_nr && h->nr_vcpus != host_nr))
			abort();
		if (hints[i].cs_depth > 2 * PVHINT_MAX_CS_DEPTH)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct pvhint_limits lim = PVHINT_LIMITS_DEFAULT;
	size_t head = sizeof(struct pvhint_header), slots = FUZZ_SLOTS * PVHINT_SLOT_SIZE;
	uint32_t host_nr;
	uint64_t now = 1000000000ull;

	if (size < 1)
		return 0;
	host_nr = data[0] % 10; /* 0: the host does not know yet */
	data++, size--;
	memset(region, 0, sizeof(region));
	pvhint_vm_reset(&vm);
	memcpy(region, data, size < head ? size : head);
	if (size > head)
		memcpy(region + PVHINT_VCPU_OFF, data + head,
		       size - head < slots ? size - head : slots);
	if (size > head + slots)
		memcpy(region + PVHINT_THREAD_OFF, data + head + slots,
		       size - head - slots < slots ? size - head - slots : slots);
	check(pvhint_scan(&vm, region, sizeof(region), host_nr, now, &lim, hints, PVHINT_MAX_VCPUS),
	      host_nr);

	for (size_t off = head + 2 * slots; off + POKE_SIZE <= size; off += POKE_SIZE) {
		uint32_t at;

		memcpy(&at, data + off, 4);
		at %= PVHINT_H2G_OFF - 8; /* the guest part */
		memcpy(region + at, data + off + 4, 8);
		now += (data[off] & 0x3f) * 1000000ull;
		check(pvhint_scan(&vm, region, sizeof(region), host_nr, now, &lim, hints,
				  PVHINT_MAX_VCPUS),
		      host_nr);
	}
	return 0;
}
