// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmm_pvhint: publishes paravirtual scheduling hints (per-vCPU idle state,
 * the registered application thread each vCPU runs, a heartbeat) into the
 * region vmm-schedd reads on the host: BAR2 of an ivshmem-plain device
 * (1af4:1110) that carries the host's mark (pvhint_host_mark.h). Any other
 * ivshmem device is left alone. Layout: vmm_pvhint_abi.h, docs/guest-abi.md.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/io.h>
#include <linux/random.h>
#include <linux/tracepoint.h>
#include "pvhint_drv.h"

struct pvhint_dev *pvhint;

struct tp_lookup {
	const char *name;
	struct tracepoint *found;
};

static void tp_match(struct tracepoint *tp, void *priv)
{
	struct tp_lookup *l = priv;

	if (!strcmp(tp->name, l->name))
		l->found = tp;
}

struct tracepoint *pvhint_find_tracepoint(const char *name)
{
	struct tp_lookup l = {.name = name};

	for_each_kernel_tracepoint(tp_match, &l);
	return l.found;
}

static bool carries_host_mark(void *region)
{
	const struct pvhint_host_mark *m = region + PVHINT_HOST_MARK_OFF;

	return READ_ONCE(m->magic) == PVHINT_HOST_MAGIC &&
	       READ_ONCE(m->abi_version) == PVHINT_ABI_VERSION;
}

/* Everything but the magic first; the magic last says "a guest publishes". */
static void header_start(void)
{
	struct pvhint_header *h = pvhint_hdr();
	u64 boot_id;

	WRITE_ONCE(h->magic, 0);
	smp_wmb();
	do
		boot_id = get_random_u64();
	while (!boot_id);
	h->abi_version = PVHINT_ABI_VERSION;
	h->nr_vcpus = pvhint->nr_vcpus;
	h->features = PVHINT_F_IDLE | PVHINT_F_CS | PVHINT_F_THREAD_SLOTS | PVHINT_F_HEARTBEAT;
	h->boot_id = boot_id;
	h->nr_thread_slots = pvhint->nr_threads;
	h->reserved0 = 0;
	memset(h->reserved, 0, sizeof(h->reserved));
	memset(pvhint->region + PVHINT_THREAD_OFF, 0,
	       (size_t)PVHINT_MAX_THREAD_SLOTS * PVHINT_SLOT_SIZE);
}

static int pvhint_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pvhint_dev *d;
	resource_size_t len;
	int err;

	if (pvhint)
		return -EBUSY; /* one region per VM */
	err = pcim_enable_device(pdev);
	if (err)
		return err;
	len = pci_resource_len(pdev, 2);
	if (!(pci_resource_flags(pdev, 2) & IORESOURCE_MEM) || len < PVHINT_MIN_REGION_SIZE) {
		dev_info(&pdev->dev, "BAR2 (%llu bytes) is too small for hints: not ours\n",
			 (unsigned long long)len);
		return -ENODEV;
	}
	d = devm_kzalloc(&pdev->dev, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	/* Claims the BAR (released on detach: the device is managed) and maps it
	 * once, write-back where the MTRRs allow (under SeaBIOS the PCI hole is
	 * uncacheable: UC-, strongly ordered); user mappings follow that type. */
	err = pci_request_region(pdev, 2, "vmm_pvhint");
	if (err)
		return err;
	d->pdev = pdev;
	d->phys = pci_resource_start(pdev, 2);
	d->region = devm_memremap(&pdev->dev, d->phys, PVHINT_MIN_REGION_SIZE, MEMREMAP_WB);
	if (IS_ERR(d->region))
		return PTR_ERR(d->region);
	if (!carries_host_mark(d->region)) {
		dev_notice(
		    &pdev->dev,
		    "BAR2 carries no vmm-sched host mark: another ivshmem user's, left alone\n");
		return -ENODEV;
	}
	d->nr_vcpus = min_t(unsigned int, nr_cpu_ids, PVHINT_MAX_VCPUS);
	d->nr_threads = PVHINT_MAX_THREAD_SLOTS;
	pvhint = d;
	header_start();

	err = pvhint_threads_start();
	if (err)
		goto out;
	err = pvhint_publish_start();
	if (err)
		goto out_threads;
	err = pvhint_cdev_start();
	if (err)
		goto out_publish;
	smp_wmb();
	WRITE_ONCE(pvhint_hdr()->magic, PVHINT_MAGIC);
	dev_notice(&pdev->dev, "publishing hints for %u vCPUs (boot id %016llx)\n", d->nr_vcpus,
		   (unsigned long long)pvhint_hdr()->boot_id);
	return 0;

out_publish:
	pvhint_publish_stop();
out_threads:
	pvhint_threads_stop();
out:
	pvhint = NULL;
	return err;
}

/* The defined "no guest" state: no vCPU online, no thread slot, magic 0 last. */
static void pvhint_remove(struct pci_dev *pdev)
{
	pvhint_cdev_stop();
	pvhint_publish_stop(); /* clears ONLINE in every vCPU slot */
	pvhint_threads_stop();
	memset(pvhint->region + PVHINT_THREAD_OFF, 0,
	       (size_t)PVHINT_MAX_THREAD_SLOTS * PVHINT_SLOT_SIZE);
	smp_wmb();
	WRITE_ONCE(pvhint_hdr()->magic, 0);
	dev_notice(&pdev->dev, "stopped publishing hints\n");
	pvhint = NULL;
}

static const struct pci_device_id pvhint_ids[] = {
    {PCI_DEVICE(PVHINT_PCI_VENDOR, PVHINT_PCI_DEVICE)}, {}};
MODULE_DEVICE_TABLE(pci, pvhint_ids);

static struct pci_driver pvhint_driver = {
    .name = "vmm_pvhint",
    .id_table = pvhint_ids,
    .probe = pvhint_probe,
    .remove = pvhint_remove,
};
module_pci_driver(pvhint_driver);

MODULE_DESCRIPTION("vmm-sched paravirtual scheduling hints (guest side)");
MODULE_LICENSE("GPL");
