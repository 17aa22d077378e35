/* Over 400 lines: the one parser and encoder of the control protocol, field by field. */
#include "ctl_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "share.h"
#include "text_escape.h"
#include "vm_name.h"
#include "vmm_sched_ctl.h"
#include "err_msg.h"

/* Requests are flat: an object holding at most an array of objects. */
#define REQUEST_MAX_DEPTH 4

static const char *const cmd_names[VS_CTL_NR_CMDS] = {
    [VS_CTL_CMD_STATUS] = "status",
    [VS_CTL_CMD_ENROLL] = "enroll",
    [VS_CTL_CMD_SET] = "set",
    [VS_CTL_CMD_RELEASE] = "release",
    [VS_CTL_CMD_PLACE] = "place",
    [VS_CTL_CMD_ENCLAVE_LIST] = "enclave-list",
    [VS_CTL_CMD_ENCLAVE_CREATE] = "enclave-create",
    [VS_CTL_CMD_ENCLAVE_DESTROY] = "enclave-destroy",
    [VS_CTL_CMD_ENCLAVE_ADD_CORES] = "enclave-add-cores",
    [VS_CTL_CMD_ENCLAVE_REMOVE_CORES] = "enclave-remove-cores",
    [VS_CTL_CMD_VM_MOVE] = "vm-move",
    [VS_CTL_CMD_REBALANCE] = "rebalance",
    [VS_CTL_CMD_NOTIFY] = "notify",
};

const char *ctl_cmd_name(enum vs_ctl_cmd cmd)
{
	return (unsigned int)cmd < VS_CTL_NR_CMDS ? cmd_names[cmd] : "?";
}

int ctl_cmd_from_name(const char *name)
{
	for (int i = 0; i < VS_CTL_NR_CMDS; i++)
		if (strcmp(name, cmd_names[i]) == 0)
			return i;
	return -1;
}

void ctl_request_init(struct vs_ctl_request *req, enum vs_ctl_cmd cmd)
{
	memset(req, 0, sizeof(*req));
	req->cmd = cmd;
	req->share = (struct vs_share_settings){VS_SHARE_KEEP, VS_SHARE_KEEP, VS_SHARE_KEEP};
	req->pairing = -1;
}

/* The enclave commands' fields that are set. */
static void add_enclave_fields(struct json_object *o, const struct vs_ctl_request *req)
{
	char list[1024];

	if (req->enclave[0])
		json_object_object_add(o, "enclave", json_object_new_string(req->enclave));
	if (req->have_cpus) {
		cpuset_format(&req->cpus, list, sizeof(list));
		json_object_object_add(o, "cpus", json_object_new_string(list));
	}
	if (req->pairing >= 0)
		json_object_object_add(o, "pairing",
				       json_object_new_string(req->pairing == VS_PAIRING_RELAXED
								  ? "relaxed"
								  : "strict"));
	if (req->slice_us)
		json_object_object_add(o, "slice_us", json_object_new_int((int)req->slice_us));
	if (req->force)
		json_object_object_add(o, "force", json_object_new_boolean(1));
}

static void add_int_unless_keep(struct json_object *o, const char *key, int v)
{
	if (v != VS_SHARE_KEEP)
		json_object_object_add(o, key, json_object_new_int(v));
}

static struct json_object *placements_json(const struct vs_ctl_request *req)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; i < req->nr_placements && i < VS_CTL_MAX_PLACEMENTS; i++) {
		const struct vs_ctl_placement *pl = &req->placements[i];
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "tid", json_object_new_int(pl->tid));
		json_object_object_add(p, "cpu", json_object_new_int(pl->cpu));
		if (pl->have_seqnum)
			json_object_object_add(p, "seqnum", json_object_new_int64(pl->seqnum));
		json_object_array_add(arr, p);
	}
	return arr;
}

char *ctl_request_encode(const struct vs_ctl_request *req)
{
	struct json_object *o = json_object_new_object();
	const char *text;
	char *line = NULL;
	size_t len;

	if (!o)
		return NULL;
	json_object_object_add(o, "version", json_object_new_int(VS_CTL_VERSION));
	json_object_object_add(o, "cmd", json_object_new_string(ctl_cmd_name(req->cmd)));
	switch (req->cmd) {
	case VS_CTL_CMD_ENROLL:
	case VS_CTL_CMD_SET:
	case VS_CTL_CMD_RELEASE:
		json_object_object_add(o, "pid", json_object_new_int(req->pid));
		if (req->name[0])
			json_object_object_add(o, "name", json_object_new_string(req->name));
		add_int_unless_keep(o, "weight", req->share.weight);
		add_int_unless_keep(o, "reserve", req->share.reserve_cores);
		add_int_unless_keep(o, "cap", req->share.cap_cores);
		if (req->cmd == VS_CTL_CMD_ENROLL && req->enclave[0])
			json_object_object_add(o, "enclave", json_object_new_string(req->enclave));
		if (req->cmd == VS_CTL_CMD_ENROLL && req->hints[0])
			json_object_object_add(o, "hints", json_object_new_string(req->hints));
		break;
	case VS_CTL_CMD_NOTIFY:
		json_object_object_add(o, "domain", json_object_new_string(req->domain));
		break;
	case VS_CTL_CMD_PLACE:
		json_object_object_add(o, "placements", placements_json(req));
		if (req->take_core)
			json_object_object_add(o, "take_core", json_object_new_boolean(1));
		break;
	case VS_CTL_CMD_VM_MOVE:
		json_object_object_add(o, "pid", json_object_new_int(req->pid));
		json_object_object_add(o, "enclave", json_object_new_string(req->enclave));
		break;
	case VS_CTL_CMD_ENCLAVE_CREATE:
	case VS_CTL_CMD_ENCLAVE_DESTROY:
	case VS_CTL_CMD_ENCLAVE_ADD_CORES:
	case VS_CTL_CMD_ENCLAVE_REMOVE_CORES:
		add_enclave_fields(o, req);
		break;
	case VS_CTL_CMD_REBALANCE:
		if (req->dry_run)
			json_object_object_add(o, "dry_run", json_object_new_boolean(1));
		break;
	default:
		break;
	}
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
	if (text)
		line = malloc(len + 2);
	if (line) {
		memcpy(line, text, len);
		memcpy(line + len, "\n", 2);
	}
	json_object_put(o);
	return line;
}

static bool get_int(struct json_object *obj, const char *key, int *out)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	x = json_object_get_int64(v);
	if (x < INT32_MIN || x > INT32_MAX)
		return false;
	*out = (int)x;
	return true;
}

/* An optional share setting: VS_SHARE_KEEP if absent; -1 if not an integer in lo..hi. */
static int get_share_field(struct json_object *req, const char *key, int lo, int hi, int *out)
{
	*out = VS_SHARE_KEEP;
	if (!json_object_object_get_ex(req, key, NULL))
		return 0;
	if (!get_int(req, key, out) || *out < lo || *out > hi)
		return -1;
	return 0;
}

static int parse_placements(struct json_object *req, struct vs_ctl_request *out, char *err,
			    size_t errlen)
{
	struct json_object *arr;
	int i, n, seq;

	if (!json_object_object_get_ex(req, "placements", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return err_msg(err, errlen, "'place' needs an array 'placements'");
	n = (int)json_object_array_length(arr);
	if (n < 1 || n > VS_CTL_MAX_PLACEMENTS)
		return err_msg(err, errlen, "'placements' must hold 1 or %d entries, not %d",
			       VS_CTL_MAX_PLACEMENTS, n);
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		struct vs_ctl_placement *pl = &out->placements[i];

		if (!json_object_is_type(p, json_type_object) || !get_int(p, "tid", &pl->tid) ||
		    pl->tid <= 0 || !get_int(p, "cpu", &pl->cpu) || pl->cpu < 0)
			return err_msg(err, errlen,
				       "placement %d needs a positive integer 'tid' and an integer "
				       "'cpu' >= 0",
				       i);
		if (json_object_object_get_ex(p, "seqnum", NULL)) {
			if (!get_int(p, "seqnum", &seq) || seq < 0)
				return err_msg(err, errlen,
					       "placement %d: 'seqnum' must be an integer >= 0", i);
			pl->have_seqnum = true;
			pl->seqnum = (uint32_t)seq;
		}
	}
	out->nr_placements = n;
	if (json_object_object_get_ex(req, "take_core", &arr)) {
		if (!json_object_is_type(arr, json_type_boolean))
			return err_msg(err, errlen, "'take_core' must be true or false");
		out->take_core = json_object_get_boolean(arr);
	}
	return 0;
}

/* No control bytes (below 0x20, 0x7f): a path that can be logged as it is. */
static bool text_is_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int get_bool(struct json_object *req, const char *key, bool *out, char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return err_msg(err, errlen, "'%s' must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

/* The enclave name under "enclave" (@required, or optional: "" then). */
static int get_enclave(struct json_object *req, bool required, struct vs_ctl_request *out,
		       char *err, size_t errlen)
{
	struct json_object *v;
	char why[160];
	const char *name;

	if (!json_object_object_get_ex(req, "enclave", &v)) {
		if (required)
			return err_msg(err, errlen, "'%s' needs a string 'enclave'",
				       ctl_cmd_name(out->cmd));
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return err_msg(err, errlen, "'enclave' must be a string");
	name = json_object_get_string(v);
	if (enclave_name_check(name, why, sizeof(why)))
		return err_msg(err, errlen, "'enclave': %s", why);
	snprintf(out->enclave, sizeof(out->enclave), "%s", name);
	return 0;
}

/* enclave-*: a name, CPUs, pairing, slice, force as each command takes them. */
static int parse_enclave_request(struct json_object *req, struct vs_ctl_request *out, char *err,
				 size_t errlen)
{
	bool cpus_required =
	    out->cmd == VS_CTL_CMD_ENCLAVE_ADD_CORES || out->cmd == VS_CTL_CMD_ENCLAVE_REMOVE_CORES;
	struct json_object *v;
	char why[160], safe[640];
	int slice;

	out->pairing = -1;
	if (out->cmd == VS_CTL_CMD_ENCLAVE_LIST)
		return 0;
	if (get_enclave(req, true, out, err, errlen))
		return -1;
	if (json_object_object_get_ex(req, "cpus", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return err_msg(err, errlen,
				       "'cpus' must be a string, a CPU list such as \"2-3,6\"");
		if (cpuset_parse(&out->cpus, json_object_get_string(v), why, sizeof(why))) {
			/* The parser quotes the list: never raw control bytes in the reply. */
			escape_control_chars(why, safe, sizeof(safe));
			return err_msg(err, errlen,
				       "'cpus' must be a CPU list such as \"2-3,6\": %s", safe);
		}
		out->have_cpus = true;
	} else if (cpus_required) {
		return err_msg(err, errlen,
			       "'%s' needs a string 'cpus' (a CPU list such as \"2-3\")",
			       ctl_cmd_name(out->cmd));
	}
	if (json_object_object_get_ex(req, "pairing", &v)) {
		const char *m =
		    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

		if (strcmp(m, "strict") == 0)
			out->pairing = VS_PAIRING_STRICT;
		else if (strcmp(m, "relaxed") == 0)
			out->pairing = VS_PAIRING_RELAXED;
		else
			return err_msg(err, errlen, "'pairing' must be \"strict\" or \"relaxed\"");
	}
	if (json_object_object_get_ex(req, "slice_us", NULL)) {
		if (!get_int(req, "slice_us", &slice) || slice < 100 || slice > 1000000)
			return err_msg(err, errlen, "'slice_us' must be an integer 100..1000000");
		out->slice_us = (unsigned int)slice;
	}
	return get_bool(req, "force", &out->force, err, errlen);
}

/* enroll, set, release: a pid, and for enroll and set the share settings and a name. */
static int parse_vm_request(struct json_object *req, const char *cmd, struct vs_ctl_request *out,
			    char *err, size_t errlen)
{
	struct json_object *v;
	char why[160];

	if (!get_int(req, "pid", &out->pid) || out->pid <= 0)
		return err_msg(err, errlen, "'%s' needs a positive integer 'pid'", cmd);
	if (json_object_object_get_ex(req, "name", &v)) {
		const char *name;
		size_t len;

		if (!json_object_is_type(v, json_type_string))
			return err_msg(err, errlen, "'name' must be a string");
		name = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (vm_name_check(name, len, why, sizeof(why)))
			return err_msg(err, errlen, "'name': %s", why);
		memcpy(out->name, name, len + 1);
	}
	if (json_object_object_get_ex(req, "hints", &v)) {
		const char *path;
		size_t len;

		if (strcmp(cmd, "enroll") != 0)
			return err_msg(err, errlen, "'hints' is given only with 'enroll'");
		if (!json_object_is_type(v, json_type_string))
			return err_msg(err, errlen, "'hints' must be a string");
		path = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (path[0] != '/' || len >= sizeof(out->hints) || strlen(path) != len ||
		    !text_is_printable(path))
			return err_msg(err, errlen,
				       "'hints' must be an absolute path of at most %zu printable "
				       "characters",
				       sizeof(out->hints) - 1);
		memcpy(out->hints, path, len + 1);
	}
	if (get_share_field(req, "weight", VS_MIN_WEIGHT, VS_MAX_WEIGHT, &out->share.weight) ||
	    get_share_field(req, "reserve", 0, VS_MAX_CPUS, &out->share.reserve_cores) ||
	    get_share_field(req, "cap", 0, VS_MAX_CPUS, &out->share.cap_cores))
		return err_msg(err, errlen,
			       "'weight' must be an integer %d..%d, 'reserve' and 'cap' integers "
			       "0..%d (cores; cap 0: none)",
			       VS_MIN_WEIGHT, VS_MAX_WEIGHT, VS_MAX_CPUS);
	return 0;
}

/* notify: a libvirt domain name, any printable characters but no control ones. */
static int parse_notify(struct json_object *req, struct vs_ctl_request *out, char *err,
			size_t errlen)
{
	struct json_object *v;
	const char *name;
	size_t len;

	if (!json_object_object_get_ex(req, "domain", &v) ||
	    !json_object_is_type(v, json_type_string))
		return err_msg(err, errlen, "'notify' needs a string 'domain'");
	name = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (!len || len >= sizeof(out->domain))
		return err_msg(err, errlen, "'domain' must have 1..%zu characters",
			       sizeof(out->domain) - 1);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < ' ' || name[i] == 0x7f)
			return err_msg(err, errlen, "'domain' holds a control character");
	memcpy(out->domain, name, len + 1);
	return 0;
}

static int parse_object(struct json_object *req, struct vs_ctl_request *out, char *err,
			size_t errlen)
{
	struct json_object *v;
	char shown[72], safe[300];
	const char *cmd;
	int version, i;

	if (!json_object_is_type(req, json_type_object))
		return err_msg(err, errlen, "the request is not a JSON object");
	if (!get_int(req, "version", &version))
		return err_msg(err, errlen, "the request has no integer 'version'");
	if (version != VS_CTL_VERSION)
		return err_msg(err, errlen,
			       "control protocol version %d is not supported: this daemon speaks "
			       "version %d (use the vmm-schedctl of the same release)",
			       version, VS_CTL_VERSION);
	if (!json_object_object_get_ex(req, "cmd", &v) || !json_object_is_type(v, json_type_string))
		return err_msg(err, errlen, "the request has no string 'cmd'");
	cmd = json_object_get_string(v);
	i = ctl_cmd_from_name(cmd);
	if (i < 0) {
		char known[256] = "";

		for (int k = 0; k < VS_CTL_NR_CMDS; k++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 k ? ", " : "", cmd_names[k]);
		snprintf(shown, sizeof(shown), "%.64s", cmd);
		escape_control_chars(shown, safe, sizeof(safe));
		return err_msg(err, errlen, "unknown command '%s' (known: %s)", safe, known);
	}
	out->cmd = (enum vs_ctl_cmd)i;
	switch (out->cmd) {
	case VS_CTL_CMD_ENROLL:
		if (get_enclave(req, false, out, err, errlen))
			return -1;
		return parse_vm_request(req, cmd, out, err, errlen);
	case VS_CTL_CMD_SET:
	case VS_CTL_CMD_RELEASE:
		return parse_vm_request(req, cmd, out, err, errlen);
	case VS_CTL_CMD_PLACE:
		return parse_placements(req, out, err, errlen);
	case VS_CTL_CMD_NOTIFY:
		return parse_notify(req, out, err, errlen);
	case VS_CTL_CMD_VM_MOVE:
		if (!get_int(req, "pid", &out->pid) || out->pid <= 0)
			return err_msg(err, errlen, "'vm-move' needs a positive integer 'pid'");
		return get_enclave(req, true, out, err, errlen);
	case VS_CTL_CMD_REBALANCE:
		return get_bool(req, "dry_run", &out->dry_run, err, errlen);
	case VS_CTL_CMD_ENCLAVE_LIST:
	case VS_CTL_CMD_ENCLAVE_CREATE:
	case VS_CTL_CMD_ENCLAVE_DESTROY:
	case VS_CTL_CMD_ENCLAVE_ADD_CORES:
	case VS_CTL_CMD_ENCLAVE_REMOVE_CORES:
		return parse_enclave_request(req, out, err, errlen);
	default:
		return 0;
	}
}

static bool only_space(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!buf[i] || !strchr(" \t\r\n", buf[i]))
			return false;
	return true;
}

int ctl_request_parse(const char *buf, size_t len, struct vs_ctl_request *out, char *err,
		      size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *req;
	enum json_tokener_error jerr;
	size_t used;
	int rc;

	ctl_request_init(out, VS_CTL_CMD_STATUS);
	if (len > VS_CTL_MAX_REQUEST)
		return err_msg(err, errlen, "request longer than %d bytes", VS_CTL_MAX_REQUEST);
	tok = json_tokener_new_ex(REQUEST_MAX_DEPTH);
	if (!tok)
		return err_msg(err, errlen, "out of memory parsing the request");
	/* RFC 8259 and nothing more: no trailing commas, single quotes or invalid UTF-8. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
					JSON_TOKENER_VALIDATE_UTF8);
	req = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	used = json_tokener_get_parse_end(tok);
	if (!req && jerr == json_tokener_continue && only_space(buf, len)) {
		json_tokener_free(tok);
		return err_msg(err, errlen, "the request is empty: send one JSON object");
	}
	if (!req && jerr == json_tokener_continue) {
		/* All bytes are in (a bare 12 or null wants to see where it ends): finish. */
		req = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		used = len;
	}
	json_tokener_free(tok);
	if (!req && jerr == json_tokener_success)
		return err_msg(err, errlen, "the request is not a JSON object");
	if (!req && jerr == json_tokener_continue)
		return err_msg(err, errlen, "the request is incomplete JSON (%zu bytes)", len);
	if (!req && jerr == json_tokener_error_parse_eof)
		return err_msg(err, errlen, "the request is incomplete JSON (%zu bytes)", len);
	if (!req)
		return err_msg(err, errlen, "the request is not valid JSON: %s",
			       json_tokener_error_desc(jerr));
	if (!only_space(buf + used, len - used)) {
		json_object_put(req);
		return err_msg(err, errlen,
			       "the request has bytes after its JSON object (one request per "
			       "connection)");
	}
	rc = parse_object(req, out, err, errlen);
	json_object_put(req);
	return rc;
}
