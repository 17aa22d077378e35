/* The host's half of a guest hint region (see pvhint_h2g.h). */
#include "pvhint_h2g.h"

#include <stddef.h>

_Static_assert(PVHINT_H2G_OFF % PVHINT_PAGE_SIZE == 0, "the host part starts a page");
_Static_assert(PVHINT_H2G_SLOT_OFF(PVHINT_MAX_VCPUS) <= PVHINT_HOST_MARK_OFF,
	       "the slots end before the mark");

const char *pvhint_h2g_refusal(const struct pvhint_file_facts *f)
{
	if (!f->regular)
		return "not a regular file";
	if (!f->on_shared_memory_fs)
		return "not on tmpfs or hugetlbfs (put the VM's shared memory under /dev/shm or "
		       "the hints directory)";
	if (f->links != 1)
		return "it has more than one hard link";
	if (f->owner_uid != 0 && f->owner_uid != f->vmm_uid)
		return "owned by neither root nor the VM process's user";
	if (f->size < PVHINT_MIN_REGION_SIZE)
		return "smaller than the region and the host mark (make it 1 MiB)";
	return NULL;
}

static void store_u32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

static void store_u64(void *p, uint64_t v)
{
	__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED);
}

void pvhint_h2g_stamp(void *h2g, uint32_t nr_vcpus)
{
	unsigned char *m = (unsigned char *)h2g + (PVHINT_HOST_MARK_OFF - PVHINT_H2G_OFF);

	store_u32(m + offsetof(struct pvhint_host_mark, abi_version), PVHINT_ABI_VERSION);
	store_u32(m + offsetof(struct pvhint_host_mark, nr_vcpus), nr_vcpus);
	store_u32(m + offsetof(struct pvhint_host_mark, reserved), 0);
	/* The magic last: a guest that sees it sees the rest. */
	__atomic_store_n((uint32_t *)(m + offsetof(struct pvhint_host_mark, magic)),
			 PVHINT_HOST_MAGIC, __ATOMIC_RELEASE);
}

struct pvhint_h2g_vals pvhint_h2g_vals_of(const struct pvhint_h2g_counts *c,
					  const struct pvhint_h2g_vals *last, uint64_t disabled)
{
	struct pvhint_h2g_vals v = {
	    .preemptions = c->preempts,
	    .extensions = c->cs_extensions,
	    .extended_ns = c->cs_extended_ns,
	    .disabled = disabled,
	};

	if (!disabled && c->cs_extensions > (last ? last->extensions : 0))
		v.flags |= PVHINT_H2G_YIELD_ON_EXIT;
	return v;
}

void pvhint_h2g_publish(void *h2g, uint32_t vcpu, uint32_t *seq, const struct pvhint_h2g_vals *v)
{
	unsigned char *s;

	if (vcpu >= PVHINT_MAX_VCPUS)
		return;
	s = (unsigned char *)h2g + (PVHINT_H2G_SLOT_OFF(vcpu) - PVHINT_H2G_OFF);
	*seq |= 1; /* odd while writing */
	store_u32(s + offsetof(struct pvhint_h2g_slot, seq), *seq);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	store_u32(s + offsetof(struct pvhint_h2g_slot, flags), v->flags);
	store_u64(s + offsetof(struct pvhint_h2g_slot, preemptions), v->preemptions);
	store_u64(s + offsetof(struct pvhint_h2g_slot, extensions), v->extensions);
	store_u64(s + offsetof(struct pvhint_h2g_slot, extended_ns), v->extended_ns);
	store_u64(s + offsetof(struct pvhint_h2g_slot, disabled), v->disabled);
	*seq += 1;
	__atomic_store_n((uint32_t *)(s + offsetof(struct pvhint_h2g_slot, seq)), *seq,
			 __ATOMIC_RELEASE);
}
