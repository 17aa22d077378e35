/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * How the guest recognises a region meant for hints. The header's magic is the
 * guest's to write (0 = no guest), so it cannot tell our ivshmem device from
 * another user's. The host stamps this mark right after the ABI's region, in
 * the host-written part, when it creates the backing file; the guest driver and
 * daemon bind only a BAR2 that carries it. Proposed for vmm_pvhint_abi.h.
 */
#ifndef PVHINT_HOST_MARK_H
#define PVHINT_HOST_MARK_H

#include "vmm_pvhint_abi.h"

#define PVHINT_HOST_MARK_OFF   PVHINT_REGION_SIZE /* 0x24000, host-written */
#define PVHINT_HOST_MAGIC      0x48485650u	  /* "PVHH" in memory */
#define PVHINT_HOST_MARK_SIZE  16u
#define PVHINT_MIN_REGION_SIZE (PVHINT_HOST_MARK_OFF + PVHINT_HOST_MARK_SIZE)

struct pvhint_host_mark {
	__u32 magic;	   /* PVHINT_HOST_MAGIC */
	__u32 abi_version; /* PVHINT_ABI_VERSION the host speaks */
	__u32 nr_vcpus;	   /* the host's vCPU count for the VM (informative) */
	__u32 reserved;
};

PVHINT_STATIC_ASSERT(sizeof(struct pvhint_host_mark) == PVHINT_HOST_MARK_SIZE, "host mark size");
PVHINT_STATIC_ASSERT(PVHINT_HOST_MARK_OFF % PVHINT_PAGE_SIZE == 0, "host mark starts a page");

#endif /* PVHINT_HOST_MARK_H */
