/*
 * The control protocol between vmm-schedctl (or the libvirt hook) and
 * vmm-schedd: a Unix stream socket, one JSON request object per connection,
 * one JSON reply object, then the daemon closes the connection.
 *
 *   request: {"version": 1, "cmd": "status"}
 *            {"version": 1, "cmd": "enroll", "pid": 1234, "name": "vm1", "weight": 200,
 *             "reserve": 1, "cap": 2}
 *              weight 1..10000 (default 100); reserve and cap in cores (0: none)
 *            {"version": 1, "cmd": "set", "pid": 1234, "cap": 0}
 *              changes the given ones of weight, reserve and cap of an enrolled VM
 *            {"version": 1, "cmd": "release", "pid": 1234}
 *            {"version": 1, "cmd": "place",
 *             "placements": [{"tid": 4321, "cpu": 2, "seqnum": 17}, ...]}
 *              one vCPU on a CPU, or two on the threads of one core (a group
 *              commit: both or neither); without "seqnum", the agent's latest.
 *              Reply: "placements": [{"tid", "cpu", "seqnum", "outcome"}, ...]
 *   reply:   {"version": 1, "ok": true, ...}
 *            {"version": 1, "ok": false, "error": "what was wrong"}
 *
 * The daemon serves at most VS_CTL_MAX_CONNS connections at once without ever
 * waiting on one: a request must arrive whole within VS_CTL_TIMEOUT_MS of
 * the connect, a reply be read within VS_CTL_REPLY_TIMEOUT_MS. Only root and
 * the --control-group may send anything but status (docs/design.md).
 *
 * Bump VS_CTL_VERSION on any incompatible change; both sides refuse a
 * different version with a message that names both versions.
 */
#ifndef VMM_SCHED_CTL_H
#define VMM_SCHED_CTL_H

#define VS_CTL_VERSION		1
#define VS_CTL_DEFAULT_SOCKET	"/run/vmm-sched/control.sock"
#define VS_CTL_MAX_REQUEST	4096
#define VS_CTL_TIMEOUT_MS	2000  /* the whole request, from the connect */
#define VS_CTL_REPLY_TIMEOUT_MS 10000 /* the whole reply, from when it is ready */
#define VS_CTL_MAX_CONNS	16

#endif
