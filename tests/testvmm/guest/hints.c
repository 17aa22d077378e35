/*
 * --hints-mode guest: the payload publishes its own hints (docs/guest-abi.md)
 * at each change of what it does, the way a guest driver does from its idle
 * path and libpvhint around a lock, instead of the VMM sampling its state.
 */
#include "guest-agent/include/vmm_pvhint_abi.h"

#include "cpu.h"
#include "guest.h"

/* The guest's clock: TSC cycles since the VM's start, in ns (no overflow for centuries). */
static uint64_t guest_ns(volatile struct vcpu_slot *slot)
{
	uint64_t tsc = rdtsc(), khz = slot->config.tsc_khz;

	return tsc / khz * 1000000 + tsc % khz * 1000000 / khz;
}

void guest_set_state(volatile struct vcpu_slot *slot, uint64_t state)
{
	volatile struct pvhint_vcpu_slot *h;
	uint32_t flags;
	uint64_t now;

	slot->state = state;
	if (!slot->config.hints_in_guest)
		return;
	h = (volatile struct pvhint_vcpu_slot *)(GUEST_HINTS_GPA +
						 PVHINT_VCPU_SLOT_OFF(guest_slot_index(slot)));
	now = guest_ns(slot);
	flags = PVHINT_VCPU_ONLINE | (state & GUEST_STATE_IDLE ? PVHINT_VCPU_IDLE : 0);
	/* x86 keeps stores in order: a compiler barrier between the steps is enough. */
	h->seq = h->seq + 1;
	asm volatile("" ::: "memory");
	if ((flags ^ h->flags) & PVHINT_VCPU_IDLE) {
		h->idle_since_ns = now;
		h->idle_transitions = h->idle_transitions + 1;
	}
	if (state & GUEST_STATE_IN_LOCK) {
		if (!h->cs_depth)
			h->cs_since_ns = now;
		h->cs_depth = 1;
	} else {
		h->cs_depth = 0;
		h->cs_since_ns = 0;
	}
	h->flags = flags;
	h->cur_thread = PVHINT_NO_THREAD;
	h->heartbeat = h->heartbeat + 1;
	h->now_ns = now;
	asm volatile("" ::: "memory");
	h->seq = h->seq + 1;
}
