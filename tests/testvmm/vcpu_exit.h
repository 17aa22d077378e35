/* Handling and reporting of KVM_RUN exits. */
#ifndef TESTVMM_VCPU_EXIT_H
#define TESTVMM_VCPU_EXIT_H

#include "vcpu.h"

/* 0 to keep running; -1 after printing an "error vm=..." line. */
int vcpu_handle_exit(struct vcpu *vcpu);
/* Print the "error vm=..." line for a KVM_RUN ioctl that failed with err. */
void vcpu_report_run_error(struct vcpu *vcpu, int err);

#endif
