/*
 * The agent's event loop on io_uring (liburing): one-shot polls on the signal
 * fd, the control server's epoll fd (its socket and connections: none of
 * them ever blocks the loop), the message ring buffer and a VS_MSG_DRAIN_MS
 * timer, the libvirt thread's message pipe (libvirt_enrol.h) and the kernel's
 * process events (discovery_events.h), re-armed after each completion. The
 * timer also drives the share plan (every VS_SHARE_TICK_MS), the /proc
 * rescans that are due and the control connections' deadlines. With --placement agent a second
 * timer runs the planner's epochs, armed only while a vCPU is runnable.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "control_server.h"
#include "control_socket.h"
#include "daemon.h"
#include "discovery_events.h"
#include "event_loop.h"
#include "hint_regions.h"
#include "libvirt_enrol.h"
#include "log.h"
#include "metrics_server.h"
#include "planner_loop.h"
#include "sched_loader.h"
#include "sched_maps.h"
#include "sched_messages.h"
#include "share_tick.h"
#include "vm_discovery.h"
#include "vm_release.h"

enum loop_source {
	SRC_SIGNAL,
	SRC_CONTROL,
	SRC_MESSAGES,
	SRC_TIMER,
	SRC_LIBVIRT,
	SRC_EPOCH,
	SRC_PROC_EVENTS,
	SRC_COUNT
};

static int arm_poll(struct io_uring *ring, int fd, enum loop_source src)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, src);
	return 0;
}

#define SHARE_EVERY_TICKS   (VS_SHARE_TICK_MS / VS_MSG_DRAIN_MS)
#define METRICS_EVERY_TICKS (VS_METRICS_PUBLISH_MS / VS_MSG_DRAIN_MS)

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void timed_share_tick(struct vs_daemon *d)
{
	uint64_t t0 = monotonic_ns();

	share_tick(d);
	d->share.plans++;
	d->share.plan_ns += monotonic_ns() - t0;
}

static void on_timer(struct vs_daemon *d, int tfd)
{
	uint64_t ticks, drops;

	if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		vs_err("timer read failed: %s", strerror(errno));
	if (vs_sched_exit_kind(d)) {
		vs_sched_report_exit(d);
		d->exit_status = 1;
		d->stop = true;
		return;
	}
	/* Most messages wake nobody (send_msg in the scheduler): read them now. */
	vs_msgs_poll(d);
	/* Lost messages: rebuild the agent's view from the maps rather than diverge. */
	drops = vs_maps_msg_drops(d);
	if (drops != d->msgs.drops_seen) {
		vs_log("the scheduler dropped %llu messages (ring buffer full: the agent lagged); "
		       "resynchronising vCPU and CPU state from the maps",
		       (unsigned long long)(drops - d->msgs.drops_seen));
		vs_msgs_resync(d);
		d->msgs.drops_seen = drops;
	}
	hints_tick(d);
	if (++d->loop_ticks % SHARE_EVERY_TICKS == 0)
		timed_share_tick(d);
	discovery_on_tick(d);
	if (d->loop_ticks % METRICS_EVERY_TICKS == 0)
		metrics_publish(d);
	control_on_tick(d);
}

/*
 * The epoch timer runs while a vCPU is runnable (an idle host sees no epoch
 * wakeups), every @ms (the planner's back-off may lengthen it); 0: off.
 */
static void epoch_timer_set(int efd, uint32_t ms)
{
	long ns = (long)ms * 1000000L;
	struct itimerspec t = {
	    .it_interval = {ns / 1000000000L, ns % 1000000000L},
	    .it_value = {ns / 1000000000L, ns % 1000000000L},
	};

	if (timerfd_settime(efd, 0, &t, NULL))
		vs_err("cannot set the planner's epoch timer: %s", strerror(errno));
}

/* Runs an epoch; *armed_ms: the timer's period, 0 once stopped. */
static void on_epoch(struct vs_daemon *d, int efd, uint32_t *armed_ms)
{
	uint64_t n;
	uint32_t ms = 0;

	if (read(efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		vs_err("epoch timer read failed: %s", strerror(errno));
	if (planner_loop_epoch(d))
		ms = planner_loop_epoch_ms(d);
	if (ms != *armed_ms)
		epoch_timer_set(efd, ms);
	*armed_ms = ms;
}

int event_loop_run(struct vs_daemon *d)
{
	struct itimerspec every_tick = {
	    .it_interval = {0, VS_MSG_DRAIN_MS * 1000000L},
	    .it_value = {0, VS_MSG_DRAIN_MS * 1000000L},
	};
	struct io_uring ring;
	int fds[SRC_COUNT];
	uint32_t epoch_armed_ms = 0;
	char err[200];
	sigset_t mask;
	int e;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	fds[SRC_SIGNAL] = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	fds[SRC_TIMER] = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	fds[SRC_CONTROL] = control_poll_fd(d);
	fds[SRC_MESSAGES] = vs_msgs_fd(d);
	fds[SRC_LIBVIRT] = d->lv.msg_fd; /* -1 with --libvirt none: not polled */
	fds[SRC_EPOCH] = -1;
	fds[SRC_PROC_EVENTS] = discovery_fd(d); /* -1 in poll mode */
	if (d->opt.placement_agent) {
		if (planner_loop_start(d, err, sizeof(err))) {
			vs_err("%s", err);
			return -1;
		}
		fds[SRC_EPOCH] = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (fds[SRC_EPOCH] < 0) {
			vs_err("cannot create the planner's epoch timer: %s", strerror(errno));
			return -1;
		}
	}
	if (fds[SRC_SIGNAL] < 0 || fds[SRC_TIMER] < 0 ||
	    timerfd_settime(fds[SRC_TIMER], 0, &every_tick, NULL)) {
		vs_err("cannot set up signal and timer fds: %s", strerror(errno));
		return -1;
	}
	e = io_uring_queue_init(8, &ring, 0);
	if (e) {
		vs_err("io_uring_queue_init failed: %s (is io_uring disabled by "
		       "kernel.io_uring_disabled?)",
		       strerror(-e));
		return -1;
	}
	for (int src = 0; src < SRC_COUNT; src++)
		if (fds[src] >= 0)
			arm_poll(&ring, fds[src], src);
	metrics_publish(d);

	while (!d->stop) {
		struct io_uring_cqe *cqe;
		enum loop_source src;

		io_uring_submit(&ring);
		e = io_uring_wait_cqe(&ring, &cqe);
		if (e == -EINTR)
			continue;
		if (e) {
			vs_err("io_uring_wait_cqe failed: %s", strerror(-e));
			d->exit_status = 1;
			break;
		}
		src = (enum loop_source)io_uring_cqe_get_data64(cqe);
		io_uring_cqe_seen(&ring, cqe);
		switch (src) {
		case SRC_SIGNAL: {
			struct signalfd_siginfo si;

			if (read(fds[SRC_SIGNAL], &si, sizeof(si)) == sizeof(si)) {
				vs_log("signal %u: stopping", si.ssi_signo);
				d->stop = true;
			}
			break;
		}
		case SRC_CONTROL:
			control_on_ready(d);
			break;
		case SRC_MESSAGES:
			vs_msgs_poll(d);
			break;
		case SRC_TIMER:
			on_timer(d, fds[SRC_TIMER]);
			break;
		case SRC_LIBVIRT:
			libvirt_on_messages(d);
			break;
		case SRC_EPOCH:
			on_epoch(d, fds[SRC_EPOCH], &epoch_armed_ms);
			break;
		case SRC_PROC_EVENTS:
			discovery_on_events(d);
			fds[SRC_PROC_EVENTS] = discovery_fd(d); /* -1 if it failed: polling */
			break;
		case SRC_COUNT:
			break;
		}
		/* A vCPU no enclave CPU may run: out of SCHED_EXT now, not at the rescan. */
		if (d->escapes_pending)
			vm_release_escaped(d);
		if (!epoch_armed_ms && (src == SRC_MESSAGES || src == SRC_TIMER) &&
		    planner_loop_wanted(d)) {
			epoch_armed_ms = planner_loop_epoch_ms(d);
			epoch_timer_set(fds[SRC_EPOCH], epoch_armed_ms);
		} else if (epoch_armed_ms && src == SRC_MESSAGES &&
			   planner_loop_runnable_changed(d)) {
			/* Backed off, and the runnable vCPUs changed: the base epoch again. */
			epoch_armed_ms = planner_loop_epoch_ms(d);
			epoch_timer_set(fds[SRC_EPOCH], epoch_armed_ms);
		}
		if (src < SRC_COUNT && fds[src] >= 0)
			arm_poll(&ring, fds[src], src);
	}
	io_uring_queue_exit(&ring);
	close(fds[SRC_SIGNAL]);
	close(fds[SRC_TIMER]);
	if (fds[SRC_EPOCH] >= 0)
		close(fds[SRC_EPOCH]);
	planner_loop_stop(d);
	return 0;
}
