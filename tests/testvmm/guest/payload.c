/*
 * The workloads a vCPU can run: busy, duty (run/HLT cycles), lock (contended
 * spinlock) and yield (work, then a directed yield to the next vCPU).
 */
#include "cpu.h"
#include "guest.h"

/* One work unit: a dependent chain of xorshift rounds, a few hundred cycles on real hardware. */
#define WORK_ROUNDS 64
/* Work units a lock payload vCPU does between releasing the lock and trying again. */
#define LOCK_OUTSIDE_UNITS 4

static void work_unit(volatile struct vcpu_slot *slot)
{
	uint64_t x = slot->work_sink | 1;

	for (int i = 0; i < WORK_ROUNDS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		asm volatile("" : "+r"(x));
	}
	slot->work_sink = x;
	slot->units++;
}

static uint64_t us_to_tsc(volatile struct vcpu_slot *slot, uint64_t us)
{
	return us * slot->config.tsc_khz / 1000;
}

static void work_for(volatile struct vcpu_slot *slot, uint64_t start, uint64_t cycles)
{
	while (rdtsc() - start < cycles)
		work_unit(slot);
}

void payload_busy(volatile struct vcpu_slot *slot)
{
	for (;;)
		work_unit(slot);
}

void payload_duty(volatile struct vcpu_slot *slot)
{
	uint64_t apic_khz = lapic_init(slot->config.tsc_khz);
	uint64_t run_cycles = us_to_tsc(slot, slot->config.run_us);
	uint64_t block_ticks = slot->config.block_us * apic_khz / 1000;
	uint64_t block_cycles = us_to_tsc(slot, slot->config.block_us);
	volatile struct wake_hist *hist = guest_wake_hist(slot);

	slot->apic_khz = apic_khz;
	if (block_ticks > 0xFFFFFFFF)
		block_ticks = 0xFFFFFFFF;
	if (!block_ticks)
		block_ticks = 1;
	for (;;) {
		uint64_t want = slot->timer_irqs + 1, deadline, woke = 0;

		work_for(slot, rdtsc(), run_cycles);
		deadline = rdtsc() + block_cycles;
		lapic_timer_oneshot(block_ticks);
		guest_set_state(slot, GUEST_STATE_IDLE);
		/* Interrupts stay off outside HLT, so the loop sees every wakeup's cause. */
		while (slot->timer_irqs < want) {
			safe_halt_then_cli();
			woke = rdtsc();
			slot->halts++;
		}
		guest_set_state(slot, 0);
		/* A calibration error can fire the timer a little early: that is no delay. */
		wake_hist_record(hist, woke > deadline ? woke - deadline : 0);
	}
}

/*
 * Test-and-test-and-set: spin reading, try the atomic exchange only when the
 * lock looks free. spin_cycles grows while spinning, so a vCPU that never gets
 * the lock still shows in the VMM's progress lines.
 */
static void spin_lock(volatile struct vcpu_slot *slot, volatile uint32_t *lock)
{
	uint64_t base = slot->spin_cycles, start = rdtsc();

	for (;;) {
		if (!__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
			break;
		while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
			cpu_relax();
			slot->spin_cycles = base + (rdtsc() - start);
		}
	}
	slot->spin_cycles = base + (rdtsc() - start);
	slot->acquisitions++;
}

static void spin_unlock(volatile uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* KVM_HC_SCHED_YIELD (linux/kvm_para.h): yield_to() the vCPU with APIC ID a0. */
#define KVM_HC_SCHED_YIELD  11
#define CPUID_EBX_AUTHENTIC 0x68747541 /* "Auth" of AuthenticAMD */
#define CPUID_EBX_HYGON	    0x6f677948 /* "Hygo" of HygonGenuine */

/*
 * Work run_us, then ask KVM to yield this vCPU's CPU to the next vCPU (APIC ID
 * = vCPU index under KVM's in-kernel LAPIC), as a PV spinlock waiter does for
 * a preempted lock holder. KVM calls yield_to() only when that vCPU was
 * preempted while runnable, which is what the scheduler's ops.yield sees.
 */
void payload_yield(volatile struct vcpu_slot *slot, uint64_t index)
{
	uint64_t run_cycles = us_to_tsc(slot, slot->config.run_us);
	uint32_t n = slot->config.nr_vcpus ? slot->config.nr_vcpus : 1, a, b, c, d;
	bool amd;

	cpuid(0, &a, &b, &c, &d);
	amd = b == CPUID_EBX_AUTHENTIC || b == CPUID_EBX_HYGON;
	for (;;) {
		work_for(slot, rdtsc(), run_cycles);
		kvm_hypercall1(amd, KVM_HC_SCHED_YIELD, (index + 1) % n);
		slot->yields++;
	}
}

void payload_lock(volatile struct vcpu_slot *slot, volatile uint32_t *lock)
{
	uint64_t hold_cycles = us_to_tsc(slot, slot->config.hold_us);

	for (;;) {
		spin_lock(slot, lock);
		guest_set_state(slot, GUEST_STATE_IN_LOCK);
		work_for(slot, rdtsc(), hold_cycles);
		guest_set_state(slot, 0);
		spin_unlock(lock);
		for (int i = 0; i < LOCK_OUTSIDE_UNITS; i++)
			work_unit(slot);
	}
}
