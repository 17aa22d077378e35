/*
 * The xAPIC in KVM's in-kernel irqchip, driven through its MMIO page: the duty
 * payload blocks in HLT until a one-shot LAPIC timer interrupt wakes it.
 */
#include "cpu.h"
#include "guest.h"

#define APIC_EOI	0x0B0
#define APIC_SVR	0x0F0
#define APIC_SVR_ENABLE 0x100
#define APIC_LVT_TIMER	0x320
#define APIC_LVT_MASKED (1u << 16)
#define APIC_TMICT	0x380 /* initial count */
#define APIC_TMCCT	0x390 /* current count */
#define APIC_TDCR	0x3E0
#define APIC_TDCR_DIV_1 0xB

/*
 * KVM's APIC bus nominally runs at 1 GHz, but the VMM may configure another
 * rate, so measure the timer against the TSC over this many milliseconds.
 */
#define CALIBRATION_MS 10

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(GUEST_LAPIC_GPA + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(GUEST_LAPIC_GPA + reg) = val;
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

void lapic_timer_oneshot(uint32_t ticks)
{
	lapic_write(APIC_TMICT, ticks);
}

uint64_t lapic_init(uint64_t tsc_khz)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	uint64_t t0, t1, ticks;
	uint32_t left;

	if (!(base & MSR_APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | MSR_APIC_BASE_ENABLE);
	lapic_write(APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_write(APIC_TDCR, APIC_TDCR_DIV_1);

	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | TIMER_VECTOR);
	lapic_write(APIC_TMICT, 0xFFFFFFFF);
	t0 = rdtsc();
	while (rdtsc() - t0 < tsc_khz * CALIBRATION_MS)
		cpu_relax();
	left = lapic_read(APIC_TMCCT);
	t1 = rdtsc();
	lapic_write(APIC_TMICT, 0);

	ticks = 0xFFFFFFFFu - left;
	if (!ticks || !left)
		guest_panic(FAULT_APIC_TIMER, 0, 0, left);
	lapic_write(APIC_LVT_TIMER, TIMER_VECTOR);
	return ticks * tsc_khz / (t1 - t0);
}
