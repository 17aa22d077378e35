/* Recognise vCPU threads of the common VMMs by their thread name (/proc comm). */
#ifndef VS_VCPU_NAME_H
#define VS_VCPU_NAME_H

/*
 * The vCPU index encoded in a thread name, or -1 if the name is not a vCPU
 * thread of a known VMM: qemu "CPU 3/KVM" and "CPU 3/TCG", cloud-hypervisor
 * "vcpu3", firecracker "fc_vcpu 3", crosvm "crosvm_vcpu3".
 */
int vcpu_index_from_thread_name(const char *comm);

#endif
