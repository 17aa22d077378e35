#include "ctl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_reply.h"
#include "vmm_sched_ctl.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the agent closes the connection; the reply in *buf, or -1 with err set. */
static int read_reply(int fd, int timeout_ms, char **buf, size_t *len, const char *path, char *err,
		      size_t errlen)
{
	long long deadline = now_ms() + timeout_ms;
	size_t cap = 65536;

	*len = 0;
	*buf = malloc(cap);
	if (!*buf)
		goto nomem;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			snprintf(err, errlen, "vmm-schedd at %s did not answer within %d ms", path,
				 timeout_ms);
			return -1;
		}
		if (*len == cap) {
			char *bigger = cap < VS_CTL_MAX_REPLY ? realloc(*buf, cap * 2) : NULL;

			if (!bigger)
				goto nomem;
			*buf = bigger;
			cap *= 2;
		}
		n = read(fd, *buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "reading the reply of vmm-schedd failed: %s",
				 strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		*len += (size_t)n;
	}
nomem:
	snprintf(err, errlen, "out of memory reading the reply");
	return -1;
}

int ctl_call(const char *socket_path, const struct vs_ctl_request *req, int timeout_ms,
	     struct json_object **reply, char *err, size_t errlen)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char *line = ctl_request_encode(req), *buf = NULL;
	int fd = -1, rc = VS_CTL_EXIT_NO_AGENT;
	size_t len;

	*reply = NULL;
	if (!line) {
		snprintf(err, errlen, "out of memory encoding the request");
		return rc;
	}
	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "the control socket path '%s' is too long", socket_path);
		goto out;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(err, errlen,
			 "cannot reach vmm-schedd at %s: %s (is it running? --socket names "
			 "another path)",
			 socket_path, strerror(errno));
		goto out;
	}
	if (send_all(fd, line, strlen(line))) {
		snprintf(err, errlen, "sending the request to %s failed: %s", socket_path,
			 strerror(errno));
		goto out;
	}
	if (read_reply(fd, timeout_ms, &buf, &len, socket_path, err, errlen))
		goto out;
	switch (ctl_reply_parse(buf, len, reply, err, errlen)) {
	case VS_CTL_REPLY_OK:
		rc = VS_CTL_EXIT_OK;
		break;
	case VS_CTL_REPLY_REFUSED:
		rc = VS_CTL_EXIT_REFUSED;
		break;
	case VS_CTL_REPLY_BROKEN:
		break;
	}
out:
	if (fd >= 0)
		close(fd);
	free(line);
	free(buf);
	return rc;
}
