/* The proc connector: a netlink socket the kernel sends process events to. */
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "proc_connector.h"

/* Room for bursts (a host forking fast) before the kernel drops events. */
#define RCVBUF_BYTES  (4 << 20)
#define PROBE_WAIT_MS 2000

static int send_op(int fd, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nlh;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) req;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = NLMSG_DONE;
	req.nlh.nlmsg_pid = (uint32_t)getpid();
	req.cn.id.idx = CN_IDX_PROC;
	req.cn.id.val = CN_VAL_PROC;
	req.cn.len = sizeof(op);
	req.op = op;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

/* One datagram into @buf; its length, 0 if none is queued, or -errno. */
static ssize_t recv_one(int fd, char *buf, size_t len, uint32_t *port)
{
	struct sockaddr_nl from;
	socklen_t fromlen = sizeof(from);
	ssize_t n = recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	*port = fromlen >= sizeof(from) && from.nl_family == AF_NETLINK ? from.nl_pid : UINT32_MAX;
	return n;
}

/*
 * The kernel sends nothing without an error in some cases (a listener in
 * another pid or user namespace is ignored): rename this thread to its own
 * name and wait for that comm event, or a refused listen's answer.
 */
static int probe(int fd, char *err, size_t errlen)
{
	char name[17] = "", buf[512];
	int self = gettid(), waited = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	prctl(PR_GET_NAME, name, 0, 0, 0);
	if (prctl(PR_SET_NAME, name, 0, 0, 0)) {
		snprintf(err, errlen, "cannot rename the agent's thread to test the events: %s",
			 strerror(errno));
		return -1;
	}
	while (waited < PROBE_WAIT_MS) {
		struct vs_proc_event ev;
		char why[200];
		uint32_t port;
		ssize_t n = recv_one(fd, buf, sizeof(buf), &port);

		if (n < 0 && n != -ENOBUFS) {
			snprintf(err, errlen, "reading the first events failed: %s", strerror(-n));
			return -1;
		}
		if (n == 0 || n == -ENOBUFS) {
			poll(&p, 1, 100);
			waited += 100;
			continue;
		}
		if (proc_event_decode(buf, (size_t)n, port, &ev, why, sizeof(why)))
			continue;
		if (ev.kind == VS_PROC_EV_ACK && ev.ack_err) {
			snprintf(err, errlen, "the kernel refused to send process events: %s",
				 strerror((int)ev.ack_err));
			return -1;
		}
		if (ev.kind == VS_PROC_EV_COMM && ev.tid == self)
			return 0;
	}
	snprintf(err, errlen,
		 "no process event arrived within %d ms of renaming the agent's thread (is the "
		 "agent in another pid or user namespace than the host's?)",
		 PROBE_WAIT_MS);
	return -1;
}

int proc_connector_open(char *err, size_t errlen)
{
	struct sockaddr_nl self = {
	    .nl_family = AF_NETLINK,
	    .nl_groups = CN_IDX_PROC,
	};
	int fd, bytes = RCVBUF_BYTES, e;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (fd < 0) {
		snprintf(err, errlen,
			 "cannot open a NETLINK_CONNECTOR socket: %s (a kernel without "
			 "CONFIG_CONNECTOR?)",
			 strerror(errno));
		return -1;
	}
	/* Not fatal: the default size only loses events sooner (and a full rescan follows). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)))
		vs_warn("cannot enlarge the process events' receive buffer: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&self, sizeof(self))) {
		snprintf(err, errlen,
			 "cannot join the proc connector's group: %s (a kernel without "
			 "CONFIG_PROC_EVENTS, or no CAP_NET_ADMIN?)",
			 strerror(errno));
		close(fd);
		return -1;
	}
	e = send_op(fd, PROC_CN_MCAST_LISTEN);
	if (e) {
		snprintf(err, errlen, "cannot ask the kernel for process events: %s", strerror(-e));
		close(fd);
		return -1;
	}
	if (probe(fd, err, errlen)) {
		proc_connector_close(fd);
		return -1;
	}
	return fd;
}

int proc_connector_drain(int fd, void (*fn)(void *ctx, const struct vs_proc_event *ev), void *ctx,
			 struct vs_proc_counts *counts)
{
	char buf[512], why[200];
	int lost = 0;

	for (;;) {
		struct vs_proc_event ev;
		uint32_t port;
		ssize_t n = recv_one(fd, buf, sizeof(buf), &port);

		if (n == -ENOBUFS) {
			lost = -ENOBUFS; /* the queue after the overflow is still worth reading */
			continue;
		}
		if (n < 0)
			return n;
		if (n == 0)
			return lost;
		if (proc_event_decode(buf, (size_t)n, port, &ev, why, sizeof(why))) {
			if (!counts->invalid++)
				vs_err("ignored a process event message: %s (said once)", why);
			continue;
		}
		if (ev.kind == VS_PROC_EV_FORK || ev.kind == VS_PROC_EV_EXIT ||
		    ev.kind == VS_PROC_EV_COMM) {
			counts->events++;
			fn(ctx, &ev);
		}
	}
}

void proc_connector_close(int fd)
{
	if (fd < 0)
		return;
	send_op(fd, PROC_CN_MCAST_IGNORE);
	close(fd);
}
