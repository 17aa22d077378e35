/*
 * The control protocol's replies (vmm_sched_ctl.h, docs/control-protocol.md):
 * the envelope every reply has ({"version", "ok", "error"}), the place and
 * enroll results, and the one decoder clients use. No system calls.
 */
#ifndef VS_CTL_REPLY_H
#define VS_CTL_REPLY_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* A reply bigger than this is not believed (a status of thousands of vCPUs is far less). */
#define VS_CTL_MAX_REPLY (64u << 20)

/* {"version": VS_CTL_VERSION, "ok": true}; the caller adds what the command returns. */
struct json_object *ctl_reply_ok(void);
/* {"version": VS_CTL_VERSION, "ok": false, "error": the formatted text}. */
struct json_object *ctl_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* @reply as one line ending in '\n', malloc()ed, *len its length; NULL if out of memory. */
char *ctl_reply_encode(struct json_object *reply, size_t *len);

enum vs_ctl_reply_kind {
	VS_CTL_REPLY_OK,      /* *out is the reply (json_object_put() it) */
	VS_CTL_REPLY_REFUSED, /* the agent said no: err is its error text */
	VS_CTL_REPLY_BROKEN,  /* err says why: not JSON, no or another version, no 'ok' */
};

/*
 * Decodes the @len bytes of one reply. The version is checked before
 * anything else, so a client of another release gets a message naming both
 * versions rather than a confusing error about some field.
 */
enum vs_ctl_reply_kind ctl_reply_parse(const char *buf, size_t len, struct json_object **out,
				       char *err, size_t errlen);

/* One placement's result in the reply of 'place'. */
struct vs_ctl_placed {
	int tid;
	int cpu;
	uint32_t seqnum;
	char outcome[24]; /* txn_outcome_name(): "complete", "stale", ... */
};

void ctl_reply_add_placed(struct json_object *reply, const struct vs_ctl_placed *placed, int n);
/* The placements of a 'place' reply: how many (<= @max), or -1 with err saying what is wrong. */
int ctl_reply_get_placed(struct json_object *reply, struct vs_ctl_placed *placed, int max,
			 char *err, size_t errlen);

/* An integer member of a reply (e.g. enroll's "vm_id"): 0, or -1 if absent or not an integer. */
int ctl_reply_get_int(struct json_object *reply, const char *key, int64_t *out);

#endif
