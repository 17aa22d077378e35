/* Reading a guest's hint region: copy once, validate the copy (pvhint_region.h). */
#include <string.h>

#include "pvhint_region.h"

#define NSEC 1000000000ull

static const char *const fault_names[PVHINT_NR_FAULTS] = {
    [PVHINT_OK] = "ok",
    [PVHINT_NO_GUEST] = "no guest publishes (magic 0)",
    [PVHINT_DISABLED] = "disabled by an earlier fault",
    [PVHINT_BAD_SIZE] = "region smaller than the ABI's size",
    [PVHINT_BAD_MAGIC] = "wrong magic",
    [PVHINT_BAD_VERSION] = "unsupported ABI version",
    [PVHINT_BAD_VCPU_COUNT] = "vCPU count out of range or not the VM's",
    [PVHINT_BAD_THREAD_COUNT] = "thread slot count out of range",
    [PVHINT_BAD_BOOT_ID] = "boot id 0",
    [PVHINT_BAD_FLAGS] = "unknown slot flags",
    [PVHINT_BAD_CS_DEPTH] = "critical-section depth above the limit",
    [PVHINT_BAD_THREAD_INDEX] = "thread slot index out of range",
    [PVHINT_BAD_TIME] = "a since-when after the slot's own time",
    [PVHINT_HEARTBEAT_BACK] = "heartbeat or guest time went back",
    [PVHINT_SEQ_STUCK] = "seqcount torn for too many ticks",
};

const char *pvhint_fault_str(enum pvhint_fault f)
{
	if ((unsigned int)f >= PVHINT_NR_FAULTS)
		return "unknown fault";
	return fault_names[f];
}

void pvhint_vm_reset(struct pvhint_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
}

enum pvhint_fault pvhint_check_header(const struct pvhint_header *h, uint32_t host_nr_vcpus)
{
	if (h->magic == 0)
		return PVHINT_NO_GUEST;
	if (h->magic != PVHINT_MAGIC)
		return PVHINT_BAD_MAGIC;
	if (h->abi_version != PVHINT_ABI_VERSION)
		return PVHINT_BAD_VERSION;
	if (h->nr_vcpus == 0 || h->nr_vcpus > PVHINT_MAX_VCPUS ||
	    (host_nr_vcpus && h->nr_vcpus != host_nr_vcpus))
		return PVHINT_BAD_VCPU_COUNT;
	if (h->nr_thread_slots > PVHINT_MAX_THREAD_SLOTS)
		return PVHINT_BAD_THREAD_COUNT;
	if (h->boot_id == 0)
		return PVHINT_BAD_BOOT_ID;
	return PVHINT_OK;
}

bool pvhint_copy_vcpu_slot(const void *src, struct pvhint_vcpu_slot *dst, uint32_t retries)
{
	const uint32_t *seqp = src;

	for (uint32_t try = 0; try <= retries; try++) {
		uint32_t s1 = __atomic_load_n(seqp, __ATOMIC_ACQUIRE);

		memcpy(dst, src, sizeof(*dst));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		uint32_t s2 = __atomic_load_n(seqp, __ATOMIC_RELAXED);

		if (!(s1 & 1) && s1 == s2) {
			dst->seq = s1;
			return true;
		}
	}
	return false;
}

/*
 * Token bucket over idle transitions; false when they outrun the limit, and
 * the bucket is emptied (the burst comes back at the rate).
 */
static bool idle_rate_ok(struct pvhint_slot_hist *hist, uint32_t transitions, uint64_t host_now_ns,
			 const struct pvhint_limits *lim)
{
	uint64_t cap = (uint64_t)lim->idle_burst * NSEC;
	uint64_t elapsed =
	    host_now_ns > hist->tokens_host_ns ? host_now_ns - hist->tokens_host_ns : 0;
	uint64_t need = (uint64_t)transitions * NSEC;

	if (elapsed > NSEC)
		elapsed = NSEC;
	hist->tokens_host_ns = host_now_ns;
	hist->idle_tokens += (uint64_t)lim->idle_rate * elapsed;
	if (hist->idle_tokens > cap)
		hist->idle_tokens = cap;
	if (need > hist->idle_tokens) {
		hist->idle_tokens = 0;
		return false;
	}
	hist->idle_tokens -= need;
	return true;
}

/*
 * Idle changing faster than the limit says little (an honest guest doing
 * fast I/O does it too) and costs only the guest: its idle hint goes unused,
 * the rest of the slot holds, until the rate has stayed within the limit for
 * flap_calm_ns (a flapping guest that pauses between bursts stays flapping).
 */
static void note_flapping(struct pvhint_slot_hist *hist, bool rate_ok, uint64_t host_now_ns,
			  const struct pvhint_limits *lim)
{
	if (!rate_ok) {
		hist->flapping = true;
		hist->calm_since_ns = 0;
	} else if (hist->flapping) {
		if (!hist->calm_since_ns)
			hist->calm_since_ns = host_now_ns;
		else if (host_now_ns - hist->calm_since_ns >= lim->flap_calm_ns)
			hist->flapping = false;
	}
}

enum pvhint_fault pvhint_check_slot(const struct pvhint_vcpu_slot *s, const struct pvhint_header *h,
				    uint32_t thread_depth, struct pvhint_slot_hist *hist,
				    uint64_t host_now_ns, const struct pvhint_limits *lim,
				    struct pvhint_hint *out)
{
	bool idle = s->flags & PVHINT_VCPU_IDLE;

	memset(out, 0, sizeof(*out));
	if (s->flags & ~PVHINT_VCPU_KNOWN)
		return PVHINT_BAD_FLAGS;
	if (s->cs_depth > PVHINT_MAX_CS_DEPTH || thread_depth > PVHINT_MAX_CS_DEPTH)
		return PVHINT_BAD_CS_DEPTH;
	if ((h->features & PVHINT_F_THREAD_SLOTS) && s->cur_thread != PVHINT_NO_THREAD &&
	    s->cur_thread >= h->nr_thread_slots)
		return PVHINT_BAD_THREAD_INDEX;
	if (s->idle_since_ns > s->now_ns || (s->cs_depth && s->cs_since_ns > s->now_ns))
		return PVHINT_BAD_TIME;

	if (!hist->seen) {
		hist->seen = true;
		hist->heartbeat = s->heartbeat;
		hist->now_ns = s->now_ns;
		hist->heartbeat_changed_host_ns = host_now_ns;
		hist->idle_transitions = s->idle_transitions;
		hist->idle = idle;
		hist->idle_tokens = (uint64_t)lim->idle_burst * NSEC;
		hist->tokens_host_ns = host_now_ns;
	} else {
		uint32_t transitions = s->idle_transitions - hist->idle_transitions; /* wraps */

		if (s->now_ns < hist->now_ns)
			return PVHINT_HEARTBEAT_BACK;
		if ((h->features & PVHINT_F_HEARTBEAT) && s->heartbeat < hist->heartbeat)
			return PVHINT_HEARTBEAT_BACK;
		if (transitions == 0 && idle != hist->idle)
			transitions = 1; /* a change the counter did not own up to */
		if (h->features & PVHINT_F_IDLE)
			note_flapping(hist, idle_rate_ok(hist, transitions, host_now_ns, lim),
				      host_now_ns, lim);
		if (s->heartbeat != hist->heartbeat)
			hist->heartbeat_changed_host_ns = host_now_ns;
		hist->heartbeat = s->heartbeat;
		hist->now_ns = s->now_ns;
		hist->idle_transitions = s->idle_transitions;
		hist->idle = idle;
	}

	if (!(s->flags & PVHINT_VCPU_ONLINE))
		return PVHINT_OK;
	if ((h->features & PVHINT_F_HEARTBEAT) &&
	    host_now_ns - hist->heartbeat_changed_host_ns > lim->stale_ns)
		return PVHINT_OK; /* stale: no hint */
	out->valid = true;
	out->idle = (h->features & PVHINT_F_IDLE) && idle && !hist->flapping;
	out->preempt_sen = s->flags & PVHINT_VCPU_PREEMPT_SEN;
	if (h->features & PVHINT_F_CS)
		out->cs_depth += s->cs_depth;
	if (h->features & PVHINT_F_THREAD_SLOTS)
		out->cs_depth += thread_depth;
	return PVHINT_OK;
}

/* The depth of the thread slot @slot names, read once; 0 if none or unused. */
static uint32_t thread_depth(const unsigned char *region, const struct pvhint_header *h,
			     const struct pvhint_vcpu_slot *slot)
{
	const struct pvhint_thread_slot *t;
	uint32_t flags, depth;

	if (!(h->features & PVHINT_F_THREAD_SLOTS) || slot->cur_thread == PVHINT_NO_THREAD ||
	    slot->cur_thread >= h->nr_thread_slots)
		return 0;
	t = (const void *)(region + PVHINT_THREAD_SLOT_OFF(slot->cur_thread));
	flags = __atomic_load_n(&t->flags, __ATOMIC_RELAXED);
	depth = __atomic_load_n(&t->depth, __ATOMIC_RELAXED);
	return (flags & PVHINT_THREAD_IN_USE) ? depth : 0;
}

static enum pvhint_fault disable(struct pvhint_vm *vm, enum pvhint_fault f, uint32_t vcpu,
				 uint64_t boot_id, uint64_t host_now_ns)
{
	vm->disabled = true;
	vm->fault = f;
	vm->fault_vcpu = vcpu;
	vm->disabled_host_ns = host_now_ns;
	vm->boot_id = boot_id;
	vm->have_boot = true;
	vm->disables++;
	return f;
}

enum pvhint_fault pvhint_scan(struct pvhint_vm *vm, const void *region, size_t len,
			      uint32_t host_nr_vcpus, uint64_t host_now_ns,
			      const struct pvhint_limits *lim, struct pvhint_hint *hints,
			      uint32_t max_hints)
{
	const unsigned char *base = region;
	struct pvhint_header h;
	enum pvhint_fault f;
	uint32_t n;

	memset(hints, 0, sizeof(*hints) * max_hints);
	vm->scans++;
	if (len < PVHINT_H2G_OFF) { /* the guest part is all it reads */
		if (vm->disabled)
			return PVHINT_DISABLED;
		return disable(vm, PVHINT_BAD_SIZE, UINT32_MAX, 0, host_now_ns);
	}
	memcpy(&h, base + PVHINT_HEADER_OFF, sizeof(h));
	f = pvhint_check_header(&h, host_nr_vcpus);

	if (vm->disabled) {
		/* Back only for a new, sound guest boot, and not sooner than reenable_ns. */
		if (f != PVHINT_OK || h.boot_id == vm->boot_id ||
		    host_now_ns < vm->disabled_host_ns + lim->reenable_ns)
			return PVHINT_DISABLED;
		vm->disabled = false;
		vm->fault = PVHINT_OK;
		vm->have_boot = false;
	}
	if (f == PVHINT_NO_GUEST) {
		vm->have_boot = false;
		return f;
	}
	if (f != PVHINT_OK)
		return disable(vm, f, UINT32_MAX, h.boot_id, host_now_ns);
	if (!vm->have_boot || h.boot_id != vm->boot_id) {
		memset(vm->hist, 0, sizeof(vm->hist));
		vm->have_boot = true;
		vm->boot_id = h.boot_id;
	}

	n = h.nr_vcpus; /* <= PVHINT_MAX_VCPUS, checked */
	for (uint32_t i = 0; i < n; i++) {
		struct pvhint_slot_hist *hist = &vm->hist[i];
		struct pvhint_vcpu_slot s;
		struct pvhint_hint hint;
		bool was_flapping;

		if (!pvhint_copy_vcpu_slot(base + PVHINT_VCPU_SLOT_OFF(i), &s, lim->read_retries)) {
			vm->torn_reads++;
			if (++hist->torn_ticks < lim->torn_limit)
				continue;
			memset(hints, 0, sizeof(*hints) * max_hints);
			return disable(vm, PVHINT_SEQ_STUCK, i, h.boot_id, host_now_ns);
		}
		hist->torn_ticks = 0;
		was_flapping = hist->flapping;
		f = pvhint_check_slot(&s, &h, thread_depth(base, &h, &s), hist, host_now_ns, lim,
				      &hint);
		if (f != PVHINT_OK) {
			memset(hints, 0, sizeof(*hints) * max_hints);
			return disable(vm, f, i, h.boot_id, host_now_ns);
		}
		if (hist->flapping && !was_flapping)
			vm->idle_flaps++;
		if (i < max_hints)
			hints[i] = hint;
	}
	return PVHINT_OK;
}
