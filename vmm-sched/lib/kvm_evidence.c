#include "kvm_evidence.h"

#include <string.h>

/* "anon_inode:kvm-vcpu:" followed by a decimal vCPU id and nothing else. */
static bool is_vcpu_link(const char *link)
{
	size_t n = strlen(VS_KVM_VCPU_LINK_STEM);
	const char *p = link + n;

	if (strncmp(link, VS_KVM_VCPU_LINK_STEM, n) != 0 || !*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

void kvm_evidence_add(struct vs_kvm_evidence *ev, const char *link)
{
	if (!link)
		return;
	if (strcmp(link, VS_KVM_VM_LINK) == 0)
		ev->vm_fds++;
	else if (is_vcpu_link(link))
		ev->vcpu_fds++;
}

int kvm_evidence_vcpu_limit(const struct vs_kvm_evidence *ev, int max_per_vm)
{
	if (ev->vm_fds <= 0)
		return 0;
	return ev->vcpu_fds < max_per_vm ? ev->vcpu_fds : max_per_vm;
}
