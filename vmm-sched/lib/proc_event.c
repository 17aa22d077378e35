/* Decoding the proc connector's datagrams (pure: no syscalls). */
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "proc_event.h"
#include "vcpu_name.h"

/* Bytes of struct proc_event up to and including the union member @member. */
#define EVENT_BYTES(member)                                                                        \
	(offsetof(struct proc_event, event_data) +                                                 \
	 sizeof(((struct proc_event *)0)->event_data.member))

static int ids(struct vs_proc_event *ev, enum vs_proc_event_kind kind, int tid, int tgid, char *err,
	       size_t errlen)
{
	if (tid <= 0 || tgid <= 0) {
		snprintf(err, errlen, "event about thread %d of process %d: not a valid id", tid,
			 tgid);
		return -1;
	}
	ev->kind = kind;
	ev->tid = tid;
	ev->tgid = tgid;
	return 0;
}

int proc_event_decode(const void *buf, size_t len, uint32_t sender_port, struct vs_proc_event *ev,
		      char *err, size_t errlen)
{
	struct nlmsghdr nlh;
	struct cn_msg cn;
	struct proc_event pe;
	size_t payload, need;

	memset(ev, 0, sizeof(*ev));
	if (sender_port != 0) {
		snprintf(err, errlen, "message from netlink port %u, not from the kernel (port 0)",
			 sender_port);
		return -1;
	}
	if (len < sizeof(nlh)) {
		snprintf(err, errlen, "%zu bytes: shorter than a netlink header (%zu)", len,
			 sizeof(nlh));
		return -1;
	}
	memcpy(&nlh, buf, sizeof(nlh));
	if (nlh.nlmsg_len < sizeof(nlh) || nlh.nlmsg_len > len) {
		snprintf(err, errlen, "netlink length %u does not fit the %zu bytes received",
			 nlh.nlmsg_len, len);
		return -1;
	}
	if (nlh.nlmsg_pid != 0) {
		snprintf(err, errlen, "netlink header names port %u, not the kernel (0)",
			 nlh.nlmsg_pid);
		return -1;
	}
	if (nlh.nlmsg_type != NLMSG_DONE) {
		snprintf(err, errlen, "netlink message type %u, not NLMSG_DONE", nlh.nlmsg_type);
		return -1;
	}
	payload = nlh.nlmsg_len - NLMSG_HDRLEN;
	if (payload < sizeof(cn)) {
		snprintf(err, errlen, "%zu bytes of payload: shorter than a connector header (%zu)",
			 payload, sizeof(cn));
		return -1;
	}
	memcpy(&cn, (const char *)buf + NLMSG_HDRLEN, sizeof(cn));
	if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC) {
		snprintf(err, errlen, "connector id %u.%u, not the proc connector (%u.%u)",
			 cn.id.idx, cn.id.val, CN_IDX_PROC, CN_VAL_PROC);
		return -1;
	}
	if (cn.len > payload - sizeof(cn)) {
		snprintf(err, errlen, "connector length %u exceeds the %zu bytes after its header",
			 cn.len, payload - sizeof(cn));
		return -1;
	}
	if (cn.len < offsetof(struct proc_event, event_data)) {
		snprintf(err, errlen, "connector length %u: shorter than a proc event header",
			 cn.len);
		return -1;
	}
	memset(&pe, 0, sizeof(pe));
	memcpy(&pe, (const char *)buf + NLMSG_HDRLEN + sizeof(cn),
	       cn.len < sizeof(pe) ? cn.len : sizeof(pe));
	switch (pe.what) {
	case PROC_EVENT_FORK:
		need = EVENT_BYTES(fork);
		break;
	case PROC_EVENT_EXIT:
		/* Older kernels send no parent ids: the ids and codes are what is used. */
		need = offsetof(struct proc_event, event_data.exit.parent_pid);
		break;
	case PROC_EVENT_COMM:
		need = EVENT_BYTES(comm);
		break;
	case PROC_EVENT_NONE:
		need = EVENT_BYTES(ack);
		break;
	default:
		ev->kind = VS_PROC_EV_OTHER;
		return 0;
	}
	if (cn.len < need) {
		snprintf(err, errlen, "proc event 0x%x of %u bytes: shorter than its %zu", pe.what,
			 cn.len, need);
		return -1;
	}
	switch (pe.what) {
	case PROC_EVENT_FORK:
		return ids(ev, VS_PROC_EV_FORK, pe.event_data.fork.child_pid,
			   pe.event_data.fork.child_tgid, err, errlen);
	case PROC_EVENT_EXIT:
		return ids(ev, VS_PROC_EV_EXIT, pe.event_data.exit.process_pid,
			   pe.event_data.exit.process_tgid, err, errlen);
	case PROC_EVENT_COMM:
		memcpy(ev->comm, pe.event_data.comm.comm, sizeof(ev->comm) - 1);
		return ids(ev, VS_PROC_EV_COMM, pe.event_data.comm.process_pid,
			   pe.event_data.comm.process_tgid, err, errlen);
	default:
		ev->kind = VS_PROC_EV_ACK;
		ev->ack_err = pe.event_data.ack.err;
		return 0;
	}
}

bool proc_event_wants_rescan(const struct vs_proc_event *ev, const char *fork_comm,
			     bool tid_enrolled)
{
	switch (ev->kind) {
	case VS_PROC_EV_COMM:
		return vcpu_index_from_thread_name(ev->comm) >= 0;
	case VS_PROC_EV_FORK:
		return fork_comm && vcpu_index_from_thread_name(fork_comm) >= 0;
	case VS_PROC_EV_EXIT:
		return tid_enrolled || ev->tid == ev->tgid;
	default:
		return false;
	}
}
