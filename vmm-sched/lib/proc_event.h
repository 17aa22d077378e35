/*
 * One datagram of the kernel's proc connector (NETLINK_CONNECTOR, CN_IDX_PROC)
 * decoded and checked: only a well-formed message the kernel sent is used,
 * and only as a hint to re-read /proc (vm_discovery.c), never acted on itself.
 */
#ifndef VS_PROC_EVENT_H
#define VS_PROC_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vs_proc_event_kind {
	VS_PROC_EV_FORK, /* a process or thread was created */
	VS_PROC_EV_EXIT, /* a thread exited */
	VS_PROC_EV_COMM, /* a thread renamed itself (qemu names vCPU threads after creating them) */
	VS_PROC_EV_ACK,	 /* the answer to a listen request (err: 0 or an errno) */
	VS_PROC_EV_OTHER, /* exec, uid, gid, sid, ptrace, coredump: not used */
};

struct vs_proc_event {
	enum vs_proc_event_kind kind;
	int tid;  /* the thread the event is about (the child of a fork) */
	int tgid; /* its process */
	uint32_t ack_err;
	char comm[16]; /* VS_PROC_EV_COMM: the new name, NUL-terminated */
};

/*
 * Decodes @len bytes received from netlink port @sender_port (the nl_pid of
 * the source address: 0 is the kernel). Returns 0 with *@ev, or -1 with err
 * naming what was wrong (short, inconsistent lengths, not the kernel, not a
 * proc connector message).
 */
int proc_event_decode(const void *buf, size_t len, uint32_t sender_port, struct vs_proc_event *ev,
		      char *err, size_t errlen);

/*
 * Does @ev, about a thread of an enrolled VMM, call for a rescan of that VM?
 * A new name that reads like a vCPU's (qemu names its vCPU threads after
 * creating them); a new thread whose name, read from /proc, already reads
 * like one (@fork_comm, inherited from its creator; NULL if unread); the
 * exit of an enrolled vCPU thread (@tid_enrolled) or of the VMM's main
 * thread. Not the I/O worker threads a busy qemu creates and ends all the time.
 */
bool proc_event_wants_rescan(const struct vs_proc_event *ev, const char *fork_comm,
			     bool tid_enrolled);

#endif
