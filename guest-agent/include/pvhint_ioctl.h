/* SPDX-License-Identifier: GPL-2.0-only OR LGPL-2.1-or-later */
/*
 * The guest driver's character device (/dev/vmm_pvhint), as libpvhint uses it.
 * Guest-internal: the host never sees it (the host ABI is vmm_pvhint_abi.h).
 *
 * open()   gives the process one page of PVHINT_THREADS_PER_PAGE thread slots;
 * mmap()   of offset 0, one page, read-write, maps that page;
 * PVHINT_IOC_REGISTER  takes a free slot of the page for the calling thread
 *          and returns its index in the region (its place in the page is the
 *          index modulo PVHINT_THREADS_PER_PAGE); the driver then names that
 *          index in cur_thread of whichever vCPU runs the thread;
 * PVHINT_IOC_UNREGISTER gives the calling thread's slot back (also done when
 *          the thread exits or the file is closed).
 * mmap()   of offset PVHINT_H2G_MMAP_OFFSET, PVHINT_H2G_MAP_SIZE bytes,
 *          read-only, maps the host-to-guest slots (one per vCPU);
 * PVHINT_IOC_YIELD     at the end of a critical section: if the host's slot
 *          of the vCPU running the caller says YIELD_ON_EXIT for an extension
 *          not acknowledged on that vCPU yet, acknowledges it and gives the
 *          vCPU back to the host (docs/guest-abi.md, "Yield on exit");
 *          returns 1 if it acknowledged one, else 0.
 */
#ifndef PVHINT_IOCTL_H
#define PVHINT_IOCTL_H

#include <linux/ioctl.h>
#include "vmm_pvhint_abi.h"

#define PVHINT_DEVICE_PATH    "/dev/vmm_pvhint"
#define PVHINT_IOC_MAGIC      'p'
#define PVHINT_IOC_REGISTER   _IO(PVHINT_IOC_MAGIC, 1)
#define PVHINT_IOC_UNREGISTER _IO(PVHINT_IOC_MAGIC, 2)
#define PVHINT_IOC_YIELD      _IO(PVHINT_IOC_MAGIC, 3)

#define PVHINT_H2G_MMAP_OFFSET 4096u /* the page after the thread page */
#define PVHINT_H2G_MAP_SIZE    (PVHINT_MAX_VCPUS * PVHINT_SLOT_SIZE) /* 4 pages */

#endif /* PVHINT_IOCTL_H */
