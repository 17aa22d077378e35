/*
 * vmm-schedd's state, all of it in struct vs_daemon (one per process, in main.c).
 * Each .c file declares its functions in its own header.
 */
#ifndef VS_DAEMON_H
#define VS_DAEMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core_cookie.h"
#include "ctl_conn.h"
#include "enclave_set.h"
#include "ratelimit.h"
#include "libvirt_enrol.h"
#include "listen_addr.h"
#include "options.h"
#include "registry.h"
#include "rescan_debounce.h"
#include "share_plan.h"
#include "topology.h"
#include "txn_outcome.h"
#include "vcpu_track.h"

struct vmm_sched;
struct vs_txn;
struct MHD_Daemon;
struct MHD_Response;
struct bpf_link;
struct ring_buffer;
struct vs_hint_vm;
struct json_object;
struct vs_planner_loop;

struct vs_msg_counters {
	uint64_t received, stale, invalid;
	uint64_t late;	     /* applied more than VS_MSG_LATE_NS after they were sent */
	uint64_t resyncs;    /* state rebuilt from the maps after messages were dropped */
	uint64_t drops_seen; /* the scheduler's msg_drops at the last resync */
	uint64_t poll_ns;    /* CLOCK_MONOTONIC when the current batch was read */
};
#define VS_MSG_LATE_NS 100000000ULL
/*
 * The agent reads the message ring at least this often: the scheduler wakes
 * it only for vCPU arrivals and departures or a ring a quarter full.
 */
#define VS_MSG_DRAIN_MS 20

/* The share plan (share_tick.c), redone every VS_SHARE_TICK_MS. */
#define VS_SHARE_TICK_MS     100
#define VS_CORE_SLICE_MIN_NS 2000000ULL
#define VS_CORE_SLICE_MAX_NS 50000000ULL
struct vs_share_state {
	struct share_plan plan;		       /* the latest, for status (all enclaves' VMs) */
	unsigned int active_vcpus[VS_MAX_VMS]; /* each VM's demand at the latest plan */
	bool error_logged;		       /* the settings cannot be planned: said once */
	bool overcommit_logged;		       /* reservations above the enclave: said once */
	struct vs_vm_ctx vm_ctx[VS_MAX_VMS];   /* as last written to BPF */
	uint64_t plans, plan_ns;	       /* plans made and the agent time they took */
};

/* The control socket's server (control_server.c). */
struct vs_ctl_server {
	int epoll_fd; /* the listening socket and every connection */
	bool have_group;
	gid_t group; /* --control-group */
	struct vs_ctl_conn conns[VS_CTL_MAX_CONNS];
	uint64_t timed_out, evicted, refused_conns, denied;
	uint64_t denied_logged_ns, drop_logged_ns; /* for rate-limited log lines */
	uint64_t denied_unlogged, drops_unlogged;
};

/* The metrics server (metrics_server.c): shared with libmicrohttpd's thread. */
struct vs_metrics_server {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	struct MHD_Response *current; /* under lock; NULL until the first publish */
};

/* When VMs are rescanned for vCPU threads (discovery_events.c, vm_discovery.c). */
enum vs_rescan_cause {
	VS_RESCAN_EVENTS,   /* process events about the VM's threads */
	VS_RESCAN_OVERFLOW, /* every VM: events were lost */
	VS_RESCAN_SAFETY,   /* every VM: the safety period (--safety-rescan-s) passed */
	VS_RESCAN_POLL,	    /* every VM: a second passed (poll mode) */
	VS_RESCAN_HELD,	    /* a VM with threads held out for a reason no event tells of */
	VS_RESCAN_START,    /* every adopted VM: threads may have come while no agent ran */
	VS_RESCAN_NR_CAUSES
};
struct vs_discovery {
	int fd;				       /* the proc connector; -1: poll mode */
	char poll_reason[400];		       /* why the agent polls, for the log and status */
	bool events_lost;		       /* a full rescan is due: the socket overflowed */
	uint64_t full_ns;		       /* CLOCK_MONOTONIC of the latest full rescan */
	uint64_t events, invalid;	       /* decoded and refused event messages */
	uint64_t vm_events;		       /* events that called for a VM's rescan */
	uint64_t overflows;		       /* times events were lost */
	uint64_t rescans[VS_RESCAN_NR_CAUSES]; /* VM rescans (one per VM) by cause */
	uint64_t rescan_ns;		       /* agent time they took */
	enum vs_rescan_cause last_cause;
	struct vs_rescan_debounce vm[VS_MAX_VMS];
	/* Threads named like vCPUs left out by their affinity or the VM's KVM vCPU files. */
	uint16_t held[VS_MAX_VMS];
};

struct vs_daemon {
	struct vs_options opt;
	struct vs_topology topo;
	struct vs_enclave_set enclaves;
	struct vs_registry reg;
	struct vs_vcpu_track *vcpu_track; /* by slot, reg.vcpu_slots entries (slot_tables.c) */
	struct vs_cpu_track cpu_track[VS_MAX_CPUS];
	struct vs_msg_counters msgs;
	struct vs_share_state share;

	struct vmm_sched *skel;
	struct bpf_link *link;
	struct bpf_link *switch_link;
	struct ring_buffer *ringbuf;
	int pin_lock_fd; /* the pin directory, flock()ed while this agent runs */
	bool pins_owned; /* remove the pinned state when the agent stops */
	bool adopted;	 /* the scheduler was loaded by a previous agent */
	int ctl_fd;	 /* the listening socket */
	struct vs_ctl_server ctl;
	struct vs_metrics_server metrics;
	struct vs_libvirt lv;			/* libvirt_enrol.h */
	bool escapes_pending;			/* a vCPU's affinity left the enclave */
	struct vs_discovery disc;		/* vm_discovery.c, discovery_events.c */
	struct vs_ratelimit vm_log[VS_MAX_VMS]; /* repeated lines about each VM */
	struct vs_hint_vm *hints[VS_MAX_VMS];	/* guest hint regions (hint_regions.c) */
	uint32_t *hint_flags;			/* vcpu_hints as last written, by slot */
	/* Each vCPU's counters, read in one batch per hints tick for the host parts. */
	struct vs_vcpu_stats *hint_vcpu_stats;
	bool hint_vcpu_stats_failing;	 /* the last read failed (said once) */
	uint64_t hint_disables_gone;	 /* of VMs released since */
	struct vs_txn *txn_slots;	 /* the mmapped transaction slots (txn.c) */
	unsigned int loop_ticks;	 /* VS_MSG_DRAIN_MS timer ticks so far (event_loop.c) */
	struct vs_planner_loop *planner; /* --placement agent (planner_loop.c), else NULL */
	bool stop;
	int exit_status;
};

#endif
