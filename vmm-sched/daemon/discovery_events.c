/* When each VM is rescanned for vCPU threads: events, lost events, safety, polling. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "daemon.h"
#include "discovery_events.h"
#include "log.h"
#include "proc_connector.h"
#include "vcpu_threads.h"
#include "vm_discovery.h"

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *const cause_names[VS_RESCAN_NR_CAUSES] = {
    [VS_RESCAN_EVENTS] = "events", [VS_RESCAN_OVERFLOW] = "overflow", [VS_RESCAN_SAFETY] = "safety",
    [VS_RESCAN_POLL] = "poll",	   [VS_RESCAN_HELD] = "held",	      [VS_RESCAN_START] = "start",
};

const char *discovery_cause_name(int cause)
{
	return cause >= 0 && cause < VS_RESCAN_NR_CAUSES && cause_names[cause] ? cause_names[cause]
									       : "?";
}

const char *discovery_mode_name(const struct vs_daemon *d)
{
	return d->disc.fd >= 0 ? "events" : "poll";
}

static void use_polling(struct vs_daemon *d, const char *why)
{
	snprintf(d->disc.poll_reason, sizeof(d->disc.poll_reason), "%s", why);
	vs_log("vCPU thread discovery: polling, every VM's threads rescanned from /proc every "
	       "second: %s",
	       why);
}

static void count(struct vs_daemon *d, enum vs_rescan_cause cause, int vms, uint64_t t0)
{
	d->disc.rescans[cause] += (uint64_t)vms;
	d->disc.rescan_ns += monotonic_ns() - t0;
	d->disc.last_cause = cause;
}

void discovery_start(struct vs_daemon *d)
{
	char err[256], why[350];
	uint64_t now = monotonic_ns();

	d->disc.fd = -1;
	d->disc.full_ns = now;
	if (d->opt.discovery_poll) {
		use_polling(d, "discovery = poll was set (--discovery poll)");
	} else {
		d->disc.fd = proc_connector_open(err, sizeof(err));
		if (d->disc.fd < 0) {
			snprintf(why, sizeof(why),
				 "the kernel's process events are not available: %s", err);
			use_polling(d, why);
		}
	}
	/* Adopted VMs, listened to from now on: what changed before is in /proc. */
	if (d->reg.nr_vms) {
		int vms = d->reg.nr_vms;

		vm_rescan_all(d);
		count(d, VS_RESCAN_START, vms, now);
	}
	if (d->disc.fd < 0)
		return;
	vs_log("vCPU thread discovery: process events (proc connector); a VM is rescanned from "
	       "/proc after events about its threads, every VM every %u s (--safety-rescan-s) "
	       "and after lost events",
	       d->opt.safety_rescan_s);
}

int discovery_fd(struct vs_daemon *d)
{
	return d->disc.fd;
}

/* Only a hint: the rescan reads /proc and applies every check as if polling. */
static void on_event(void *ctx, const struct vs_proc_event *ev)
{
	struct vs_daemon *d = ctx;
	int vm_id = registry_find_vm_by_pid(&d->reg, ev->tgid);
	char comm[64];
	bool named = false, enrolled = false;

	if (vm_id < 0)
		return;
	if (ev->kind == VS_PROC_EV_FORK)
		named = !process_comm(ev->tid, comm, sizeof(comm));
	if (ev->kind == VS_PROC_EV_EXIT)
		enrolled = registry_find_vcpu_by_tid(&d->reg, ev->tid) >= 0;
	if (!proc_event_wants_rescan(ev, named ? comm : NULL, enrolled))
		return;
	d->disc.vm_events++;
	rescan_debounce_event(&d->disc.vm[vm_id], monotonic_ns());
}

void discovery_on_events(struct vs_daemon *d)
{
	struct vs_proc_counts counts = {.events = d->disc.events, .invalid = d->disc.invalid};
	char why[300];
	int e;

	if (d->disc.fd < 0)
		return;
	e = proc_connector_drain(d->disc.fd, on_event, d, &counts);
	d->disc.events = counts.events;
	d->disc.invalid = counts.invalid;
	if (e == -ENOBUFS) {
		if (!d->disc.overflows++)
			vs_warn("process events were lost (the proc connector's socket "
				"overflowed: threads were created or ended faster than the agent "
				"read them); rescanning every VM from /proc now. Said once; "
				"status counts these as 'overflow' rescans");
		d->disc.events_lost = true;
	} else if (e) {
		snprintf(why, sizeof(why), "reading the process events failed (%s)", strerror(-e));
		proc_connector_close(d->disc.fd);
		d->disc.fd = -1;
		use_polling(d, why);
	}
}

void discovery_on_tick(struct vs_daemon *d)
{
	static const enum vs_rescan_cause of_full[] = {
	    [VS_FULL_RESCAN_OVERFLOW] = VS_RESCAN_OVERFLOW,
	    [VS_FULL_RESCAN_SAFETY] = VS_RESCAN_SAFETY,
	    [VS_FULL_RESCAN_POLL] = VS_RESCAN_POLL,
	};
	uint64_t now = monotonic_ns();
	enum vs_full_rescan full =
	    rescan_full_due(d->disc.fd >= 0, d->disc.events_lost, now, d->disc.full_ns,
			    (uint64_t)d->opt.safety_rescan_s * 1000000000ULL);
	int vm_id, vms = d->reg.nr_vms;

	if (full != VS_FULL_RESCAN_NONE) {
		vm_rescan_all(d);
		count(d, of_full[full], vms, now);
		d->disc.full_ns = now;
		d->disc.events_lost = false;
		for (vm_id = 0; vm_id < VS_MAX_VMS; vm_id++)
			rescan_debounce_done(&d->disc.vm[vm_id], now);
		return;
	}
	registry_for_each_vm(vm_id, &d->reg)
	{
		struct vs_rescan_debounce *s = &d->disc.vm[vm_id];
		enum vs_rescan_cause cause;
		uint64_t t0 = monotonic_ns();

		if (rescan_debounce_due(s, now))
			cause = VS_RESCAN_EVENTS;
		else if (d->disc.held[vm_id] && now - s->rescan_ns >= VS_RESCAN_POLL_NS)
			cause = VS_RESCAN_HELD;
		else
			continue;
		rescan_debounce_done(s, now);
		vm_rescan(d, vm_id);
		count(d, cause, 1, t0);
	}
}

static void put_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void put_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

struct json_object *discovery_status_json(struct vs_daemon *d)
{
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();
	uint64_t total = 0;

	put_str(o, "mode", discovery_mode_name(d));
	if (d->disc.fd < 0)
		put_str(o, "poll_reason", d->disc.poll_reason);
	put_u64(o, "safety_rescan_s", d->opt.safety_rescan_s);
	put_u64(o, "events", d->disc.events);
	put_u64(o, "vm_events", d->disc.vm_events);
	put_u64(o, "invalid_events", d->disc.invalid);
	put_u64(o, "overflows", d->disc.overflows);
	for (int c = 0; c < VS_RESCAN_NR_CAUSES; c++) {
		put_u64(r, discovery_cause_name(c), d->disc.rescans[c]);
		total += d->disc.rescans[c];
	}
	json_object_object_add(o, "rescans", r);
	put_str(o, "last_rescan_cause", total ? discovery_cause_name(d->disc.last_cause) : "none");
	put_u64(o, "rescan_ns", d->disc.rescan_ns);
	return o;
}

void discovery_stop(struct vs_daemon *d)
{
	proc_connector_close(d->disc.fd);
	d->disc.fd = -1;
}
