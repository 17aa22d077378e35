/* The rule tests' starting core: open to @enclave, strict, on CPUs 4 and 5, both threads empty. */
#ifndef VS_TESTS_CORE_VIEW_FIXTURE_H
#define VS_TESTS_CORE_VIEW_FIXTURE_H

#include "bpf/rules/core.h"

static inline struct vs_core_view fixture_core(__s32 owner, __u32 enclave)
{
	return (struct vs_core_view){
	    .owner = owner,
	    .enclave = enclave,
	    .strict = 1,
	    .running_vm = {VS_VM_NONE, VS_VM_NONE},
	    .leaving_vm = {VS_VM_NONE, VS_VM_NONE},
	    .cpu = {4, 5},
	};
}

#endif
