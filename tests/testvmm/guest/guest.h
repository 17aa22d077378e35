/* Functions shared between the guest payload's files. */
#ifndef TESTVMM_GUEST_H
#define TESTVMM_GUEST_H

#include <stdint.h>

#include "../guest_abi.h"
#include "../wake_hist.h"

#define TIMER_VECTOR	0x40
#define SPURIOUS_VECTOR 0xFF

/* Report a failure to the VMM through this vCPU's slot and the panic port; never returns. */
__attribute__((noreturn)) void guest_panic(uint32_t kind, uint64_t vector, uint64_t rip,
					   uint64_t error);

void idt_init(void);

/* The vCPU index of @slot. */
static inline uintptr_t guest_slot_index(volatile struct vcpu_slot *slot)
{
	uintptr_t first = GUEST_SHARED_GPA + __builtin_offsetof(struct guest_shared, slots);

	return ((uintptr_t)slot - first) / sizeof(struct vcpu_slot);
}

/* This vCPU's wakeup latency histogram: the page for its slot's index. */
static inline volatile struct wake_hist *guest_wake_hist(volatile struct vcpu_slot *slot)
{
	return (volatile struct wake_hist *)(GUEST_HIST_GPA +
					     guest_slot_index(slot) * GUEST_HIST_SIZE);
}

/*
 * What the payload does now (GUEST_STATE_*): into its slot for the VMM, and
 * with --hints-mode guest into its hint slot too (hints.c).
 */
void guest_set_state(volatile struct vcpu_slot *slot, uint64_t state);

/* Enable the LAPIC, calibrate its timer against the TSC; returns ticks per ms. */
uint64_t lapic_init(uint64_t tsc_khz);
/* Start a one-shot countdown of ticks that raises TIMER_VECTOR. */
void lapic_timer_oneshot(uint32_t ticks);
void lapic_eoi(void);

__attribute__((noreturn)) void payload_busy(volatile struct vcpu_slot *slot);
__attribute__((noreturn)) void payload_duty(volatile struct vcpu_slot *slot);
__attribute__((noreturn)) void payload_lock(volatile struct vcpu_slot *slot,
					    volatile uint32_t *lock);
__attribute__((noreturn)) void payload_yield(volatile struct vcpu_slot *slot, uint64_t index);

#endif
