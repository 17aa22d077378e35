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
 */
#ifndef PVHINT_IOCTL_H
#define PVHINT_IOCTL_H

#include <linux/ioctl.h>

#define PVHINT_DEVICE_PATH    "/dev/vmm_pvhint"
#define PVHINT_IOC_MAGIC      'p'
#define PVHINT_IOC_REGISTER   _IO(PVHINT_IOC_MAGIC, 1)
#define PVHINT_IOC_UNREGISTER _IO(PVHINT_IOC_MAGIC, 2)

#endif /* PVHINT_IOCTL_H */
