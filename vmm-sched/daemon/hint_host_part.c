/*
 * The host part of a guest hint region (docs/guest-abi.md, "How the host
 * writes"): the mark the guest driver binds to and each vCPU's host-to-guest
 * slot, written through a second, read-write mapping, only into a file that
 * passes pvhint_h2g_refusal() (lib/pvhint_h2g.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "daemon.h"
#include "hint_host_part.h"
#include "log.h"
#include "sched_maps.h"

static bool on_shared_memory_fs(int fd)
{
	struct statfs fs;

	return !fstatfs(fd, &fs) && (fs.f_type == TMPFS_MAGIC || fs.f_type == HUGETLBFS_MAGIC);
}

void host_part_map(struct vs_hint_host_part *hp, int fd, int vmm_pid)
{
	struct pvhint_file_facts facts = {0};
	struct stat st, proc;
	char self[64];
	void *map;
	int wfd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	wfd = open(self, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (wfd < 0) {
		hp->refusal = "the agent cannot open it for writing";
		return;
	}
	snprintf(self, sizeof(self), "/proc/%d", vmm_pid);
	if (fstat(wfd, &st) || stat(self, &proc)) {
		hp->refusal = "cannot stat the file or the VM process";
		close(wfd);
		return;
	}
	facts = (struct pvhint_file_facts){
	    .regular = S_ISREG(st.st_mode),
	    .on_shared_memory_fs = on_shared_memory_fs(wfd),
	    .links = st.st_nlink,
	    .size = (uint64_t)st.st_size,
	    .owner_uid = st.st_uid,
	    .vmm_uid = proc.st_uid,
	};
	hp->refusal = pvhint_h2g_refusal(&facts);
	if (hp->refusal) {
		close(wfd);
		return;
	}
	map =
	    mmap(NULL, PVHINT_H2G_MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, PVHINT_H2G_OFF);
	close(wfd);
	if (map == MAP_FAILED) {
		hp->refusal = "mmap of the host part failed";
		return;
	}
	hp->map = map;
}

void host_part_unmap(struct vs_hint_host_part *hp, const char *why)
{
	if (hp->map)
		munmap(hp->map, PVHINT_H2G_MAP_LEN);
	hp->map = NULL;
	if (why)
		hp->refusal = why;
}

/*
 * Stamps the mark and tells each vCPU what the host did to it; a slot is
 * rewritten only when its values change.
 */
void host_part_publish(struct vs_daemon *d, int vm_id, struct vs_hint_host_part *hp,
		       uint64_t disabled, bool counters)
{
	int slot;

	if (!hp->map)
		return;
	pvhint_h2g_stamp(hp->map, (uint32_t)d->reg.vms[vm_id].nr_vcpus);
	if (!counters)
		return;
	registry_for_each_vcpu(slot, &d->reg)
	{
		const struct vs_vcpu_rec *v = &d->reg.vcpus[slot];
		const struct vs_vcpu_stats *st = &d->hint_vcpu_stats[slot];
		struct pvhint_h2g_counts counts = {
		    .preempts = st->preempts,
		    .cs_extensions = st->cs_extensions,
		    .cs_extended_ns = st->cs_extended_ns,
		};
		struct pvhint_h2g_vals vals;
		int i = v->vcpu_index;

		if (v->vm_id != vm_id || i < 0 || i >= (int)PVHINT_MAX_VCPUS)
			continue;
		vals =
		    pvhint_h2g_vals_of(&counts, hp->sent_once[i] ? &hp->sent[i] : NULL, disabled);
		if (hp->sent_once[i] && !memcmp(&vals, &hp->sent[i], sizeof(vals)))
			continue;
		pvhint_h2g_publish(hp->map, (uint32_t)i, &hp->seq[i], &vals);
		hp->sent[i] = vals;
		hp->sent_once[i] = true;
	}
}

/* One past the highest enrolled vCPU slot. */
static int vcpu_slots_in_use(const struct vs_registry *reg)
{
	int slot, n = 0;

	registry_for_each_vcpu(slot, reg) n = slot + 1;
	return n;
}

/*
 * The vCPU counters the host parts tell the guests, in one bpf() call; false
 * (logged once per run of failures) if they cannot be read this tick.
 */
bool host_part_read_counters(struct vs_daemon *d)
{
	int err;

	err = vs_maps_read_vcpu_stats_batch(d, d->hint_vcpu_stats, vcpu_slots_in_use(&d->reg));
	if (err && !d->hint_vcpu_stats_failing)
		vs_warn("cannot read the vCPU counters for the guests' host-to-guest slots (%s): "
			"the slots keep their last values until a read succeeds",
			strerror(-err));
	d->hint_vcpu_stats_failing = err != 0;
	return !err;
}
