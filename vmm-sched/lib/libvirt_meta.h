/*
 * libvirt domains: the opt-in element in a domain's XML metadata,
 *   <vmmsched:sched xmlns:vmmsched="urn:vmm-sched:1" weight="200" reserve="1" cap="4"
 *                   enclave="gold"/>,
 * the config rule for domains without it, and the names libvirt gives a
 * domain's cgroup. Parsing only (libxml2, no system calls): unit-tested.
 */
#ifndef VS_LIBVIRT_META_H
#define VS_LIBVIRT_META_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"
#include "bpf/vmm_sched_abi.h"

#define VS_LIBVIRT_NS	  "urn:vmm-sched:1"
#define VS_LIBVIRT_ELEM	  "sched"
#define VS_LIBVIRT_PREFIX "vmmsched"

/* What a domain's element asks for. */
struct vs_lv_meta {
	struct vs_share_settings share;	   /* VS_SHARE_KEEP where not given */
	char enclave[VS_ENCLAVE_NAME_LEN]; /* "" if not given (the default enclave) */
};

enum vs_lv_optin {
	VS_LV_INVALID = -1, /* metadata of ours that is wrong: err says what */
	VS_LV_NONE = 0,	    /* no element of ours */
	VS_LV_OPTED_IN = 1, /* *meta holds what it asked for */
};

/*
 * Looks for our element in domain XML @xml (virDomainGetXMLDesc) or in the
 * element alone (virDomainGetMetadata). Unknown attributes or elements of our
 * namespace, a second element, numbers out of range or malformed, an enclave
 * name that no enclave can have are invalid. Whether the enclave exists is
 * the agent's to check.
 */
enum vs_lv_optin libvirt_meta_parse(const char *xml, size_t len, struct vs_lv_meta *meta, char *err,
				    size_t errlen);

/*
 * Whether domain @name is to be scheduled: opted in by metadata, or (no
 * metadata) its name matches the [libvirt] enrol-names glob @pattern
 * (fnmatch(3); NULL: no rule). Invalid metadata is never enrolled.
 */
bool libvirt_should_enrol(enum vs_lv_optin optin, const char *name, const char *pattern);

/*
 * Whether a directory named @dirname in a cgroup tree is the cgroup of the
 * running domain of id @id: "qemu-ID-NAME.libvirt-qemu" (libvirt's own
 * cgroups) or "machine-qemu\x2dID\x2dNAME.scope" (under systemd, whose vCPU
 * cgroups are in its "libvirt" child). Returns 1 or 2 for those, else 0.
 */
int libvirt_cgroup_dir_kind(const char *dirname, int id);

#endif
