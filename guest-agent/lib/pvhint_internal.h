/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* For tests only: publish into a slot the test owns instead of the driver's. */
#ifndef PVHINT_INTERNAL_H
#define PVHINT_INTERNAL_H

#include "vmm_pvhint_abi.h"

void pvhint__use_slot(struct pvhint_thread_slot *slot, int index);
/* Host-to-guest slots to read (NULL: none), the caller's vCPU and the give-back
 * (NULL: the real ones); resets the yield count and this thread's acknowledgement. */
void pvhint__use_h2g(const struct pvhint_h2g_slot *slots, unsigned int nr_slots, int (*cpu)(void),
		     int (*yield)(void));

#endif /* PVHINT_INTERNAL_H */
