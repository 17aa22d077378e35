/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* For tests only: publish into a slot the test owns instead of the driver's. */
#ifndef PVHINT_INTERNAL_H
#define PVHINT_INTERNAL_H

#include "vmm_pvhint_abi.h"

void pvhint__use_slot(struct pvhint_thread_slot *slot, int index);

#endif /* PVHINT_INTERNAL_H */
