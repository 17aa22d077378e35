/*
 * The guest's IDT: the LAPIC timer and spurious vectors, plus handlers for the
 * 32 CPU exceptions that report the vector and faulting RIP to the VMM instead
 * of letting a triple fault shut the VM down without a clue.
 */
#include "cpu.h"
#include "guest.h"

struct interrupt_frame {
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef unsigned int uword_t __attribute__((mode(__word__)));

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

#define GATE_INTERRUPT_PRESENT 0x8E

/* Every vCPU writes the same entries, so sharing one table needs no ordering. */
static struct idt_gate idt[256] __attribute__((aligned(16)));

#define OPCODE_HLT 0xF4

__attribute__((interrupt)) static void timer_isr(struct interrupt_frame *frame)
{
	this_slot->timer_irqs++;
	/*
	 * Interrupted *at* a hlt: the interrupt came inside sti's shadow, which
	 * nested SVM under QEMU TCG loses across a #VMEXIT. Returning to that
	 * hlt would sleep with the one-shot timer already spent, so skip it, as
	 * its wakeup would have.
	 */
	if (*(volatile uint8_t *)(uintptr_t)frame->rip == OPCODE_HLT)
		frame->rip++;
	lapic_eoi();
}

/* A spurious interrupt must not be acknowledged with an EOI. */
__attribute__((interrupt)) static void spurious_isr(struct interrupt_frame *frame)
{
}

#define EXCEPTION(n)                                                                               \
	__attribute__((interrupt)) static void exception_##n(struct interrupt_frame *frame)        \
	{                                                                                          \
		guest_panic(FAULT_EXCEPTION, n, frame->rip, 0);                                    \
	}
#define EXCEPTION_WITH_ERROR(n)                                                                    \
	__attribute__((interrupt)) static void exception_##n(struct interrupt_frame *frame,        \
							     uword_t error)                        \
	{                                                                                          \
		guest_panic(FAULT_EXCEPTION, n, frame->rip, error);                                \
	}

EXCEPTION(0)
EXCEPTION(1)
EXCEPTION(2)
EXCEPTION(3)
EXCEPTION(4)
EXCEPTION(5)
EXCEPTION(6)
EXCEPTION(7)
EXCEPTION_WITH_ERROR(8)
EXCEPTION(9)
EXCEPTION_WITH_ERROR(10)
EXCEPTION_WITH_ERROR(11)
EXCEPTION_WITH_ERROR(12)
EXCEPTION_WITH_ERROR(13)
EXCEPTION_WITH_ERROR(14)
EXCEPTION(15)
EXCEPTION(16)
EXCEPTION_WITH_ERROR(17)
EXCEPTION(18)
EXCEPTION(19)
EXCEPTION(20)
EXCEPTION_WITH_ERROR(21)
EXCEPTION(22)
EXCEPTION(23)
EXCEPTION(24)
EXCEPTION(25)
EXCEPTION(26)
EXCEPTION(27)
EXCEPTION(28)
EXCEPTION_WITH_ERROR(29)
EXCEPTION_WITH_ERROR(30)
EXCEPTION(31)

static void *const exception_handlers[32] = {
    exception_0,  exception_1,	exception_2,  exception_3,  exception_4,  exception_5,
    exception_6,  exception_7,	exception_8,  exception_9,  exception_10, exception_11,
    exception_12, exception_13, exception_14, exception_15, exception_16, exception_17,
    exception_18, exception_19, exception_20, exception_21, exception_22, exception_23,
    exception_24, exception_25, exception_26, exception_27, exception_28, exception_29,
    exception_30, exception_31,
};

static void set_gate(unsigned int vector, void *handler)
{
	uint64_t addr = (uint64_t)handler;
	volatile struct idt_gate *gate = &idt[vector];

	gate->offset_low = addr & 0xFFFF;
	gate->selector = GUEST_CODE_SELECTOR;
	gate->ist = 0;
	gate->type_attr = GATE_INTERRUPT_PRESENT;
	gate->offset_mid = (addr >> 16) & 0xFFFF;
	gate->offset_high = addr >> 32;
	gate->reserved = 0;
}

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)idt};

	for (unsigned int v = 0; v < 32; v++)
		set_gate(v, exception_handlers[v]);
	set_gate(TIMER_VECTOR, timer_isr);
	set_gate(SPURIOUS_VECTOR, spurious_isr);
	asm volatile("lidt %0" : : "m"(idtr) : "memory");
}
