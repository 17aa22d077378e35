/*
 * The loop's side of libvirt enrolment (libvirt_enrol.h): what the libvirt
 * thread found is applied here, with vm_enroll(), vm_set_share() and
 * vm_release() as for vmm-schedctl.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "enclave_ops.h"
#include "libvirt_enrol.h"
#include "libvirt_meta.h"
#include "log.h"
#include "vm_enrol.h"
#include "vm_release.h"

static char managed_name[VS_MAX_VMS][VS_VM_NAME_LEN];

static bool is_managed(struct vs_daemon *d, int vm_id)
{
	return vm_id >= 0 && d->reg.vms[vm_id].used &&
	       !strcmp(managed_name[vm_id], d->reg.vms[vm_id].name);
}

static void bad_clear(struct vs_daemon *d, const char *name)
{
	for (int i = 0; i < d->lv.nr_bad; i++) {
		if (!strcmp(d->lv.bad[i].name, name)) {
			d->lv.bad[i] = d->lv.bad[--d->lv.nr_bad];
			return;
		}
	}
}

static void bad_set(struct vs_daemon *d, const char *name, const char *why)
{
	bad_clear(d, name);
	if (d->lv.nr_bad == VS_LV_MAX_BAD)
		d->lv.nr_bad--; /* the oldest goes: the log keeps it */
	snprintf(d->lv.bad[d->lv.nr_bad].name, VS_VM_NAME_LEN, "%s", name);
	snprintf(d->lv.bad[d->lv.nr_bad].why, sizeof(d->lv.bad[0].why), "%s", why);
	d->lv.nr_bad++;
}

/* Metadata states all settings: a missing attribute is the default, not "unchanged". */
static struct vs_share_settings full_share(struct vs_daemon *d, const struct vs_share_settings *s)
{
	return (struct vs_share_settings){
	    .weight = s->weight == VS_SHARE_KEEP ? (int)d->opt.default_weight : s->weight,
	    .reserve_cores = s->reserve_cores == VS_SHARE_KEEP ? 0 : s->reserve_cores,
	    .cap_cores = s->cap_cores == VS_SHARE_KEEP ? 0 : s->cap_cores,
	};
}

/* The cgroup's vCPU threads against those enrolled from /proc names and KVM files. */
static void cross_check(struct vs_daemon *d, int vm_id, const struct vs_lv_msg *m)
{
	int slot, agree = 0, enrolled = 0;

	for (int i = 0; i < m->nr_tids; i++) {
		slot = registry_find_vcpu_by_tid(&d->reg, m->tids[i]);
		if (slot >= 0 && d->reg.vcpus[slot].vm_id == vm_id &&
		    d->reg.vcpus[slot].vcpu_index == m->index[i])
			agree++;
		else
			vs_err("libvirt domain '%s': its cgroup vcpu%d holds thread %d, which is "
			       "not enrolled as that vCPU (its name or the KVM files of pid %d "
			       "disagree)",
			       m->name, m->index[i], m->tids[i], m->pid);
	}
	registry_for_each_vcpu(slot, &d->reg)
	{
		if (d->reg.vcpus[slot].vm_id == vm_id)
			enrolled++;
	}
	if (enrolled != agree)
		vs_log("libvirt domain '%s': %d vCPU threads enrolled, %d of them found in its "
		       "vcpuN cgroups",
		       m->name, enrolled, agree);
}

static void on_release(struct vs_daemon *d, const struct vs_lv_msg *m);

/* The id of the enclave the metadata names (the default one if none), or -1 with err. */
static int wanted_enclave(struct vs_daemon *d, const struct vs_lv_msg *m, char *err, size_t errlen)
{
	int id;

	if (!m->enclave[0])
		return VS_ENCLAVE_DEFAULT;
	id = enclave_set_find(&d->enclaves, m->enclave);
	if (id < 0)
		snprintf(err, errlen,
			 "its metadata names enclave '%s', which does not exist: create it "
			 "(vmm-schedctl enclave create %s --cpus CPUS) and run 'vmm-schedctl "
			 "notify %s', or change enclave= in its metadata",
			 m->enclave, m->enclave, m->name);
	return id;
}

/* An enrolled domain whose metadata now names another enclave moves there. */
static void move_to(struct vs_daemon *d, int vm_id, int enclave, const struct vs_lv_msg *m)
{
	char err[512];

	if (d->reg.vms[vm_id].enclave == enclave)
		return;
	if (vm_move(d, vm_id, d->enclaves.e[enclave].name, err, sizeof(err))) {
		vs_err("libvirt domain '%s': its metadata asks for enclave '%s', but it cannot "
		       "move there (%s): it stays in enclave '%s'",
		       m->name, d->enclaves.e[enclave].name, err,
		       d->enclaves.e[d->reg.vms[vm_id].enclave].name);
		bad_set(d, m->name, err);
	}
}

static void on_enrol(struct vs_daemon *d, const struct vs_lv_msg *m)
{
	struct vs_share_settings share = full_share(d, &m->share);
	int vm_id = registry_find_vm_by_name(&d->reg, m->name);
	struct vs_vm_rec *vm;
	char err[512];
	int enclave = wanted_enclave(d, m, err, sizeof(err));

	if (enclave < 0) {
		vs_err("libvirt domain '%s' runs unmanaged: %s", m->name, err);
		on_release(d, m);
		bad_set(d, m->name, err);
		return;
	}

	if (vm_id >= 0 && d->reg.vms[vm_id].pid != m->pid) {
		if (!is_managed(d, vm_id)) {
			snprintf(
			    err, sizeof(err),
			    "not enrolled: a VM of this name (pid %d) was enrolled by "
			    "vmm-schedctl or --pid; release it to let libvirt enrol the domain",
			    d->reg.vms[vm_id].pid);
			vs_err("libvirt domain '%s': %s", m->name, err);
			bad_set(d, m->name, err);
			return;
		}
		vm_release(d, vm_id); /* an earlier run of the domain */
		vm_id = -1;
	}
	bad_clear(d, m->name);
	if (vm_id >= 0) {
		vm = &d->reg.vms[vm_id];
		if (!is_managed(d, vm_id))
			vs_log("libvirt domain '%s' (pid %d) was enrolled already (adopted): left "
			       "as it is",
			       m->name, m->pid);
		snprintf(managed_name[vm_id], VS_VM_NAME_LEN, "%s", m->name);
		if ((int)vm->weight != share.weight ||
		    (int)vm->reserve_cores != share.reserve_cores ||
		    (int)vm->cap_cores != share.cap_cores) {
			if (vm_set_share(d, vm_id, &share, err, sizeof(err))) {
				vs_err("libvirt domain '%s': its metadata asks for settings that "
				       "cannot be applied (%s): it keeps weight %u",
				       m->name, err, vm->weight);
				bad_set(d, m->name, err);
			}
		}
		move_to(d, vm_id, enclave, m);
		cross_check(d, vm_id, m);
		return;
	}
	vm_id = vm_enroll(d, m->pid, m->name, &share, enclave, err, sizeof(err));
	if (vm_id < 0) {
		vs_err("libvirt domain '%s' is opted in but not scheduled: %s", m->name, err);
		bad_set(d, m->name, err);
		return;
	}
	snprintf(managed_name[vm_id], VS_VM_NAME_LEN, "%s", m->name);
	if (m->paused)
		d->lv.enrolled_paused++;
	else
		d->lv.enrolled_running++;
	vs_log("libvirt domain '%s' enrolled from its vcpuN cgroups while its guest was %s, into "
	       "enclave '%s'",
	       m->name, m->paused ? "paused (no vCPU had run)" : "running",
	       d->enclaves.e[enclave].name);
	cross_check(d, vm_id, m);
}

static void on_release(struct vs_daemon *d, const struct vs_lv_msg *m)
{
	int vm_id = registry_find_vm_by_name(&d->reg, m->name);

	if (m->kind == VS_LV_MSG_RELEASE)
		bad_clear(d, m->name);
	if (!is_managed(d, vm_id))
		return;
	vs_log("libvirt domain '%s' released: %s", m->name, m->why);
	vm_release(d, vm_id);
	managed_name[vm_id][0] = '\0';
}

static void apply(struct vs_daemon *d, const struct vs_lv_msg *m)
{
	switch (m->kind) {
	case VS_LV_MSG_ENROL:
		on_enrol(d, m);
		break;
	case VS_LV_MSG_RELEASE:
		on_release(d, m);
		break;
	case VS_LV_MSG_INVALID:
		vs_err("libvirt domain '%s' runs unmanaged: %s (fix its metadata, e.g. 'virsh "
		       "metadata %s %s --key %s --set \"<%s weight=\\\"100\\\"/>\" --live "
		       "--config')",
		       m->name, m->why, m->name, VS_LIBVIRT_NS, VS_LIBVIRT_PREFIX, VS_LIBVIRT_ELEM);
		on_release(d, m);
		bad_set(d, m->name, m->why);
		break;
	case VS_LV_MSG_NOT_SCHEDULABLE:
		vs_err("libvirt domain '%s' is opted in but runs unmanaged: %s", m->name, m->why);
		on_release(d, m);
		bad_set(d, m->name, m->why);
		break;
	case VS_LV_MSG_CONNECTED:
		d->lv.connected = true;
		break;
	case VS_LV_MSG_DISCONNECTED:
		d->lv.connected = false;
		break;
	}
}

void libvirt_on_messages(struct vs_daemon *d)
{
	struct vs_lv_msg m;
	ssize_t n;

	while ((n = read(d->lv.msg_fd, &m, sizeof(m))) == (ssize_t)sizeof(m)) {
		m.name[VS_VM_NAME_LEN - 1] = '\0';
		m.why[sizeof(m.why) - 1] = '\0';
		apply(d, &m);
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		vs_err("libvirt: reading the thread's messages failed: %m");
}

struct json_object *libvirt_status_json(struct vs_daemon *d)
{
	struct json_object *o = json_object_new_object(), *bad = json_object_new_array();
	struct json_object *managed = json_object_new_array();
	int vm_id;

	json_object_object_add(o, "enabled", json_object_new_boolean(d->lv.enabled));
	json_object_object_add(o, "uri", json_object_new_string(d->opt.libvirt_uri));
	json_object_object_add(o, "connected", json_object_new_boolean(d->lv.connected));
	json_object_object_add(o, "enrolled_paused",
			       json_object_new_int64((int64_t)d->lv.enrolled_paused));
	json_object_object_add(o, "enrolled_running",
			       json_object_new_int64((int64_t)d->lv.enrolled_running));
	registry_for_each_vm(vm_id, &d->reg)
	{
		if (is_managed(d, vm_id))
			json_object_array_add(managed,
					      json_object_new_string(d->reg.vms[vm_id].name));
	}
	json_object_object_add(o, "domains", managed);
	for (int i = 0; i < d->lv.nr_bad; i++) {
		struct json_object *b = json_object_new_object();

		json_object_object_add(b, "domain", json_object_new_string(d->lv.bad[i].name));
		json_object_object_add(b, "error", json_object_new_string(d->lv.bad[i].why));
		json_object_array_add(bad, b);
	}
	json_object_object_add(o, "unmanaged", bad);
	return o;
}
