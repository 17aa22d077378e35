/* Privileged x86 instructions the guest payload needs, as inline functions. */
#ifndef TESTVMM_GUEST_CPU_H
#define TESTVMM_GUEST_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "../guest_abi.h"

#define MSR_APIC_BASE	     0x1B
#define MSR_APIC_BASE_ENABLE (1ULL << 11)

/* Interrupt handlers find their vCPU's slot through GS, whose base the VMM points at it. */
#define this_slot ((volatile __seg_gs struct vcpu_slot *)0)

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)));
}

static inline void outl(uint16_t port, uint32_t val)
{
	asm volatile("outl %0, %1" : : "a"(val), "Nd"(port) : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/*
 * KVM hypercall @nr with one argument: VMCALL on Intel, VMMCALL on AMD (KVM
 * would patch the other one in after a #UD, rewriting the payload's code).
 */
static inline uint64_t kvm_hypercall1(bool amd, uint64_t nr, uint64_t a0)
{
	uint64_t ret;

	if (amd)
		asm volatile("vmmcall" : "=a"(ret) : "a"(nr), "b"(a0) : "memory");
	else
		asm volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a0) : "memory");
	return ret;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

/*
 * sti's one-instruction interrupt shadow makes "sti; hlt" race-free on real
 * hardware; where the shadow is lost (nested SVM under TCG), timer_isr skips a
 * hlt it interrupted before it ran.
 */
static inline void safe_halt_then_cli(void)
{
	asm volatile("sti; hlt; cli" ::: "memory");
}

__attribute__((noreturn)) static inline void halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

#endif
