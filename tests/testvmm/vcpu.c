#include "vcpu.h"
#include "vcpu_exit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define RFLAGS_RESERVED 0x2

static int vcpu_ioctl(struct vcpu *vcpu, unsigned long req, void *arg, const char *what)
{
	int r = ioctl(vcpu->fd, req, arg);

	if (r < 0)
		fprintf(stderr, "testvmm: vcpu %d: %s: %s\n", vcpu->index, what, strerror(errno));
	return r;
}

static void set_long_mode_sregs(struct kvm_sregs *s, uint64_t gs_base)
{
	struct kvm_segment code = {
	    .base = 0,
	    .limit = 0xFFFFFFFF,
	    .selector = GUEST_CODE_SELECTOR,
	    .type = 0xB, /* execute/read, accessed */
	    .present = 1,
	    .s = 1,
	    .l = 1,
	    .g = 1,
	};
	struct kvm_segment data = code;

	data.selector = GUEST_DATA_SELECTOR;
	data.type = 0x3; /* read/write, accessed */
	data.l = 0;
	data.db = 1;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gs.base = gs_base;

	s->gdt.base = GUEST_GDT_GPA;
	s->gdt.limit = 3 * 8 - 1;
	s->idt.base = 0; /* the payload loads its own */
	s->idt.limit = 0;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->cr3 = GUEST_PML4_GPA;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
}

static int setup_vcpu(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	int index = vcpu->index;
	uint64_t slot_gpa = GUEST_SHARED_GPA + offsetof(struct guest_shared, slots[index]);
	struct kvm_mp_state runnable = {.mp_state = KVM_MP_STATE_RUNNABLE};
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
	    .rip = GUEST_IMAGE_GPA,
	    /* As if called: the ABI wants RSP + 8 16-byte aligned at function entry. */
	    .rsp = GUEST_STACKS_GPA + (uint64_t)(index + 1) * GUEST_STACK_SIZE - 8,
	    .rdi = index,
	    .rflags = RFLAGS_RESERVED,
	};
	void *run;

	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0) {
		fprintf(stderr, "testvmm: KVM_CREATE_VCPU %d: %s\n", index, strerror(errno));
		return -1;
	}
	run = mmap(NULL, vm->run_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		fprintf(stderr, "testvmm: vcpu %d: mmap kvm_run: %s\n", index, strerror(errno));
		return -1;
	}
	vcpu->run = run;

	/* The CPUID must advertise long mode before KVM accepts EFER.LME. */
	if (vcpu_ioctl(vcpu, KVM_SET_CPUID2, vm->cpuid, "KVM_SET_CPUID2") < 0 ||
	    vcpu_ioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS") < 0)
		return -1;
	set_long_mode_sregs(&sregs, slot_gpa);
	if (vcpu_ioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS") < 0 ||
	    vcpu_ioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS") < 0)
		return -1;
	/* With the in-kernel irqchip, vCPUs other than the BSP would wait for INIT/SIPI. */
	return vcpu_ioctl(vcpu, KVM_SET_MP_STATE, &runnable, "KVM_SET_MP_STATE");
}

int vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vcpu_control *ctl, int index)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->ctl = ctl;
	vcpu->index = index;
	vcpu->fd = -1;
	vcpu->slot = &vm_shared(vm)->slots[index];
	vcpu->hist = (struct wake_hist *)(vm->mem + GUEST_HIST_GPA + index * GUEST_HIST_SIZE);
	if (setup_vcpu(vcpu) < 0) {
		vcpu_destroy(vcpu);
		return -1;
	}
	return 0;
}

static void kick_handler(int sig)
{
	/* Only here to make KVM_RUN return with EINTR. */
}

void vcpu_signals_init(void)
{
	struct sigaction sa = {.sa_handler = kick_handler};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGNAL_VCPU_KICK, &sa, NULL);
}

static void fail(struct vcpu *vcpu)
{
	atomic_store(&vcpu->ctl->failed, true);
	pthread_kill(vcpu->ctl->supervisor, SIGNAL_VCPU_FAILED);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vcpu_control *ctl = vcpu->ctl;
	char name[16];
	sigset_t kick;

	/* qemu's vCPU thread name, which the scheduler recognises. */
	snprintf(name, sizeof(name), "CPU %d/KVM", vcpu->index);
	prctl(PR_SET_NAME, name);
	vcpu->tid = gettid();
	sigemptyset(&kick);
	sigaddset(&kick, SIGNAL_VCPU_KICK);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	pthread_barrier_wait(&ctl->named);
	pthread_barrier_wait(&ctl->go);

	while (!atomic_load(&ctl->stop)) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vcpu_report_run_error(vcpu, errno);
			fail(vcpu);
			break;
		}
		if (vcpu_handle_exit(vcpu) < 0) {
			fail(vcpu);
			break;
		}
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int err = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (err)
		fprintf(stderr, "testvmm: vcpu %d: pthread_create: %s\n", vcpu->index,
			strerror(err));
	return err ? -1 : 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	/* immediate_exit covers a kick that lands just before the thread enters KVM_RUN. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, SIGNAL_VCPU_KICK);
}

void vcpu_join(struct vcpu *vcpu)
{
	pthread_join(vcpu->thread, NULL);
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->run_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
}
