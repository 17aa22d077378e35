/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure part of libpvhint's exit path: whether the host asked the vCPU a
 * thread runs on to give its CPU back (PVHINT_H2G_YIELD_ON_EXIT) for an
 * extension this thread has not acknowledged yet. No system call.
 */
#ifndef PVHINT_YIELD_H
#define PVHINT_YIELD_H

#include <stdbool.h>
#include <stdint.h>
#include "vmm_pvhint_abi.h"

/* The last request this thread acknowledged: vCPU and its extension count. */
struct pvhint_yield_seen {
	int cpu; /* -1: none yet */
	uint64_t extensions;
};

#define PVHINT_YIELD_SEEN_NONE ((struct pvhint_yield_seen){.cpu = -1})
#define PVHINT_YIELD_SEQ_TRIES 4 /* a slot the host keeps torn gives no request */

/*
 * True if host-to-guest slot @cpu of @slots (@nr_slots of them, mapped
 * read-only) asks for a yield on exit, under a stable even seq, with no bit
 * this library does not know, the host's hints not disabled and a nonzero
 * extension count other than the one @seen holds for @cpu. Then @seen takes
 * that request (acknowledged). Anything else, garbage included, is no request.
 */
bool pvhint_yield_due(const struct pvhint_h2g_slot *slots, unsigned int nr_slots, int cpu,
		      struct pvhint_yield_seen *seen);

#endif /* PVHINT_YIELD_H */
