/*
 * Guest hint regions (docs/guest-abi.md): per hinted VM, the backing file of
 * its ivshmem device mapped read-only; each agent tick reads it through
 * lib/pvhint_region.c and mirrors the valid hints into the scheduler's
 * vcpu_hints map. A malformed region turns that VM's hints off (a log line,
 * a counter in status); nothing in it reaches another VM or the agent.
 * The host part of the region is hint_host_part.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl_request.h"
#include "daemon.h"
#include "hint_host_part.h"
#include "hint_regions.h"
#include "log.h"
#include "pvhint_region.h"
#include "sched_maps.h"

struct vs_hint_vm {
	char path[VS_CTL_HINTS_PATH_LEN];
	int fd;
	const unsigned char *map; /* the guest part, PVHINT_H2G_OFF bytes, read-only */
	struct pvhint_vm rd;
	enum pvhint_fault state; /* of the last scan */
	struct pvhint_hint hints[PVHINT_MAX_VCPUS];
	struct vs_hint_host_part host; /* what the agent writes into the region */
};

/*
 * A backing file truncated under the mapping (by whoever else may write it)
 * would raise SIGBUS on a read: the scan jumps out and the VM's hints go off.
 */
static sigjmp_buf *scan_jmp;

static void on_sigbus(int sig)
{
	if (scan_jmp)
		siglongjmp(*scan_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_sigbus_once(void)
{
	static bool installed;
	struct sigaction sa = {.sa_handler = on_sigbus};

	if (installed)
		return;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		vs_warn("cannot catch SIGBUS (%s): a hint file truncated under the agent "
			"would stop it",
			strerror(errno));
	installed = true;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void write_hint(struct vs_daemon *d, int slot, uint32_t flags)
{
	if (d->hint_flags[slot] == flags)
		return;
	if (vs_err_if(vs_maps_write_hint(d, slot, flags), "cannot write vcpu_hints[%d]", slot))
		return;
	d->hint_flags[slot] = flags;
}

/* Every vCPU of @vm_id gets the hint its vCPU index has (none if !h). */
static void mirror(struct vs_daemon *d, int vm_id, const struct vs_hint_vm *h)
{
	int slot;

	registry_for_each_vcpu(slot, &d->reg)
	{
		const struct vs_vcpu_rec *v = &d->reg.vcpus[slot];
		const struct pvhint_hint *hint;
		uint32_t flags = 0;

		if (v->vm_id != vm_id)
			continue;
		if (h && v->vcpu_index >= 0 && v->vcpu_index < (int)PVHINT_MAX_VCPUS) {
			hint = &h->hints[v->vcpu_index];
			if (hint->valid && hint->idle)
				flags |= VS_HINT_IDLE;
			if (hint->valid && (hint->cs_depth || hint->preempt_sen))
				flags |= VS_HINT_CS;
		}
		write_hint(d, slot, flags);
	}
}

int hints_attach(struct vs_daemon *d, int vm_id, const char *path, char *err, size_t errlen)
{
	struct vs_hint_vm *h;
	struct stat st;
	void *map;
	int fd;

	if (path[0] != '/' || strlen(path) >= sizeof(h->path)) {
		snprintf(err, errlen,
			 "hint region '%s': not an absolute path of at most %zu "
			 "characters",
			 path, sizeof(h->path) - 1);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen,
			 "hint region '%s': %s (the VMM's memory-backend-file "
			 "mem-path, or libvirt's /dev/shm/<shmem name>)",
			 path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)PVHINT_REGION_SIZE) {
		snprintf(err, errlen,
			 "hint region '%s': not a regular file of at least %u bytes "
			 "(make the shared memory 1 MiB)",
			 path, PVHINT_REGION_SIZE);
		close(fd);
		return -1;
	}
	map = mmap(NULL, PVHINT_H2G_OFF, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "hint region '%s': mmap: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		munmap(map, PVHINT_H2G_OFF);
		close(fd);
		snprintf(err, errlen, "hint region '%s': out of memory", path);
		return -1;
	}
	catch_sigbus_once();
	hints_detach(d, vm_id);
	snprintf(h->path, sizeof(h->path), "%s", path);
	h->fd = fd;
	h->map = map;
	h->state = PVHINT_NO_GUEST;
	pvhint_vm_reset(&h->rd);
	host_part_map(&h->host, fd, d->reg.vms[vm_id].pid);
	d->hints[vm_id] = h;
	if (h->host.map) {
		vs_log("VM '%s': reading guest hints from %s; the host part is stamped for the "
		       "guest driver",
		       d->reg.vms[vm_id].name, path);
	} else {
		vs_warn("VM '%s': reading guest hints from %s, but not writing its host part: %s; "
			"a guest driver will not bind this region (a guest daemon or a VMM "
			"writing hints still works)",
			d->reg.vms[vm_id].name, path, h->host.refusal);
	}
	return 0;
}

int hints_attach_default(struct vs_daemon *d, int vm_id, const char *path, char *err, size_t errlen)
{
	char def[VS_CTL_HINTS_PATH_LEN];

	if (path && *path)
		return hints_attach(d, vm_id, path, err, errlen);
	if (!d->opt.hints_dir)
		return 0;
	if (snprintf(def, sizeof(def), "%s/%s", d->opt.hints_dir, d->reg.vms[vm_id].name) >=
	    (int)sizeof(def))
		return 0;
	if (access(def, F_OK))
		return 0; /* this VM publishes no hints */
	return hints_attach(d, vm_id, def, err, errlen);
}

void hints_detach(struct vs_daemon *d, int vm_id)
{
	struct vs_hint_vm *h = d->hints[vm_id];

	if (!h)
		return;
	d->hints[vm_id] = NULL;
	d->hint_disables_gone += h->rd.disables;
	mirror(d, vm_id, NULL);
	munmap((void *)h->map, PVHINT_H2G_OFF);
	host_part_unmap(&h->host, NULL);
	close(h->fd);
	free(h);
}

static void log_change(struct vs_daemon *d, int vm_id, struct vs_hint_vm *h, enum pvhint_fault f)
{
	const char *name = d->reg.vms[vm_id].name;

	if (f == h->state || (f == PVHINT_DISABLED && h->state > PVHINT_DISABLED))
		return;
	if (f == PVHINT_OK)
		vs_log_limited(&d->vm_log[vm_id], "VM '%s': guest hints on (%u vCPUs published)",
			       name, ((const struct pvhint_header *)h->map)->nr_vcpus);
	else if (f == PVHINT_NO_GUEST && h->state == PVHINT_OK)
		vs_log_limited(&d->vm_log[vm_id], "VM '%s': the guest stopped publishing hints",
			       name);
	else if (f > PVHINT_DISABLED && h->rd.fault_vcpu == UINT32_MAX)
		vs_err_limited(&d->vm_log[vm_id],
			       "VM '%s': guest hint region %s: %s; hints off for this VM until "
			       "the guest boots again (new boot id) or it is enrolled again",
			       name, h->path, pvhint_fault_str(f));
	else if (f > PVHINT_DISABLED)
		vs_err_limited(&d->vm_log[vm_id],
			       "VM '%s': guest hint region %s, vCPU %u: %s; hints off for this VM "
			       "until the guest boots again (new boot id) or it is enrolled again",
			       name, h->path, h->rd.fault_vcpu, pvhint_fault_str(f));
}

static enum pvhint_fault scan_guarded(struct vs_daemon *d, int vm_id, struct vs_hint_vm *h,
				      uint64_t now, bool counters)
{
	const struct pvhint_limits lim = PVHINT_LIMITS_DEFAULT;
	sigjmp_buf jmp;

	if (sigsetjmp(jmp, 1)) {
		scan_jmp = NULL;
		memset(h->hints, 0, sizeof(h->hints));
		host_part_unmap(&h->host, "the file was truncated under the agent");
		if (!h->rd.disabled) {
			h->rd.disabled = true;
			h->rd.fault = PVHINT_BAD_SIZE;
			h->rd.fault_vcpu = UINT32_MAX;
			h->rd.disabled_host_ns = now;
			h->rd.disables++;
		}
		return PVHINT_BAD_SIZE;
	}
	scan_jmp = &jmp;
	enum pvhint_fault f =
	    pvhint_scan(&h->rd, h->map, PVHINT_H2G_OFF, (uint32_t)d->reg.vms[vm_id].nr_vcpus, now,
			&lim, h->hints, PVHINT_MAX_VCPUS);
	host_part_publish(d, vm_id, &h->host, h->rd.disabled, counters);
	scan_jmp = NULL;
	return f;
}

void hints_tick(struct vs_daemon *d)
{
	uint64_t now = now_ns();
	bool counters, wanted = false;
	int vm_id;

	registry_for_each_vm(vm_id, &d->reg) wanted |= d->hints[vm_id] && d->hints[vm_id]->host.map;
	counters = wanted && host_part_read_counters(d);

	registry_for_each_vm(vm_id, &d->reg)
	{
		struct vs_hint_vm *h = d->hints[vm_id];
		enum pvhint_fault f;

		if (!h)
			continue;
		f = scan_guarded(d, vm_id, h, now, counters);
		log_change(d, vm_id, h, f);
		h->state = f;
		mirror(d, vm_id, h);
	}
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

struct json_object *hints_status_json(struct vs_daemon *d, int vm_id)
{
	struct vs_hint_vm *h = d->hints[vm_id];
	struct json_object *o;
	const char *state;

	if (!h)
		return NULL;
	o = json_object_new_object();
	state = h->rd.disabled ? "off" : h->state == PVHINT_OK ? "on" : "no guest";
	json_object_object_add(o, "path", json_object_new_string(h->path));
	json_object_object_add(o, "state", json_object_new_string(state));
	if (h->rd.disabled)
		json_object_object_add(o, "fault",
				       json_object_new_string(pvhint_fault_str(h->rd.fault)));
	add_u64(o, "disables", h->rd.disables);
	add_u64(o, "torn_reads", h->rd.torn_reads);
	add_u64(o, "idle_flaps", h->rd.idle_flaps);
	add_u64(o, "scans", h->rd.scans);
	json_object_object_add(o, "host_part",
			       json_object_new_string(h->host.map ? "written" : h->host.refusal));
	return o;
}

uint64_t hints_disables_total(struct vs_daemon *d)
{
	uint64_t n = 0;
	int vm_id;

	for (vm_id = 0; vm_id < d->reg.vm_ids; vm_id++)
		if (d->hints[vm_id])
			n += d->hints[vm_id]->rd.disables;
	return n + d->hint_disables_gone;
}

void hints_clear_all(struct vs_daemon *d)
{
	for (int slot = 0; slot < d->reg.vcpu_slots; slot++)
		if (!vs_err_if(vs_maps_write_hint(d, slot, 0), "cannot write vcpu_hints[%d]", slot))
			d->hint_flags[slot] = 0;
}
