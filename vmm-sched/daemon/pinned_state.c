/*
 * The scheduler's pins under --pin-dir: every map and both links, so that the
 * scheduler keeps running the VMs when the agent dies and a restarted agent
 * re-adopts it. The `abi` map's stamp is written last and read first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "daemon.h"
#include "log.h"
#include "pinned_state.h"
#include "sched_maps.h"
#include "vmm_sched.skel.h"

#define PIN_LINK_OPS	"link_ops"
#define PIN_LINK_SWITCH "link_switch"
#define PIN_STAMP	"abi"

/* bpffs refuses dots in names (reserved): ".bss" maps are pinned as "_bss". */
static void pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1;

	snprintf(buf, len, "%s/%s", dir, name);
	for (char *p = buf + (n < len ? n : len - 1); *p; p++)
		if (*p == '.')
			*p = '_';
}

static bool dir_is_empty(const char *dir)
{
	struct dirent *de;
	DIR *dh = opendir(dir);
	bool empty = true;

	while (dh && (de = readdir(dh)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	if (dh)
		closedir(dh);
	return empty;
}

enum vs_pinned pinned_state_probe(const char *dir, uint32_t *abi_out, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), key = 0;
	struct vs_abi_stamp stamp;
	char path[PATH_MAX];
	struct stat st;
	int fd;

	*abi_out = 0;
	if (stat(dir, &st)) {
		if (errno == ENOENT)
			return VS_PINNED_NONE;
		snprintf(err, errlen, "cannot look at pin directory %s: %s", dir, strerror(errno));
		return VS_PINNED_ERROR;
	}
	if (dir_is_empty(dir))
		return VS_PINNED_NONE;
	pin_path(path, sizeof(path), dir, PIN_STAMP);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return VS_PINNED_INCOMPLETE;
		snprintf(err, errlen, "cannot open the pinned ABI stamp %s: %s", path,
			 strerror(errno));
		return VS_PINNED_ERROR;
	}
	if (bpf_map_get_info_by_fd(fd, &info, &info_len) || info.type != BPF_MAP_TYPE_ARRAY ||
	    info.value_size != sizeof(stamp)) {
		close(fd);
		snprintf(err, errlen,
			 "%s is not a vmm-sched ABI stamp: %s holds something else; choose "
			 "another --pin-dir or remove it",
			 path, dir);
		return VS_PINNED_ERROR;
	}
	if (bpf_map_lookup_elem(fd, &key, &stamp)) {
		snprintf(err, errlen, "cannot read the pinned ABI stamp %s: %s", path,
			 strerror(errno));
		close(fd);
		return VS_PINNED_ERROR;
	}
	close(fd);
	if (stamp.magic == 0)
		return VS_PINNED_INCOMPLETE;
	*abi_out = stamp.abi_version;
	if (stamp.magic != VS_ABI_MAGIC) {
		snprintf(err, errlen, "%s has magic 0x%x, not a vmm-sched ABI stamp", path,
			 stamp.magic);
		return VS_PINNED_ERROR;
	}
	if (stamp.abi_version != VS_ABI_VERSION) {
		snprintf(
		    err, errlen,
		    "the scheduler pinned at %s was loaded by a vmm-schedd of ABI %u, and this "
		    "vmm-schedd speaks ABI %d. The pinned scheduler still runs the VMs. To "
		    "replace it, either stop it with a vmm-schedd of ABI %u (SIGTERM: every "
		    "thread gets its policy back), or unload it with 'vmm-schedd --unload-pinned "
		    "--pin-dir %s' (vCPU threads then run in the fair class until they are "
		    "enrolled again)",
		    dir, stamp.abi_version, VS_ABI_VERSION, stamp.abi_version, dir);
		return VS_PINNED_OTHER_ABI;
	}
	return VS_PINNED_FOUND;
}

/* The pin directory must be on a BPF file system; it is created if missing. */
static int make_pin_dir(const char *dir, char *err, size_t errlen)
{
	struct statfs fs;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen,
			 "cannot create pin directory %s: %s (a BPF file system must be mounted "
			 "there, 'mount -t bpf bpf /sys/fs/bpf', and it refuses names with dots)",
			 dir, strerror(errno));
		return -1;
	}
	if (statfs(dir, &fs) || fs.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen,
			 "pin directory %s is not on a BPF file system: mount one with 'mount -t "
			 "bpf bpf /sys/fs/bpf' or choose another --pin-dir",
			 dir);
		return -1;
	}
	return 0;
}

int pinned_state_lock(struct vs_daemon *d, char *err, size_t errlen)
{
	if (make_pin_dir(d->opt.pin_dir, err, errlen))
		return -1;
	d->pin_lock_fd = open(d->opt.pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->pin_lock_fd < 0) {
		snprintf(err, errlen, "cannot open pin directory %s: %s", d->opt.pin_dir,
			 strerror(errno));
		return -1;
	}
	if (flock(d->pin_lock_fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen,
			 "another vmm-schedd holds the scheduler pinned at %s (%s): stop it first",
			 d->opt.pin_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int adopt_pinned_size(struct bpf_map *map, const char *path, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0 || bpf_map_get_info_by_fd(fd, &info, &len) ||
	    bpf_map__set_max_entries(map, info.max_entries)) {
		snprintf(err, errlen, "cannot read the size of pinned map %s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int pinned_maps_prepare(struct vs_daemon *d, bool adopt, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct bpf_map *map;

	bpf_object__for_each_map(map, d->skel->obj)
	{
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		pin_path(path, sizeof(path), d->opt.pin_dir, bpf_map__name(map));
		if (adopt && access(path, F_OK)) {
			snprintf(
			    err, errlen,
			    "the pinned state at %s lacks map %s: it is damaged; unload it with "
			    "'vmm-schedd --unload-pinned --pin-dir %s'",
			    d->opt.pin_dir, bpf_map__name(map), d->opt.pin_dir);
			return -1;
		}
		/*
		 * Each map's size is the pinned one, whatever --ring-kb, --max-vms
		 * or --max-vcpus say now.
		 */
		if (adopt && !bpf_map__is_internal(map) &&
		    adopt_pinned_size(map, path, err, errlen))
			return -1;
		if (bpf_map__set_pin_path(map, path)) {
			snprintf(err, errlen, "cannot set the pin path of map %s", path);
			return -1;
		}
	}
	return 0;
}

int pinned_links_pin(struct vs_daemon *d, char *err, size_t errlen)
{
	struct vs_abi_stamp stamp = {.magic = VS_ABI_MAGIC, .abi_version = VS_ABI_VERSION};
	char path[PATH_MAX];
	__u32 key = 0;

	pin_path(path, sizeof(path), d->opt.pin_dir, PIN_LINK_SWITCH);
	if (bpf_link__pin(d->switch_link, path))
		goto fail;
	pin_path(path, sizeof(path), d->opt.pin_dir, PIN_LINK_OPS);
	if (bpf_link__pin(d->link, path))
		goto fail;
	/* Last: a stamp says the state is complete. */
	if (bpf_map__update_elem(d->skel->maps.abi, &key, sizeof(key), &stamp, sizeof(stamp), 0)) {
		snprintf(err, errlen, "cannot write the ABI stamp: %s", strerror(errno));
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot pin %s: %s", path, strerror(errno));
	return -1;
}

int pinned_links_open(struct vs_daemon *d, char *err, size_t errlen)
{
	char path[PATH_MAX];

	pin_path(path, sizeof(path), d->opt.pin_dir, PIN_LINK_SWITCH);
	d->switch_link = bpf_link__open(path);
	if (!d->switch_link)
		goto fail;
	pin_path(path, sizeof(path), d->opt.pin_dir, PIN_LINK_OPS);
	d->link = bpf_link__open(path);
	if (!d->link)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen,
		 "cannot open pinned link %s: %s; the pinned state is damaged: unload it with "
		 "'vmm-schedd --unload-pinned --pin-dir %s'",
		 path, strerror(errno), d->opt.pin_dir);
	return -1;
}

static int pinned_state_remove(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dh = opendir(dir);
	int failed = 0;

	if (!dh) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open pin directory %s: %s", dir, strerror(errno));
		return -1;
	}
	/* The directory stays: it carries the agents' lock. */
	while ((de = readdir(dh))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		pin_path(path, sizeof(path), dir, de->d_name);
		if (unlink(path) && errno != ENOENT) {
			snprintf(err, errlen, "cannot unpin %s: %s", path, strerror(errno));
			failed = 1;
		}
	}
	closedir(dh);
	return failed ? -1 : 0;
}

int pinned_state_unload(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;

	pin_path(path, sizeof(path), dir, PIN_LINK_OPS);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (bpf_map_delete_elem(fd, &zero) && errno != ENOENT) {
			snprintf(err, errlen, "cannot unload the scheduler pinned at %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	return pinned_state_remove(dir, err, errlen);
}
