/*
 * Guest hint regions (docs/guest-abi.md): per hinted VM, the backing file of
 * its ivshmem device mapped read-only; each agent tick reads it through
 * lib/pvhint_region.c and mirrors the valid hints into the scheduler's
 * vcpu_hints map. A malformed region turns that VM's hints off (a log line,
 * a counter in status); nothing in it reaches another VM or the agent.
 * The host part of the region (the mark the guest driver binds to, and each
 * vCPU's host-to-guest slot) is written through a second, read-write mapping,
 * only if the file passes pvhint_h2g_refusal().
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
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/magic.h>

#include "ctl_request.h"
#include "daemon.h"
#include "hint_regions.h"
#include "log.h"
#include "pvhint_h2g.h"
#include "pvhint_region.h"
#include "sched_maps.h"

struct vs_hint_vm {
	char path[VS_CTL_HINTS_PATH_LEN];
	int fd;
	const unsigned char *map; /* the guest part, PVHINT_H2G_OFF bytes, read-only */
	struct pvhint_vm rd;
	enum pvhint_fault state; /* of the last scan */
	struct pvhint_hint hints[PVHINT_MAX_VCPUS];
	unsigned char *h2g;	 /* the host part, PVHINT_H2G_MAP_LEN bytes; NULL: not written */
	const char *h2g_refusal; /* why not, if !h2g */
	uint32_t h2g_seq[PVHINT_MAX_VCPUS];
	struct pvhint_h2g_vals h2g_sent[PVHINT_MAX_VCPUS];
	bool h2g_sent_once[PVHINT_MAX_VCPUS];
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

static bool on_shared_memory_fs(int fd)
{
	struct statfs fs;

	return !fstatfs(fd, &fs) && (fs.f_type == TMPFS_MAGIC || fs.f_type == HUGETLBFS_MAGIC);
}

/*
 * Maps the host part of @fd read-write if the file may be written (see
 * pvhint_h2g_refusal()); reopened through /proc/self/fd so that it is the
 * same file that was checked, not whatever the path names by now.
 */
static void map_host_part(struct vs_hint_vm *h, int fd, int vmm_pid)
{
	struct pvhint_file_facts facts = {0};
	struct stat st, proc;
	char self[64];
	void *map;
	int wfd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	wfd = open(self, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (wfd < 0) {
		h->h2g_refusal = "the agent cannot open it for writing";
		return;
	}
	snprintf(self, sizeof(self), "/proc/%d", vmm_pid);
	if (fstat(wfd, &st) || stat(self, &proc)) {
		h->h2g_refusal = "cannot stat the file or the VM process";
		close(wfd);
		return;
	}
	facts = (struct pvhint_file_facts){
	    .regular = S_ISREG(st.st_mode),
	    .on_shared_memory_fs = on_shared_memory_fs(wfd),
	    .links = st.st_nlink,
	    .size = (uint64_t)st.st_size,
	    .owner_uid = st.st_uid,
	    .vmm_uid = proc.st_uid,
	};
	h->h2g_refusal = pvhint_h2g_refusal(&facts);
	if (h->h2g_refusal) {
		close(wfd);
		return;
	}
	map =
	    mmap(NULL, PVHINT_H2G_MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, PVHINT_H2G_OFF);
	close(wfd);
	if (map == MAP_FAILED) {
		h->h2g_refusal = "mmap of the host part failed";
		return;
	}
	h->h2g = map;
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
	map_host_part(h, fd, d->reg.vms[vm_id].pid);
	d->hints[vm_id] = h;
	if (h->h2g) {
		vs_log("VM '%s': reading guest hints from %s; the host part is stamped for the "
		       "guest driver",
		       d->reg.vms[vm_id].name, path);
	} else {
		vs_warn("VM '%s': reading guest hints from %s, but not writing its host part: %s; "
			"a guest driver will not bind this region (a guest daemon or a VMM "
			"writing hints still works)",
			d->reg.vms[vm_id].name, path, h->h2g_refusal);
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
	if (h->h2g)
		munmap(h->h2g, PVHINT_H2G_MAP_LEN);
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

/*
 * Stamps the mark and tells each vCPU what the host did to it; a slot is
 * rewritten only when its values change.
 */
static void publish_host_part(struct vs_daemon *d, int vm_id, struct vs_hint_vm *h, bool counters)
{
	int slot;

	pvhint_h2g_stamp(h->h2g, (uint32_t)d->reg.vms[vm_id].nr_vcpus);
	if (!counters)
		return;
	registry_for_each_vcpu(slot, &d->reg)
	{
		const struct vs_vcpu_rec *v = &d->reg.vcpus[slot];
		struct pvhint_h2g_vals vals = {
		    .preemptions = d->hint_vcpu_stats[slot].preempts,
		    .disabled = h->rd.disabled,
		};
		int i = v->vcpu_index;

		if (v->vm_id != vm_id || i < 0 || i >= (int)PVHINT_MAX_VCPUS)
			continue;
		if (h->h2g_sent_once[i] && !memcmp(&vals, &h->h2g_sent[i], sizeof(vals)))
			continue;
		pvhint_h2g_publish(h->h2g, (uint32_t)i, &h->h2g_seq[i], &vals);
		h->h2g_sent[i] = vals;
		h->h2g_sent_once[i] = true;
	}
}

static enum pvhint_fault scan_guarded(struct vs_daemon *d, int vm_id, struct vs_hint_vm *h,
				      uint64_t now, bool counters)
{
	const struct pvhint_limits lim = PVHINT_LIMITS_DEFAULT;
	sigjmp_buf jmp;

	if (sigsetjmp(jmp, 1)) {
		scan_jmp = NULL;
		memset(h->hints, 0, sizeof(h->hints));
		if (h->h2g) {
			munmap(h->h2g, PVHINT_H2G_MAP_LEN);
			h->h2g = NULL;
			h->h2g_refusal = "the file was truncated under the agent";
		}
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
	if (h->h2g)
		publish_host_part(d, vm_id, h, counters);
	scan_jmp = NULL;
	return f;
}

/* One past the highest enrolled vCPU slot. */
static int vcpu_slots_in_use(const struct vs_registry *reg)
{
	int slot, n = 0;

	registry_for_each_vcpu(slot, reg) n = slot + 1;
	return n;
}

/*
 * The vCPU counters the host parts tell the guests, in one bpf() call; false
 * (logged once per run of failures) if they cannot be read this tick.
 */
static bool read_counters_for_host_parts(struct vs_daemon *d)
{
	int err, vm_id;
	bool wanted = false;

	registry_for_each_vm(vm_id, &d->reg) wanted |= d->hints[vm_id] && d->hints[vm_id]->h2g;
	if (!wanted)
		return false;
	err = vs_maps_read_vcpu_stats_batch(d, d->hint_vcpu_stats, vcpu_slots_in_use(&d->reg));
	if (err && !d->hint_vcpu_stats_failing)
		vs_warn("cannot read the vCPU counters for the guests' host-to-guest slots (%s): "
			"the slots keep their last values until a read succeeds",
			strerror(-err));
	d->hint_vcpu_stats_failing = err != 0;
	return !err;
}

void hints_tick(struct vs_daemon *d)
{
	bool counters = read_counters_for_host_parts(d);
	uint64_t now = now_ns();
	int vm_id;

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
	add_u64(o, "scans", h->rd.scans);
	json_object_object_add(o, "host_part",
			       json_object_new_string(h->h2g ? "written" : h->h2g_refusal));
	return o;
}

uint64_t hints_disables_total(struct vs_daemon *d)
{
	uint64_t n = 0;
	int vm_id;

	for (vm_id = 0; vm_id < VS_MAX_VMS; vm_id++)
		if (d->hints[vm_id])
			n += d->hints[vm_id]->rd.disables;
	return n + d->hint_disables_gone;
}

void hints_clear_all(struct vs_daemon *d)
{
	for (int slot = 0; slot < VS_MAX_VCPUS; slot++)
		if (!vs_err_if(vs_maps_write_hint(d, slot, 0), "cannot write vcpu_hints[%d]", slot))
			d->hint_flags[slot] = 0;
}
