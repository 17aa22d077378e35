/* The guest's TSC frequency, which the payload needs to turn microseconds into cycles. */
#ifndef TESTVMM_TSC_H
#define TESTVMM_TSC_H

#include <stdint.h>

/* KVM_GET_TSC_KHZ on the vCPU, or a calibration of the host TSC if KVM cannot say. */
uint64_t tsc_khz(int vcpu_fd);

#endif
