#include "txn_outcome.h"

#include "bpf/vmm_sched_abi.h"

static const char *const names[VS_TXN_NR_OUTCOMES] = {
    [VS_TXN_NONE] = "none",
    [VS_TXN_COMPLETE] = "complete",
    [VS_TXN_STALE] = "stale",
    [VS_TXN_NOT_RUNNABLE] = "not_runnable",
    [VS_TXN_WRONG_VM] = "wrong_vm",
    [VS_TXN_NOT_IN_ENCLAVE] = "not_in_enclave",
    [VS_TXN_UNKNOWN_VCPU] = "unknown_vcpu",
    [VS_TXN_HOST_BUSY] = "host_busy",
    [VS_TXN_GROUP_FAILED] = "group_failed",
    [VS_TXN_BAD_SLOT] = "bad_slot",
};

const char *txn_outcome_name(unsigned int outcome)
{
	return outcome < VS_TXN_NR_OUTCOMES && names[outcome] ? names[outcome] : "invalid";
}
