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

#include "control_requests.h"
#include "control_server.h"
#include "control_socket.h"
#include "ctl_access.h"
#include "ctl_reply.h"
#include "ctl_request.h"
#include "daemon.h"
#include "log.h"
#include "vmm_sched_ctl.h"

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
	return control_request_reply(d, &req);
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

		if (evs[i].data.u32 == VS_CTL_LISTEN_TAG) {
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
