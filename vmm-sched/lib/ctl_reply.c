#include "ctl_reply.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "text_escape.h"
#include "txn_outcome.h"
#include "vmm_sched_ctl.h"

static struct json_object *envelope(bool ok)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "version", json_object_new_int(VS_CTL_VERSION));
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	return o;
}

struct json_object *ctl_reply_ok(void)
{
	return envelope(true);
}

struct json_object *ctl_reply_error(const char *fmt, ...)
{
	struct json_object *o = envelope(false);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

char *ctl_reply_encode(struct json_object *reply, size_t *len)
{
	const char *text = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, len);
	char *line = text ? malloc(*len + 1) : NULL;

	if (!line)
		return NULL;
	memcpy(line, text, *len);
	line[(*len)++] = '\n';
	return line;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
}

enum vs_ctl_reply_kind ctl_reply_parse(const char *buf, size_t len, struct json_object **out,
				       char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *reply, *v;
	enum json_tokener_error jerr;
	int64_t version;

	*out = NULL;
	if (len > VS_CTL_MAX_REPLY || len > INT32_MAX) {
		snprintf(err, errlen, "the reply is longer than %u bytes", VS_CTL_MAX_REPLY);
		return VS_CTL_REPLY_BROKEN;
	}
	tok = json_tokener_new();
	if (!tok) {
		set_err(err, errlen, "out of memory decoding the reply");
		return VS_CTL_REPLY_BROKEN;
	}
	reply = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!reply) {
		snprintf(err, errlen, "the reply is not valid JSON (%s, %zu bytes)",
			 jerr == json_tokener_continue ? "it ends early"
						       : json_tokener_error_desc(jerr),
			 len);
		return VS_CTL_REPLY_BROKEN;
	}
	if (!json_object_is_type(reply, json_type_object)) {
		set_err(err, errlen, "the reply is not a JSON object");
		goto broken;
	}
	if (!json_object_object_get_ex(reply, "version", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		set_err(err, errlen,
			"the reply has no integer 'version': is that socket a vmm-schedd's?");
		goto broken;
	}
	version = json_object_get_int64(v);
	if (version != VS_CTL_VERSION) {
		snprintf(err, errlen,
			 "vmm-schedd speaks control protocol version %lld, this client speaks "
			 "version %d: use vmm-schedctl and vmm-schedd of one release",
			 (long long)version, VS_CTL_VERSION);
		goto broken;
	}
	if (!json_object_object_get_ex(reply, "ok", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		set_err(err, errlen, "the reply has no boolean 'ok'");
		goto broken;
	}
	if (!json_object_get_boolean(v)) {
		char raw[512];

		if (!json_object_object_get_ex(reply, "error", &v) ||
		    !json_object_is_type(v, json_type_string) || !json_object_get_string_len(v)) {
			set_err(err, errlen, "the agent refused the request without saying why");
		} else {
			snprintf(raw, sizeof(raw), "%s", json_object_get_string(v));
			escape_control_chars(raw, err, errlen);
		}
		json_object_put(reply);
		return VS_CTL_REPLY_REFUSED;
	}
	*out = reply;
	return VS_CTL_REPLY_OK;
broken:
	json_object_put(reply);
	return VS_CTL_REPLY_BROKEN;
}

void ctl_reply_add_placed(struct json_object *reply, const struct vs_ctl_placed *placed, int n)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "tid", json_object_new_int(placed[i].tid));
		json_object_object_add(o, "cpu", json_object_new_int(placed[i].cpu));
		json_object_object_add(o, "seqnum", json_object_new_int64(placed[i].seqnum));
		json_object_object_add(o, "outcome", json_object_new_string(placed[i].outcome));
		json_object_array_add(arr, o);
	}
	json_object_object_add(reply, "placements", arr);
}

static bool known_outcome(const char *name)
{
	for (unsigned int i = 0;; i++) {
		const char *known = txn_outcome_name(i);

		if (strcmp(known, "invalid") == 0)
			return false;
		if (strcmp(known, name) == 0)
			return true;
	}
}

int ctl_reply_get_int(struct json_object *reply, const char *key, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(reply, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	*out = json_object_get_int64(v);
	return 0;
}

int ctl_reply_get_placed(struct json_object *reply, struct vs_ctl_placed *placed, int max,
			 char *err, size_t errlen)
{
	struct json_object *arr, *v;
	int n;

	if (!json_object_object_get_ex(reply, "placements", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		set_err(err, errlen, "the reply of 'place' has no array 'placements'");
		return -1;
	}
	n = (int)json_object_array_length(arr);
	if (n < 1 || n > max) {
		snprintf(err, errlen, "the reply of 'place' has %d placements, not 1..%d", n, max);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		int64_t tid, cpu, seq;
		const char *outcome;

		if (!json_object_is_type(p, json_type_object) ||
		    ctl_reply_get_int(p, "tid", &tid) || ctl_reply_get_int(p, "cpu", &cpu) ||
		    ctl_reply_get_int(p, "seqnum", &seq) ||
		    !json_object_object_get_ex(p, "outcome", &v) ||
		    !json_object_is_type(v, json_type_string) || tid <= 0 || tid > INT32_MAX ||
		    cpu < 0 || cpu > INT32_MAX || seq < 0 || seq > UINT32_MAX) {
			snprintf(err, errlen,
				 "placement %d of the reply needs integers 'tid', 'cpu', 'seqnum' "
				 "and a string 'outcome'",
				 i);
			return -1;
		}
		outcome = json_object_get_string(v);
		if (!known_outcome(outcome) || strlen(outcome) >= sizeof(placed[i].outcome)) {
			snprintf(err, errlen, "placement %d of the reply has an unknown outcome",
				 i);
			return -1;
		}
		placed[i].tid = (int)tid;
		placed[i].cpu = (int)cpu;
		placed[i].seqnum = (uint32_t)seq;
		snprintf(placed[i].outcome, sizeof(placed[i].outcome), "%s", outcome);
	}
	return n;
}
