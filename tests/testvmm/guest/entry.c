/* The guest's entry point: every vCPU starts here in long mode with RDI = its index. */
#include "cpu.h"
#include "guest.h"

__attribute__((section(".text.entry"), noreturn, used)) void guest_entry(uint64_t index)
{
	volatile struct guest_shared *shared = (volatile struct guest_shared *)GUEST_SHARED_GPA;
	volatile struct vcpu_slot *slot = &shared->slots[index];

	idt_init();
	if (!slot->config.tsc_khz)
		guest_panic(FAULT_NO_TSC_KHZ, 0, 0, 0);
	guest_set_state(slot, 0); /* online, for a hint reader */
	switch (slot->config.payload) {
	case PAYLOAD_BUSY:
		payload_busy(slot);
	case PAYLOAD_DUTY:
		payload_duty(slot);
	case PAYLOAD_LOCK:
		payload_lock(slot, &shared->lock);
	case PAYLOAD_YIELD:
		payload_yield(slot, index);
	}
	guest_panic(FAULT_BAD_PAYLOAD, 0, 0, slot->config.payload);
}

void guest_panic(uint32_t kind, uint64_t vector, uint64_t rip, uint64_t error)
{
	this_slot->fault_vector = vector;
	this_slot->fault_rip = rip;
	this_slot->fault_error = error;
	outl(GUEST_PORT_PANIC, kind);
	halt_forever();
}
