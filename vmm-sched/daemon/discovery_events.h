/*
 * When VMs are rescanned for vCPU threads: after the kernel's process events
 * about their threads (the proc connector), every VM after lost events and
 * every --safety-rescan-s; or every second in poll mode (--discovery poll,
 * or no proc connector: said in the log and status).
 */
#ifndef VS_DISCOVERY_EVENTS_H
#define VS_DISCOVERY_EVENTS_H

struct vs_daemon;
struct json_object;

/* Opens the proc connector unless --discovery poll; falls back to polling, saying why. */
void discovery_start(struct vs_daemon *d);
/* The fd to poll for events, -1 in poll mode. */
int discovery_fd(struct vs_daemon *d);
/* The fd is readable: notes which VMs the events concern. */
void discovery_on_events(struct vs_daemon *d);
/* Every loop tick: the rescans that are due. */
void discovery_on_tick(struct vs_daemon *d);
/* "events" or "poll". */
const char *discovery_mode_name(const struct vs_daemon *d);
const char *discovery_cause_name(int cause);
void discovery_stop(struct vs_daemon *d);
/* The mode, the counters and the rescans by cause, for status. */
struct json_object *discovery_status_json(struct vs_daemon *d);

#endif
