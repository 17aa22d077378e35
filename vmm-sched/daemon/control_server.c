/*
 * The control socket: one JSON request per connection, one JSON reply
 * (vmm_sched_ctl.h). Every connection is non-blocking and driven by the
 * event loop through one epoll fd, so no client can make the agent wait:
 * a request must arrive whole within VS_CTL_TIMEOUT_MS of the connect, a
 * reply is written as the client reads it, within VS_CTL_REPLY_TIMEOUT_MS,
 * and at most VS_CTL_MAX_CONNS connections are open (ctl_conn.h says which
 * one goes when another arrives). docs/design.md says why.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl_access.h"
#include "ctl_reply.h"
#include "ctl_request.h"
#include "daemon.h"
#include "vmm_sched_ctl.h"

#define LISTEN_TAG	UINT32_MAX
#define LOG_EVERY_NS	1000000000ULL /* refusals and drops: a line a second at most */
#define MAX_PEER_GROUPS 1024
#define MS		1000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Says what happened once a second at most, with how many such lines were
 * left out since: a client cannot flood the log.
 */
static void log_limited(uint64_t *logged_ns, uint64_t *unlogged, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_limited(uint64_t *logged_ns, uint64_t *unlogged, const char *fmt, ...)
{
	uint64_t now = now_ns();
	char msg[512];
	va_list ap;

	if (*logged_ns && now - *logged_ns < LOG_EVERY_NS) {
		(*unlogged)++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (*unlogged)
		vs_log("%s (and %llu more like it in the last second)", msg,
		       (unsigned long long)*unlogged);
	else
		vs_log("%s", msg);
	*logged_ns = now;
	*unlogged = 0;
}

static int make_parent_dir(const char *path, bool *created)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	*created = false;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) == 0)
		*created = true;
	else if (errno != EEXIST)
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

int control_prepare(struct vs_daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *path = d->opt.control_path;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "control socket path '%s' is too long", path);
		return -1;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (socket_in_use(&addr)) {
		snprintf(err, errlen, "another vmm-schedd answers on %s: stop it first", path);
		return -1;
	}
	if (d->opt.control_group) {
		struct group *g = getgrnam(d->opt.control_group);

		if (!g) {
			snprintf(err, errlen, "--control-group '%s': no such group",
				 d->opt.control_group);
			return -1;
		}
		d->ctl.group = g->gr_gid;
		d->ctl.have_group = true;
	}
	return 0;
}

/*
 * The socket file is the first guard: root only (0600), or root and the
 * --control-group (0660, and the folder we create is theirs to enter).
 */
static int set_socket_mode(struct vs_daemon *d, bool dir_created, char *err, size_t errlen)
{
	const char *path = d->opt.control_path;
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (!d->ctl.have_group) {
		if (!chmod(path, 0600))
			return 0;
		snprintf(err, errlen, "cannot chmod %s: %s", path, strerror(errno));
		return -1;
	}
	if (chown(path, (uid_t)-1, d->ctl.group) || chmod(path, 0660)) {
		snprintf(err, errlen, "cannot give %s to group '%s': %s", path,
			 d->opt.control_group, strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (dir_created && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		if (chown(dir, (uid_t)-1, d->ctl.group))
			vs_warn("cannot give the folder %s to group '%s': %s", dir,
				d->opt.control_group, strerror(errno));
	}
	return 0;
}

int control_listen(struct vs_daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = LISTEN_TAG};
	const char *path = d->opt.control_path;
	bool dir_created, bound;
	mode_t old_umask;
	int fd, ep;

	for (int i = 0; i < VS_CTL_MAX_CONNS; i++)
		d->ctl.conns[i].fd = -1;
	d->ctl.epoll_fd = -1;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (make_parent_dir(path, &dir_created)) {
		snprintf(err, errlen, "cannot create the folder of %s: %s", path, strerror(errno));
		return -1;
	}
	unlink(path); /* a stale socket of a daemon that died */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	old_umask = umask(0177); /* 0600 from the start; set_socket_mode() opens it to the group */
	bound = fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	umask(old_umask);
	if (!bound || listen(fd, VS_CTL_MAX_CONNS * 4)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		snprintf(err, errlen, "cannot set up epoll for the control socket: %s",
			 strerror(errno));
		if (ep >= 0)
			close(ep);
		close(fd);
		unlink(path);
		return -1;
	}
	d->ctl_fd = fd;
	d->ctl.epoll_fd = ep;
	return set_socket_mode(d, dir_created, err, errlen);
}

int control_poll_fd(struct vs_daemon *d)
{
	return d->ctl.epoll_fd;
}

static void conn_close(struct vs_ctl_conn *c)
{
	close(c->fd); /* also takes it out of the epoll set */
	free(c->reply);
	c->fd = -1;
	c->reply = NULL;
}

void control_close(struct vs_daemon *d)
{
	if (d->ctl_fd < 0)
		return;
	for (int i = 0; i < VS_CTL_MAX_CONNS; i++)
		if (d->ctl.conns[i].fd >= 0)
			conn_close(&d->ctl.conns[i]);
	if (d->ctl.epoll_fd >= 0)
		close(d->ctl.epoll_fd);
	d->ctl.epoll_fd = -1;
	close(d->ctl_fd);
	unlink(d->opt.control_path);
	d->ctl_fd = -1;
}

static struct json_object *do_place(struct vs_daemon *d, const struct vs_ctl_request *req)
{
	struct vs_placement pl[VS_CTL_MAX_PLACEMENTS] = {0};
	struct vs_ctl_placed placed[VS_CTL_MAX_PLACEMENTS] = {0};
	struct json_object *reply;
	char err[256] = "";
	int i, n = req->nr_placements;

	for (i = 0; i < n; i++) {
		pl[i].tid = req->placements[i].tid;
		pl[i].cpu = req->placements[i].cpu;
		pl[i].have_seqnum = req->placements[i].have_seqnum;
		pl[i].seqnum = req->placements[i].seqnum;
	}
	if (txn_place(d, pl, n, err, sizeof(err)))
		return ctl_reply_error("%s", err);
	for (i = 0; i < n; i++) {
		placed[i].tid = pl[i].tid;
		placed[i].cpu = pl[i].cpu;
		placed[i].seqnum = pl[i].seqnum;
		snprintf(placed[i].outcome, sizeof(placed[i].outcome), "%s",
			 txn_outcome_name(pl[i].outcome));
	}
	reply = ctl_reply_ok();
	ctl_reply_add_placed(reply, placed, n);
	return reply;
}

static struct json_object *do_enclave(struct vs_daemon *d, const struct vs_ctl_request *req)
{
	const struct vs_cpuset *cpus = req->have_cpus ? &req->cpus : NULL;
	struct json_object *reply, *plan;
	char err[512] = "";
	int rc = 0;

	switch (req->cmd) {
	case VS_CTL_CMD_ENCLAVE_LIST:
		reply = ctl_reply_ok();
		json_object_object_add(reply, "enclaves", enclaves_json(d));
		return reply;
	case VS_CTL_CMD_ENCLAVE_CREATE:
		rc = enclave_create(d, req->enclave, cpus, req->pairing, req->slice_us, err,
				    sizeof(err));
		break;
	case VS_CTL_CMD_ENCLAVE_DESTROY:
		rc = enclave_destroy(d, req->enclave, req->force, err, sizeof(err));
		break;
	case VS_CTL_CMD_ENCLAVE_ADD_CORES:
		rc = enclave_add_cores(d, req->enclave, cpus, err, sizeof(err));
		break;
	case VS_CTL_CMD_ENCLAVE_REMOVE_CORES:
		rc = enclave_remove_cores(d, req->enclave, cpus, err, sizeof(err));
		break;
	default: /* rebalance */
		plan = enclave_rebalance(d, req->dry_run, err, sizeof(err));
		if (!plan)
			return ctl_reply_error("%s", err);
		reply = ctl_reply_ok();
		json_object_object_add(reply, "dry_run", json_object_new_boolean(req->dry_run));
		json_object_object_add(reply, "moves", plan);
		return reply;
	}
	if (rc)
		return ctl_reply_error("%s", err);
	reply = ctl_reply_ok();
	json_object_object_add(reply, "enclaves", enclaves_json(d));
	return reply;
}

static struct json_object *do_request(struct vs_daemon *d, const struct vs_ctl_request *req)
{
	struct json_object *reply;
	char err[512];
	int vm_id, enclave;

	switch (req->cmd) {
	case VS_CTL_CMD_STATUS:
		return status_to_json(d);
	case VS_CTL_CMD_ENROLL:
		enclave = req->enclave[0] ? enclave_set_find(&d->enclaves, req->enclave)
					  : VS_ENCLAVE_DEFAULT;
		if (enclave < 0)
			return ctl_reply_error("no enclave named '%s' (vmm-schedctl enclave list)",
					       req->enclave);
		vm_id = vm_enroll(d, req->pid, req->name[0] ? req->name : NULL, &req->share,
				  enclave, err, sizeof(err));
		if (vm_id < 0)
			return ctl_reply_error("%s", err);
		if (hints_attach_default(d, vm_id, req->hints, err, sizeof(err))) {
			vm_release(d, vm_id);
			return ctl_reply_error("%s", err);
		}
		reply = ctl_reply_ok();
		json_object_object_add(reply, "vm_id", json_object_new_int(vm_id));
		return reply;
	case VS_CTL_CMD_SET:
	case VS_CTL_CMD_RELEASE:
		vm_id = registry_find_vm_by_pid(&d->reg, req->pid);
		if (vm_id < 0)
			return ctl_reply_error("no enrolled VM has pid %d", req->pid);
		if (req->cmd == VS_CTL_CMD_RELEASE) {
			vm_release(d, vm_id);
			return ctl_reply_ok();
		}
		if (vm_set_share(d, vm_id, &req->share, err, sizeof(err)))
			return ctl_reply_error("VM '%s': %s", d->reg.vms[vm_id].name, err);
		return ctl_reply_ok();
	case VS_CTL_CMD_PLACE:
		return do_place(d, req);
	case VS_CTL_CMD_NOTIFY:
		if (!d->lv.enabled)
			return ctl_reply_error(
			    "libvirt is off (--libvirt none): nothing to notify");
		libvirt_notify(d, req->domain);
		return ctl_reply_ok();
	case VS_CTL_CMD_VM_MOVE:
		vm_id = registry_find_vm_by_pid(&d->reg, req->pid);
		if (vm_id < 0)
			return ctl_reply_error("no enrolled VM has pid %d", req->pid);
		if (vm_move(d, vm_id, req->enclave, err, sizeof(err)))
			return ctl_reply_error("%s", err);
		return ctl_reply_ok();
	case VS_CTL_CMD_ENCLAVE_LIST:
	case VS_CTL_CMD_ENCLAVE_CREATE:
	case VS_CTL_CMD_ENCLAVE_DESTROY:
	case VS_CTL_CMD_ENCLAVE_ADD_CORES:
	case VS_CTL_CMD_ENCLAVE_REMOVE_CORES:
	case VS_CTL_CMD_REBALANCE:
		return do_enclave(d, req);
	case VS_CTL_NR_CMDS:
		break;
	}
	return ctl_reply_error("unknown command");
}

static struct json_object *handle_request(struct vs_daemon *d, struct vs_ctl_conn *c)
{
	struct vs_ctl_request req;
	char err[512];

	if (ctl_request_parse(c->req, c->req_len, &req, err, sizeof(err)))
		return ctl_reply_error("%s", err);
	if (ctl_access_check(&c->peer, req.cmd, d->opt.control_group, err, sizeof(err))) {
		d->ctl.denied++;
		log_limited(&d->ctl.denied_logged_ns, &d->ctl.denied_unlogged,
			    "control: refused '%s' from uid %u: not root nor in the control group",
			    ctl_cmd_name(req.cmd), (unsigned int)c->peer.uid);
		return ctl_reply_error("%s", err);
	}
	return do_request(d, &req);
}

/* Writes what the client takes now; closes the connection once the reply is out. */
static void conn_write(struct vs_ctl_conn *c)
{
	while (c->reply_sent < c->reply_len) {
		ssize_t n = send(c->fd, c->reply + c->reply_sent, c->reply_len - c->reply_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* EPOLLOUT says when to go on */
		if (n <= 0)
			break; /* the client went away */
		c->reply_sent += (size_t)n;
	}
	conn_close(c);
}

/* Takes ownership of @reply; from now on the connection only writes. */
static void conn_reply(struct vs_daemon *d, struct vs_ctl_conn *c, struct json_object *reply)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)(c - d->ctl.conns)};

	c->reply = ctl_reply_encode(reply, &c->reply_len);
	json_object_put(reply);
	if (!c->reply) {
		conn_close(c);
		return;
	}
	c->reply_sent = 0;
	c->replying = true;
	c->deadline_ns = now_ns() + VS_CTL_REPLY_TIMEOUT_MS * MS;
	if (epoll_ctl(d->ctl.epoll_fd, EPOLL_CTL_MOD, c->fd, &ev)) {
		conn_close(c);
		return;
	}
	conn_write(c);
}

/* A short error for a connection about to be closed, if the socket takes it now. */
static void say_and_close(struct vs_ctl_conn *c, const char *why)
{
	struct json_object *reply = ctl_reply_error("%s", why);
	size_t len;
	char *line = ctl_reply_encode(reply, &len);

	/* Best effort: the connection is dropped either way. */
	if (line)
		send(c->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(line);
	json_object_put(reply);
	conn_close(c);
}

static void conn_read(struct vs_daemon *d, struct vs_ctl_conn *c)
{
	enum vs_ctl_framing f = VS_CTL_REQ_MORE;
	bool eof = false;

	while (c->req_len < sizeof(c->req) - 1) {
		ssize_t n =
		    recv(c->fd, c->req + c->req_len, sizeof(c->req) - 1 - c->req_len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			eof = true;
			break;
		}
		c->req_len += (size_t)n;
		if (memchr(c->req + c->req_len - n, '\n', (size_t)n))
			break;
	}
	c->req[c->req_len] = '\0';
	f = ctl_request_framing(c->req, c->req_len, eof);
	if (f == VS_CTL_REQ_MORE)
		return;
	if (f == VS_CTL_REQ_TOO_LONG) {
		conn_reply(d, c,
			   ctl_reply_error("request longer than %d bytes", VS_CTL_MAX_REQUEST));
		return;
	}
	if (!eof)
		c->req_len = (size_t)((char *)memchr(c->req, '\n', c->req_len) - c->req) + 1;
	else if (c->req_len == 0) {
		conn_close(c); /* connected and hung up: nothing to answer */
		return;
	}
	conn_reply(d, c, handle_request(d, c));
}

static void read_peer(struct vs_daemon *d, int fd, struct vs_ctl_peer *peer)
{
	struct ucred cred = {.uid = (uid_t)-1, .gid = (gid_t)-1};
	socklen_t len = sizeof(cred);
	gid_t groups[MAX_PEER_GROUPS];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		cred.uid = (uid_t)-1; /* no credentials: treated as nobody in particular */
	peer->uid = cred.uid;
	peer->in_control_group = false;
	if (!d->ctl.have_group)
		return;
	if (cred.gid == d->ctl.group) {
		peer->in_control_group = true;
		return;
	}
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		peer->in_control_group = ctl_gid_in(d->ctl.group, groups, len / sizeof(gid_t));
}

/* Accepts what is pending; a full table drops its oldest unfinished request. */
static void accept_new(struct vs_daemon *d)
{
	for (int tries = 0; tries < VS_CTL_MAX_CONNS; tries++) {
		struct epoll_event ev = {.events = EPOLLIN};
		struct vs_ctl_conn *c;
		int fd, slot;

		fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		slot = ctl_conn_pick_slot(d->ctl.conns, VS_CTL_MAX_CONNS);
		if (slot < 0) {
			struct vs_ctl_conn refused = {.fd = fd};

			d->ctl.refused_conns++;
			say_and_close(&refused, "too many control connections are receiving "
						"replies: try again");
			continue;
		}
		c = &d->ctl.conns[slot];
		if (c->fd >= 0) {
			d->ctl.evicted++;
			log_limited(&d->ctl.drop_logged_ns, &d->ctl.drops_unlogged,
				    "control: %d connections open; dropped the oldest (uid %u), "
				    "which had sent %zu bytes and no complete request",
				    VS_CTL_MAX_CONNS, (unsigned int)c->peer.uid, c->req_len);
			say_and_close(c, "dropped: too many control connections, and this one "
					 "sent no complete request");
		}
		memset(c, 0, offsetof(struct vs_ctl_conn, req));
		c->fd = fd;
		c->reply = NULL;
		c->opened_ns = now_ns();
		c->deadline_ns = c->opened_ns + VS_CTL_TIMEOUT_MS * MS;
		read_peer(d, fd, &c->peer);
		ev.data.u32 = (uint32_t)slot;
		if (epoll_ctl(d->ctl.epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
			conn_close(c);
			continue;
		}
		/* A client usually sent its request with the connect: serve it now. */
		conn_read(d, c);
	}
}

void control_on_ready(struct vs_daemon *d)
{
	struct epoll_event evs[VS_CTL_MAX_CONNS + 1];
	bool listen_ready = false;
	int n = epoll_wait(d->ctl.epoll_fd, evs, VS_CTL_MAX_CONNS + 1, 0);

	/* Connections first: a new one may take the slot of an old one. */
	for (int i = 0; i < n; i++) {
		struct vs_ctl_conn *c;

		if (evs[i].data.u32 == LISTEN_TAG) {
			listen_ready = true;
			continue;
		}
		c = &d->ctl.conns[evs[i].data.u32];
		if (c->fd < 0)
			continue;
		if (c->replying)
			conn_write(c);
		else
			conn_read(d, c);
	}
	if (listen_ready)
		accept_new(d);
}

void control_on_tick(struct vs_daemon *d)
{
	uint64_t now = now_ns();

	for (int i = 0; i < VS_CTL_MAX_CONNS; i++) {
		struct vs_ctl_conn *c = &d->ctl.conns[i];
		char why[128];

		if (!ctl_conn_expired(c, now))
			continue;
		d->ctl.timed_out++;
		log_limited(&d->ctl.drop_logged_ns, &d->ctl.drops_unlogged,
			    "control: dropped a connection of uid %u: %s",
			    (unsigned int)c->peer.uid,
			    c->replying ? "it did not read its reply in time"
					: "no complete request in time");
		if (c->replying) {
			conn_close(c);
			continue;
		}
		snprintf(why, sizeof(why), "no complete request within %d ms", VS_CTL_TIMEOUT_MS);
		say_and_close(c, why);
	}
}

struct json_object *control_status_json(struct vs_daemon *d)
{
	struct json_object *o = json_object_new_object();
	int open = 0;

	for (int i = 0; i < VS_CTL_MAX_CONNS; i++)
		open += d->ctl.conns[i].fd >= 0;
	json_object_object_add(
	    o, "group", d->opt.control_group ? json_object_new_string(d->opt.control_group) : NULL);
	json_object_object_add(o, "connections", json_object_new_int(open));
	json_object_object_add(o, "max_connections", json_object_new_int(VS_CTL_MAX_CONNS));
	json_object_object_add(o, "timed_out", json_object_new_int64((int64_t)d->ctl.timed_out));
	json_object_object_add(o, "dropped_when_full",
			       json_object_new_int64((int64_t)d->ctl.evicted));
	json_object_object_add(o, "refused_when_full",
			       json_object_new_int64((int64_t)d->ctl.refused_conns));
	json_object_object_add(o, "denied", json_object_new_int64((int64_t)d->ctl.denied));
	return o;
}
