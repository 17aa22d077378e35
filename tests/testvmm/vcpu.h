/* vCPU threads: creation in long mode, the KVM_RUN loop, exit handling and clean stopping. */
#ifndef TESTVMM_VCPU_H
#define TESTVMM_VCPU_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "vm.h"
#include "wake_hist.h"

/* What all vCPU threads of the VM share with the thread that runs them. */
struct vcpu_control {
	const char *vm_name;
	pthread_barrier_t named; /* every vCPU thread has its name and tid */
	pthread_barrier_t go;	 /* the VMM lets the vCPUs enter the guest */
	atomic_bool stop;
	atomic_bool failed;
	pthread_t supervisor; /* gets SIGNAL_VCPU_FAILED when a vCPU fails */
};

#define SIGNAL_VCPU_KICK   SIGUSR1
#define SIGNAL_VCPU_FAILED SIGUSR2
#define SIGNAL_VM_RESUME   SIGHUP   /* --start-paused: enter the guest now */
#define SIGNAL_HIST_MARK   SIGWINCH /* start a new wakeup latency window (wake_report.h) */

struct vcpu {
	struct vm *vm;
	struct vcpu_control *ctl;
	int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	pid_t tid;
	struct vcpu_slot *slot;
	struct wake_hist *hist; /* the duty payload's wakeup latencies */
};

/* Create vCPU index in long mode at the payload's entry; on failure prints why, returns -1. */
int vcpu_create(struct vcpu *vcpu, struct vm *vm, struct vcpu_control *ctl, int index);
/* Install the kick signal's handler; once per process, before vcpu_start. */
void vcpu_signals_init(void);
int vcpu_start(struct vcpu *vcpu);
/* Make KVM_RUN return now and keep it from being entered again; the caller sets ctl->stop first. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

#endif
