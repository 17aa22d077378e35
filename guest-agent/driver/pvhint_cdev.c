// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/vmm_pvhint (pvhint_ioctl.h): each open file owns one page of thread
 * slots, mapped into the process, so a process writes only its own slots; the
 * host-to-guest slots are mapped read-only to any process.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include "pvhint_drv.h"
#include "pvhint_ioctl.h"

struct pvhint_file {
	unsigned int page;
};

static DEFINE_MUTEX(cdev_lock); /* pages_used, and pvhint against removal */
static DECLARE_BITMAP(pages_used, PVHINT_THREAD_PAGES);
static bool cdev_live;

static void clear_page_slots(unsigned int page)
{
	memset(pvhint->region + PVHINT_THREAD_SLOT_OFF(page * PVHINT_THREADS_PER_PAGE), 0,
	       PVHINT_PAGE_SIZE);
}

static int pvhint_open(struct inode *inode, struct file *file)
{
	struct pvhint_file *f;
	unsigned int page;
	int err = 0;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_lock(&cdev_lock);
	page = find_first_zero_bit(pages_used, PVHINT_THREAD_PAGES);
	if (!cdev_live)
		err = -ENODEV;
	else if (page >= PVHINT_THREAD_PAGES)
		err = -ENOSPC; /* 16 processes use hints already */
	if (!err) {
		set_bit(page, pages_used);
		clear_page_slots(page);
		f->page = page;
		file->private_data = f;
	}
	mutex_unlock(&cdev_lock);
	if (err)
		kfree(f);
	return err;
}

static int pvhint_release(struct inode *inode, struct file *file)
{
	struct pvhint_file *f = file->private_data;

	mutex_lock(&cdev_lock);
	if (cdev_live) {
		pvhint_threads_release(f);
		clear_page_slots(f->page);
		clear_bit(f->page, pages_used);
	}
	mutex_unlock(&cdev_lock);
	kfree(f);
	return 0;
}

/* The host's slots, read-only: the exit path reads its vCPU's YIELD_ON_EXIT. */
static int map_h2g(struct vm_area_struct *vma)
{
	int err = -ENODEV;

	if (vma->vm_end - vma->vm_start != PVHINT_H2G_MAP_SIZE || (vma->vm_flags & VM_WRITE))
		return -EINVAL;
	mutex_lock(&cdev_lock);
	if (cdev_live) {
		vma->vm_flags &= ~VM_MAYWRITE;
		vma->vm_flags |= VM_IO | VM_DONTEXPAND | VM_DONTDUMP;
		err = io_remap_pfn_range(vma, vma->vm_start,
					 (pvhint->phys + PVHINT_H2G_OFF) >> PAGE_SHIFT,
					 PVHINT_H2G_MAP_SIZE, vma->vm_page_prot);
	}
	mutex_unlock(&cdev_lock);
	return err;
}

static int pvhint_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct pvhint_file *f = file->private_data;
	unsigned long pfn;
	int err = -ENODEV;

	if (vma->vm_pgoff == PVHINT_H2G_MMAP_OFFSET >> PAGE_SHIFT)
		return map_h2g(vma);
	if (vma->vm_pgoff != 0 || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL; /* one page, at offset 0 */
	mutex_lock(&cdev_lock);
	if (cdev_live) {
		pfn = (pvhint->phys + PVHINT_THREAD_SLOT_OFF(f->page * PVHINT_THREADS_PER_PAGE)) >>
		      PAGE_SHIFT;
		vma->vm_flags |= VM_IO | VM_DONTEXPAND | VM_DONTDUMP;
		err = io_remap_pfn_range(vma, vma->vm_start, pfn, PAGE_SIZE, vma->vm_page_prot);
	}
	mutex_unlock(&cdev_lock);
	return err;
}

static long pvhint_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pvhint_file *f = file->private_data;
	long ret = -ENODEV;

	mutex_lock(&cdev_lock);
	if (cdev_live) {
		switch (cmd) {
		case PVHINT_IOC_REGISTER:
			ret = pvhint_thread_register(f, f->page);
			break;
		case PVHINT_IOC_UNREGISTER:
			ret = pvhint_thread_unregister(f);
			break;
		case PVHINT_IOC_YIELD:
			ret = pvhint_yield_on_exit();
			break;
		default:
			ret = -ENOTTY;
		}
	}
	mutex_unlock(&cdev_lock);
	return ret;
}

static const struct file_operations pvhint_fops = {
    .owner = THIS_MODULE,
    .open = pvhint_open,
    .release = pvhint_release,
    .mmap = pvhint_mmap,
    .unlocked_ioctl = pvhint_ioctl,
    .llseek = noop_llseek,
};

static struct miscdevice pvhint_misc = {
    .minor = MISC_DYNAMIC_MINOR,
    .name = "vmm_pvhint",
    .fops = &pvhint_fops,
    .mode = 0666,
};

int pvhint_cdev_start(void)
{
	BUILD_BUG_ON(PAGE_SIZE != PVHINT_PAGE_SIZE);
	mutex_lock(&cdev_lock);
	cdev_live = true;
	bitmap_zero(pages_used, PVHINT_THREAD_PAGES);
	mutex_unlock(&cdev_lock);
	return misc_register(&pvhint_misc);
}

/* Open files keep the module but not the device: they get -ENODEV from here on. */
void pvhint_cdev_stop(void)
{
	misc_deregister(&pvhint_misc);
	mutex_lock(&cdev_lock);
	cdev_live = false;
	mutex_unlock(&cdev_lock);
}
