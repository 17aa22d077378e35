/*
 * When the agent rescans /proc for VM threads (vm_discovery.c). With process
 * events a VM is rescanned after events about its threads, a burst (qemu
 * creates a thread, then names it "CPU n/KVM") coalesced into one rescan;
 * every VM is rescanned after events were lost and at a slow safety period.
 * Without events (poll mode) every VM is rescanned every second.
 */
#ifndef VS_RESCAN_DEBOUNCE_H
#define VS_RESCAN_DEBOUNCE_H

#include <stdbool.h>
#include <stdint.h>

/* A burst of events is over after this quiet time... */
#define VS_RESCAN_QUIET_NS 10000000ULL
/* ...or, events still coming, this long after its first event. */
#define VS_RESCAN_MAX_DELAY_NS 100000000ULL
/* One VM is rescanned at most this often for events. */
#define VS_RESCAN_MIN_GAP_NS 100000000ULL
/* Poll mode, and VMs with threads held out for a reason no event tells of. */
#define VS_RESCAN_POLL_NS 1000000000ULL

/* One VM's events since its last rescan. */
struct vs_rescan_debounce {
	bool pending;
	uint64_t first_ns, last_ns; /* the first and latest event since the rescan */
	uint64_t rescan_ns;	    /* the latest rescan, 0: none yet */
};

/* An event about one of the VM's threads at @now_ns. */
void rescan_debounce_event(struct vs_rescan_debounce *s, uint64_t now_ns);
/* Is the VM's event rescan due at @now_ns? */
bool rescan_debounce_due(const struct vs_rescan_debounce *s, uint64_t now_ns);
/* The VM was rescanned at @now_ns (for whatever cause): its events are answered. */
void rescan_debounce_done(struct vs_rescan_debounce *s, uint64_t now_ns);

/* Why every VM is rescanned. */
enum vs_full_rescan {
	VS_FULL_RESCAN_NONE,
	VS_FULL_RESCAN_OVERFLOW, /* events were lost */
	VS_FULL_RESCAN_SAFETY,	 /* the safety period passed (events mode) */
	VS_FULL_RESCAN_POLL,	 /* a second passed (poll mode) */
};

/*
 * Whether all VMs are to be rescanned at @now_ns, the last full rescan
 * having been at @last_ns: at once after lost events, else every
 * @safety_ns with events (@events_mode), every VS_RESCAN_POLL_NS without.
 */
enum vs_full_rescan rescan_full_due(bool events_mode, bool events_lost, uint64_t now_ns,
				    uint64_t last_ns, uint64_t safety_ns);

#endif
