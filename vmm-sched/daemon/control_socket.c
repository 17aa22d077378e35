/* The control socket: path and group checked, bound 0600 (0660 with --control-group), polled by
 * epoll. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control_socket.h"
#include "daemon.h"
#include "log.h"

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
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = VS_CTL_LISTEN_TAG};
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
