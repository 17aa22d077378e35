/* Over 400 lines: the libvirt thread is one state machine (connect, events, backoff, resync). */
/*
 * The libvirt thread (libvirt.h): connection, events, reconnection with
 * backoff and the resync after it; each domain looked at is turned into one
 * message for the loop. Nothing here touches the agent's state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "daemon.h"
#include "libvirt_enrol.h"
#include "libvirt_meta.h"
#include "log.h"
#include "vcpu_name.h"
#include "vcpu_threads.h"
#include "vm_name.h"

#define BACKOFF_MIN_S	1
#define BACKOFF_MAX_S	30
#define TICK_MS		500
#define CGROUP_ROOT	"/sys/fs/cgroup"
#define KEEPALIVE_S	5 /* a hung libvirtd is given up after 3 of these */
#define STOP_WAIT_S	2
#define MAX_PENDING	16
#define PENDING_TRIES	20 /* ticks: 10 s */
#define KVM_WORKER_COMM "kvm-nx-lpage-re"

static struct lv_watch {
	char *uri, *pattern;
	int to_loop[2], from_loop[2];
	pthread_t thread;
	bool running;
	atomic_bool stop;
	virConnectPtr conn;
	bool lost; /* the close callback ran: reconnect */
	int cb_lifecycle, cb_metadata;
	unsigned int backoff_s, attempts;
	uint64_t next_try_ms, now_ms;
	/* Domains whose vCPU threads were not in their cgroups yet: looked at each tick. */
	struct {
		char name[VS_CTL_DOMAIN_LEN];
		int tries;
	} pending[MAX_PENDING];
} w = {.to_loop = {-1, -1}, .from_loop = {-1, -1}, .cb_lifecycle = -1, .cb_metadata = -1};

/* libvirt prints every error to stderr by default: the messages we want are ours. */
static void quiet_errors(void *opaque, virErrorPtr e)
{
}

static void send_msg(struct vs_lv_msg *m)
{
	ssize_t n;

	do
		n = write(w.to_loop[1], m, sizeof(*m));
	while (n < 0 && errno == EINTR);
	/* Once the agent stops, nobody reads them: that is not an error. */
	if (n != (ssize_t)sizeof(*m) && !atomic_load(&w.stop))
		vs_err("libvirt: cannot hand a message to the agent loop: %m");
}

static int read_tgid(int tid)
{
	char path[64], line[128];
	int tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/* The directory holding the vcpuN cgroups of running domain @id, in @out. */
static int find_domain_cgroup(int id, char *out, int len)
{
	static const char *const parents[] = {CGROUP_ROOT "/machine", CGROUP_ROOT "/machine.slice"};

	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++) {
		DIR *dir = opendir(parents[i]);
		struct dirent *de;
		int kind = 0;

		while (dir && (de = readdir(dir))) {
			kind = libvirt_cgroup_dir_kind(de->d_name, id);
			if (kind) {
				snprintf(out, (size_t)len, "%s/%.255s%s", parents[i], de->d_name,
					 kind == 2 ? "/libvirt" : "");
				break;
			}
		}
		if (dir)
			closedir(dir);
		if (kind)
			return 0;
	}
	return -1;
}

/* One vcpuN cgroup's threads: the vCPU thread of index @index, named so in /proc. */
static void read_vcpu_cgroup(const char *dir, int index, struct vs_lv_msg *m)
{
	char path[PATH_MAX + 64], comm[64];
	FILE *f;
	int tid;

	snprintf(path, sizeof(path), "%s/vcpu%d/cgroup.threads", dir, index);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fscanf(f, "%d", &tid) == 1) {
		if (process_comm(tid, comm, sizeof(comm)))
			continue; /* exited */
		/* KVM's huge-page recovery worker lives in qemu's thread group and cgroup. */
		if (!strcmp(comm, KVM_WORKER_COMM))
			continue;
		if (vcpu_index_from_thread_name(comm) != index) {
			vs_err("libvirt domain '%s': thread %d in the cgroup of vCPU %d is named "
			       "'%s', not like vCPU %d: not taken",
			       m->name, tid, index, comm, index);
			continue;
		}
		if (m->nr_tids < VS_LV_MAX_TIDS) {
			m->tids[m->nr_tids] = tid;
			m->index[m->nr_tids++] = index;
		}
		if (m->pid <= 0)
			m->pid = read_tgid(tid);
	}
	fclose(f);
}

static int read_vcpu_threads(int id, struct vs_lv_msg *m)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (find_domain_cgroup(id, dir, sizeof(dir))) {
		snprintf(m->why, sizeof(m->why),
			 "no cgroup of domain id %d under %s/machine or %s/machine.slice (is "
			 "the cgroup v2 tree mounted and libvirt's cgroup controller on?)",
			 id, CGROUP_ROOT, CGROUP_ROOT);
		return -1;
	}
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char *end;
		long index;

		if (strncmp(de->d_name, "vcpu", 4))
			continue;
		index = strtol(de->d_name + 4, &end, 10);
		if (!*end && end != de->d_name + 4 && index >= 0 && index < VS_MAX_VCPUS)
			read_vcpu_cgroup(dir, (int)index, m);
	}
	if (d)
		closedir(d);
	if (!m->nr_tids || m->pid <= 0) {
		snprintf(m->why, sizeof(m->why), "no vCPU threads in the vcpuN cgroups of %.400s",
			 dir);
		return -1;
	}
	return 0;
}

/*
 * libvirt moves vCPU threads into their cgroups while it starts the domain,
 * after it is already active: a domain looked at in between is looked at
 * again on the next ticks. Returns whether to keep waiting (@name is queued).
 */
static bool wait_for_cgroups(const char *name)
{
	int free_slot = -1;

	for (int i = 0; i < MAX_PENDING; i++) {
		if (!w.pending[i].name[0]) {
			if (free_slot < 0)
				free_slot = i;
		} else if (!strcmp(w.pending[i].name, name)) {
			return ++w.pending[i].tries < PENDING_TRIES;
		}
	}
	if (free_slot < 0)
		return false;
	snprintf(w.pending[free_slot].name, VS_CTL_DOMAIN_LEN, "%s", name);
	w.pending[free_slot].tries = 0;
	return true;
}

static void pending_done(const char *name)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (!strcmp(w.pending[i].name, name))
			w.pending[i].name[0] = '\0';
}

/* What the loop is to do with @dom now; @event says why we look, for the log. */
static void examine(virDomainPtr dom, const char *event)
{
	struct vs_lv_msg m = {0};
	struct vs_lv_meta meta;
	const char *name = virDomainGetName(dom);
	enum vs_lv_optin optin;
	int state = 0, reason;
	char *xml;

	if (!name)
		return;
	vm_name_sanitize(name, m.name, sizeof(m.name));
	if (virDomainIsActive(dom) != 1) {
		pending_done(name);
		m.kind = VS_LV_MSG_RELEASE;
		snprintf(m.why, sizeof(m.why), "it is not running (%s)", event);
		send_msg(&m);
		return;
	}
	xml = virDomainGetXMLDesc(dom, 0);
	if (!xml) {
		vs_err("libvirt domain '%s': cannot read its XML (%s): looked at again on its "
		       "next event",
		       m.name, virGetLastErrorMessage());
		return;
	}
	optin = libvirt_meta_parse(xml, strlen(xml), &meta, m.why, sizeof(m.why));
	free(xml);
	m.share = meta.share;
	snprintf(m.enclave, sizeof(m.enclave), "%s", meta.enclave);
	if (optin == VS_LV_INVALID) {
		pending_done(name);
		m.kind = VS_LV_MSG_INVALID;
		send_msg(&m);
		return;
	}
	if (!libvirt_should_enrol(optin, name, w.pattern)) {
		pending_done(name);
		m.kind = VS_LV_MSG_RELEASE;
		snprintf(m.why, sizeof(m.why), "it is not opted in (%s)", event);
		send_msg(&m);
		return;
	}
	if (virDomainGetState(dom, &state, &reason, 0) == 0)
		m.paused = state == VIR_DOMAIN_PAUSED;
	if (read_vcpu_threads((int)virDomainGetID(dom), &m)) {
		if (wait_for_cgroups(name))
			return;
		m.kind = VS_LV_MSG_NOT_SCHEDULABLE;
	} else {
		m.kind = VS_LV_MSG_ENROL;
	}
	pending_done(name);
	send_msg(&m);
}

static void on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	switch (event) {
	case VIR_DOMAIN_EVENT_STARTED:
		examine(dom, "started");
		break;
	case VIR_DOMAIN_EVENT_RESUMED:
		examine(dom, "resumed");
		break;
	case VIR_DOMAIN_EVENT_STOPPED:
		examine(dom, "stopped");
		break;
	default:
		break;
	}
}

static void on_metadata(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri,
			void *opaque)
{
	if (type == VIR_DOMAIN_METADATA_ELEMENT && nsuri && !strcmp(nsuri, VS_LIBVIRT_NS))
		examine(dom, "metadata changed");
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	w.lost = true;
}

static void resync(void)
{
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(w.conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);

	if (n < 0) {
		vs_err("libvirt: cannot list the running domains: %s", virGetLastErrorMessage());
		return;
	}
	for (int i = 0; i < n; i++) {
		examine(doms[i], "running at connect");
		virDomainFree(doms[i]);
	}
	free(doms);
	vs_log("libvirt: looked at the %d running domains", n);
}

static void disconnect(void)
{
	if (!w.conn)
		return;
	if (w.cb_lifecycle >= 0)
		virConnectDomainEventDeregisterAny(w.conn, w.cb_lifecycle);
	if (w.cb_metadata >= 0)
		virConnectDomainEventDeregisterAny(w.conn, w.cb_metadata);
	virConnectUnregisterCloseCallback(w.conn, on_close);
	virConnectClose(w.conn);
	w.conn = NULL;
	w.cb_lifecycle = w.cb_metadata = -1;
}

static void try_connect(void)
{
	struct vs_lv_msg m = {.kind = VS_LV_MSG_CONNECTED};

	w.attempts++;
	w.conn = virConnectOpen(w.uri);
	if (!w.conn) {
		/* First failure, then at growing intervals: a host without libvirtd is normal. */
		if (!(w.attempts & (w.attempts - 1)))
			vs_log("libvirt: cannot connect to %s (%s; attempt %u): retrying with "
			       "backoff up to %d s. Domains are enrolled once it answers; "
			       "--libvirt none turns libvirt off",
			       w.uri, virGetLastErrorMessage(), w.attempts, BACKOFF_MAX_S);
		w.next_try_ms = w.now_ms + w.backoff_s * 1000ULL;
		w.backoff_s = w.backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : w.backoff_s * 2;
		return;
	}
	w.lost = false;
	virConnectSetKeepAlive(w.conn, KEEPALIVE_S, 3);
	virConnectRegisterCloseCallback(w.conn, on_close, NULL, NULL);
	w.cb_lifecycle =
	    virConnectDomainEventRegisterAny(w.conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
					     VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), NULL, NULL);
	w.cb_metadata =
	    virConnectDomainEventRegisterAny(w.conn, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
					     VIR_DOMAIN_EVENT_CALLBACK(on_metadata), NULL, NULL);
	if (w.cb_lifecycle < 0)
		vs_err("libvirt: cannot subscribe to lifecycle events (%s): domains are looked "
		       "at only when the hook notifies",
		       virGetLastErrorMessage());
	vs_log("libvirt: connected to %s after %u attempt%s", w.uri, w.attempts,
	       w.attempts == 1 ? "" : "s");
	w.attempts = 0;
	w.backoff_s = BACKOFF_MIN_S;
	snprintf(m.why, sizeof(m.why), "%s", w.uri);
	send_msg(&m);
	/* Events are lost while disconnected: start from what runs. */
	resync();
}

static void on_tick(int timer, void *opaque)
{
	w.now_ms += TICK_MS;
	if (w.conn && w.lost) {
		struct vs_lv_msg m = {.kind = VS_LV_MSG_DISCONNECTED};

		vs_log("libvirt: lost the connection to %s; enrolled domains stay scheduled; "
		       "reconnecting",
		       w.uri);
		snprintf(m.why, sizeof(m.why), "connection lost");
		send_msg(&m);
		disconnect();
		w.backoff_s = BACKOFF_MIN_S;
		w.next_try_ms = w.now_ms + BACKOFF_MIN_S * 1000ULL;
	}
	if (!w.conn && w.now_ms >= w.next_try_ms)
		try_connect();
	for (int i = 0; w.conn && i < MAX_PENDING; i++) {
		virDomainPtr dom;

		if (!w.pending[i].name[0])
			continue;
		dom = virDomainLookupByName(w.conn, w.pending[i].name);
		if (!dom) {
			w.pending[i].name[0] = '\0';
			continue;
		}
		examine(dom, "vCPU cgroups ready");
		virDomainFree(dom);
	}
}

/* The loop's notify records: a domain name each, or "" to stop. */
static void on_notify(int watch, int fd, int events, void *opaque)
{
	char name[VS_CTL_DOMAIN_LEN];

	while (read(fd, name, sizeof(name)) == (ssize_t)sizeof(name)) {
		virDomainPtr dom;

		if (!name[0]) {
			atomic_store(&w.stop, true);
			return;
		}
		if (!w.conn)
			continue; /* the resync at connect covers it */
		dom = virDomainLookupByName(w.conn, name);
		if (dom) {
			examine(dom, "hook");
			virDomainFree(dom);
		}
	}
}

static void *watch_main(void *arg)
{
	int timer, handle;

	timer = virEventAddTimeout(TICK_MS, on_tick, NULL, NULL);
	handle =
	    virEventAddHandle(w.from_loop[0], VIR_EVENT_HANDLE_READABLE, on_notify, NULL, NULL);
	try_connect();
	while (!atomic_load(&w.stop))
		if (virEventRunDefaultImpl() < 0)
			break;
	disconnect();
	virEventRemoveTimeout(timer);
	virEventRemoveHandle(handle);
	return NULL;
}

int libvirt_start(struct vs_daemon *d, char *err, size_t errlen)
{
	sigset_t all, old;
	int e;

	d->lv.msg_fd = -1;
	if (!strcmp(d->opt.libvirt_uri, "none")) {
		vs_log("libvirt: off (--libvirt none)");
		return 0;
	}
	w.uri = strdup(d->opt.libvirt_uri);
	w.pattern = d->opt.libvirt_enrol_names ? strdup(d->opt.libvirt_enrol_names) : NULL;
	if (!w.uri || pipe2(w.to_loop, O_CLOEXEC) || pipe2(w.from_loop, O_CLOEXEC | O_NONBLOCK) ||
	    fcntl(w.to_loop[0], F_SETFL, O_NONBLOCK)) {
		snprintf(err, errlen, "libvirt: cannot make the thread's pipes: %s",
			 strerror(errno));
		return -1;
	}
	virSetErrorFunc(NULL, quiet_errors);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		snprintf(err, errlen, "libvirt: cannot initialise the library's event loop");
		return -1;
	}
	w.backoff_s = BACKOFF_MIN_S;
	/*
	 * The thread blocks every signal: SIGTERM must reach the loop's signalfd,
	 * not kill the agent before it gives the threads back.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&w.thread, NULL, watch_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "libvirt: cannot start its thread: %s", strerror(e));
		return -1;
	}
	w.running = true;
	d->lv.enabled = true;
	d->lv.msg_fd = w.to_loop[0];
	vs_log("libvirt: watching %s for domains opted in by <%s:%s xmlns:%s=\"%s\"/>%s%s", w.uri,
	       VS_LIBVIRT_PREFIX, VS_LIBVIRT_ELEM, VS_LIBVIRT_PREFIX, VS_LIBVIRT_NS,
	       w.pattern ? " and domains named like " : "", w.pattern ? w.pattern : "");
	return 0;
}

void libvirt_notify(struct vs_daemon *d, const char *domain)
{
	char rec[VS_CTL_DOMAIN_LEN] = "";

	if (!w.running)
		return;
	snprintf(rec, sizeof(rec), "%s", domain);
	if (write(w.from_loop[1], rec, sizeof(rec)) < 0)
		vs_log("libvirt: notify for '%s' dropped: the libvirt thread lags (%m)", rec);
}

void libvirt_stop(struct vs_daemon *d)
{
	char stop[VS_CTL_DOMAIN_LEN] = "";
	struct timespec deadline;

	if (!w.running)
		return;
	/* The stop record wakes virEventRunDefaultImpl(); the tick does too. */
	atomic_store(&w.stop, true);
	if (write(w.from_loop[1], stop, sizeof(stop)) < 0)
		vs_log("libvirt: the thread stops at its next tick");
	/* Nobody reads messages any more: a write fails instead of blocking. */
	close(w.to_loop[0]);
	d->lv.msg_fd = -1;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_WAIT_S;
	if (pthread_timedjoin_np(w.thread, NULL, &deadline)) {
		/* In a libvirt call to a hung libvirtd: stopping must not wait for it. */
		vs_log("libvirt: the thread did not stop within %d s (libvirtd hangs?): leaving it",
		       STOP_WAIT_S);
		return;
	}
	w.running = false;
	close(w.to_loop[1]);
	close(w.from_loop[0]);
	close(w.from_loop[1]);
	free(w.uri);
	free(w.pattern);
}
