/* The control socket: one JSON request per connection, one JSON reply (vmm_sched_ctl.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "vmm_sched_ctl.h"

static int make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) && errno != EEXIST)
		return -1;
	return 0;
}

/* True if a live daemon answers on @path. */
static bool socket_in_use(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
	close(fd);
	return live;
}

int control_check_free(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "control socket path '%s' is too long", path);
		return -1;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (socket_in_use(&addr)) {
		snprintf(err, errlen, "another vmm-schedd answers on %s: stop it first", path);
		return -1;
	}
	return 0;
}

int control_listen(struct vs_daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *path = d->opt.control_path;
	int fd;

	if (control_check_free(path, err, errlen))
		return -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (make_parent_dir(path)) {
		snprintf(err, errlen, "cannot create the folder of %s: %s", path, strerror(errno));
		return -1;
	}
	unlink(path); /* a stale socket of a daemon that died */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 16)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	chmod(path, 0660);
	d->ctl_fd = fd;
	return 0;
}

void control_close(struct vs_daemon *d)
{
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		unlink(d->opt.control_path);
		d->ctl_fd = -1;
	}
}

static struct json_object *error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct json_object *error_reply(const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "version", json_object_new_int(VS_CTL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

static struct json_object *ok_reply(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "version", json_object_new_int(VS_CTL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

static bool get_int(struct json_object *req, const char *key, int *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int(v);
	return true;
}

/* An optional share setting: VS_SHARE_KEEP if absent; -1 if not an integer in lo..hi. */
static int get_share_field(struct json_object *req, const char *key, int lo, int hi, int *out)
{
	*out = VS_SHARE_KEEP;
	if (!json_object_object_get_ex(req, key, NULL))
		return 0;
	if (!get_int(req, key, out) || *out < lo || *out > hi)
		return -1;
	return 0;
}

/*
 * {"cmd": "place", "placements": [{"tid": T, "cpu": C, "seqnum": S}, ...]}:
 * one placement, or two on the threads of one core committed as a group.
 * Without "seqnum" the agent's latest view of the vCPU is used.
 */
static struct json_object *handle_place(struct vs_daemon *d, struct json_object *req)
{
	struct vs_placement pl[VS_THREADS_PER_CORE] = {0};
	struct json_object *arr, *reply, *outs;
	char err[256] = "";
	int n, i, seq;

	if (!json_object_object_get_ex(req, "placements", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return error_reply("'place' needs an array 'placements'");
	n = (int)json_object_array_length(arr);
	if (n < 1 || n > VS_THREADS_PER_CORE)
		return error_reply("'placements' must hold 1 or %d entries, not %d",
				   VS_THREADS_PER_CORE, n);
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i), *v;

		if (!json_object_is_type(p, json_type_object) || !get_int(p, "tid", &pl[i].tid) ||
		    pl[i].tid <= 0 || !get_int(p, "cpu", &pl[i].cpu) || pl[i].cpu < 0)
			return error_reply("placement %d needs a positive integer 'tid' and an "
					   "integer 'cpu' >= 0",
					   i);
		if (json_object_object_get_ex(p, "seqnum", &v)) {
			if (!get_int(p, "seqnum", &seq) || seq < 0)
				return error_reply("placement %d: 'seqnum' must be an integer >= 0",
						   i);
			pl[i].have_seqnum = true;
			pl[i].seqnum = (uint32_t)seq;
		}
	}
	if (txn_place(d, pl, n, err, sizeof(err)))
		return error_reply("%s", err);
	reply = ok_reply();
	outs = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "tid", json_object_new_int(pl[i].tid));
		json_object_object_add(o, "cpu", json_object_new_int(pl[i].cpu));
		json_object_object_add(o, "seqnum", json_object_new_int64(pl[i].seqnum));
		json_object_object_add(o, "outcome",
				       json_object_new_string(txn_outcome_name(pl[i].outcome)));
		json_object_array_add(outs, o);
	}
	json_object_object_add(reply, "placements", outs);
	return reply;
}

static struct json_object *handle_request(struct vs_daemon *d, struct json_object *req)
{
	struct json_object *v;
	const char *cmd, *name = NULL;
	char err[512];
	int version, pid, vm_id;

	if (!json_object_is_type(req, json_type_object))
		return error_reply("the request is not a JSON object");
	if (!get_int(req, "version", &version))
		return error_reply("the request has no integer 'version'");
	if (version != VS_CTL_VERSION)
		return error_reply("control protocol version %d is not supported: this daemon "
				   "speaks version %d (use the vmm-schedctl of the same release)",
				   version, VS_CTL_VERSION);
	if (!json_object_object_get_ex(req, "cmd", &v) || !json_object_is_type(v, json_type_string))
		return error_reply("the request has no string 'cmd'");
	cmd = json_object_get_string(v);
	if (strcmp(cmd, "status") == 0)
		return status_to_json(d);
	if (strcmp(cmd, "enroll") == 0 || strcmp(cmd, "release") == 0 || strcmp(cmd, "set") == 0) {
		struct vs_share_settings share;

		if (!get_int(req, "pid", &pid) || pid <= 0)
			return error_reply("'%s' needs a positive integer 'pid'", cmd);
		if (json_object_object_get_ex(req, "name", &v)) {
			if (!json_object_is_type(v, json_type_string))
				return error_reply("'name' must be a string");
			name = json_object_get_string(v);
		}
		if (get_share_field(req, "weight", VS_MIN_WEIGHT, VS_MAX_WEIGHT, &share.weight) ||
		    get_share_field(req, "reserve", 0, VS_MAX_CPUS, &share.reserve_cores) ||
		    get_share_field(req, "cap", 0, VS_MAX_CPUS, &share.cap_cores))
			return error_reply(
			    "'weight' must be an integer %d..%d, 'reserve' and 'cap' "
			    "integers 0..%d (cores; cap 0: none)",
			    VS_MIN_WEIGHT, VS_MAX_WEIGHT, VS_MAX_CPUS);
		if (strcmp(cmd, "set") == 0) {
			vm_id = registry_find_vm_by_pid(&d->reg, pid);
			if (vm_id < 0)
				return error_reply("no enrolled VM has pid %d", pid);
			if (vm_set_share(d, vm_id, &share, err, sizeof(err)))
				return error_reply("VM '%s': %s", d->reg.vms[vm_id].name, err);
			return ok_reply();
		}
		if (cmd[0] == 'e') {
			vm_id = vm_enroll(d, pid, name, &share, err, sizeof(err));
			if (vm_id < 0)
				return error_reply("%s", err);
			v = ok_reply();
			json_object_object_add(v, "vm_id", json_object_new_int(vm_id));
			return v;
		}
		vm_id = registry_find_vm_by_pid(&d->reg, pid);
		if (vm_id < 0)
			return error_reply("no enrolled VM has pid %d", pid);
		vm_release(d, vm_id);
		return ok_reply();
	}
	if (strcmp(cmd, "place") == 0)
		return handle_place(d, req);
	return error_reply("unknown command '%.64s' (known: status, enroll, set, release, place)",
			   cmd);
}

/* Reads one request, bounded in size and time so a stuck client cannot stall the agent. */
static int read_request(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, VS_CTL_TIMEOUT_MS) <= 0)
			return -1;
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	return (int)got;
}

static void write_all(int fd, const char *s, size_t len)
{
	while (len) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		ssize_t n;

		if (poll(&p, 1, VS_CTL_TIMEOUT_MS) <= 0)
			return;
		n = send(fd, s, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

void control_accept(struct vs_daemon *d)
{
	char buf[VS_CTL_MAX_REQUEST + 1];
	struct json_object *req, *reply;
	struct json_tokener *tok;
	const char *out;
	int fd, n;

	fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	n = read_request(fd, buf, sizeof(buf));
	if (n < 0) {
		reply = error_reply("no complete request within %d ms", VS_CTL_TIMEOUT_MS);
	} else if ((size_t)n >= VS_CTL_MAX_REQUEST) {
		reply = error_reply("request longer than %d bytes", VS_CTL_MAX_REQUEST);
	} else {
		tok = json_tokener_new();
		req = json_tokener_parse_ex(tok, buf, n);
		if (!req && json_tokener_get_error(tok) == json_tokener_continue)
			reply = error_reply("the request is incomplete JSON (%d bytes)", n);
		else if (!req)
			reply = error_reply("the request is not valid JSON: %s",
					    json_tokener_error_desc(json_tokener_get_error(tok)));
		else
			reply = handle_request(d, req);
		json_object_put(req);
		json_tokener_free(tok);
	}
	out = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	write_all(fd, out, strlen(out));
	write_all(fd, "\n", 1);
	json_object_put(reply);
	close(fd);
}
