/*
 * KVM_RUN exits. The payloads never need the VMM: every exit that reaches user
 * space is a failure (or the guest's own panic report), printed as one
 * "error vm=... vcpu=... reason=..." line on stderr.
 */
#include "vcpu_exit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

static uint64_t guest_rip(struct vcpu *vcpu)
{
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
		return 0;
	return regs.rip;
}

__attribute__((format(printf, 3, 4))) static void report(struct vcpu *vcpu, const char *reason,
							 const char *fmt, ...)
{
	char details[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	fprintf(stderr, "error vm=%s vcpu=%d reason=%s exit_reason=%u rip=0x%" PRIx64 "%s%s\n",
		vcpu->ctl->vm_name, vcpu->index, reason, vcpu->run->exit_reason, guest_rip(vcpu),
		details[0] ? " " : "", details);
}

static void report_guest_panic(struct vcpu *vcpu, uint32_t kind)
{
	const struct vcpu_slot *slot = vcpu->slot;

	switch (kind) {
	case FAULT_EXCEPTION:
		report(vcpu, "guest-exception",
		       "vector=%" PRIu64 " fault_rip=0x%" PRIx64 " error_code=0x%" PRIx64,
		       slot->fault_vector, slot->fault_rip, slot->fault_error);
		break;
	case FAULT_BAD_PAYLOAD:
		report(vcpu, "guest-bad-payload", "payload=%" PRIu64, slot->fault_error);
		break;
	case FAULT_APIC_TIMER:
		report(vcpu, "guest-apic-timer-not-counting", "current_count=%" PRIu64,
		       slot->fault_error);
		break;
	case FAULT_NO_TSC_KHZ:
		report(vcpu, "guest-no-tsc-khz", "%s", "");
		break;
	default:
		report(vcpu, "guest-panic", "kind=%u", kind);
	}
}

static void report_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
	uint32_t value = 0;

	for (int i = 0; i < run->io.size && i < 4; i++)
		value |= (uint32_t)data[i] << (8 * i);
	if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == GUEST_PORT_PANIC &&
	    run->io.size == 4) {
		report_guest_panic(vcpu, value);
		return;
	}
	report(vcpu, "unexpected-io", "port=0x%x dir=%s size=%u value=0x%x", run->io.port,
	       run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.size, value);
}

int vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_IO:
		report_io(vcpu);
		break;
	case KVM_EXIT_MMIO:
		report(vcpu, "unexpected-mmio", "addr=0x%llx len=%u write=%u", run->mmio.phys_addr,
		       run->mmio.len, run->mmio.is_write);
		break;
	case KVM_EXIT_SHUTDOWN:
		report(vcpu, "shutdown", "%s", "(triple fault)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		report(vcpu, "fail-entry", "hardware_entry_failure_reason=0x%llx cpu=%u",
		       run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		report(vcpu, "internal-error", "suberror=%u ndata=%u data0=0x%llx",
		       run->internal.suberror, run->internal.ndata,
		       run->internal.ndata ? run->internal.data[0] : 0ULL);
		break;
	case KVM_EXIT_HLT:
		report(vcpu, "unexpected-hlt", "%s", "");
		break;
	default:
		report(vcpu, "unexpected-exit", "%s", "");
	}
	return -1;
}

void vcpu_report_run_error(struct vcpu *vcpu, int err)
{
	report(vcpu, "kvm-run-failed", "errno=%d (%s)", err, strerror(err));
}
