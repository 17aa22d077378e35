/* Workload files and vCPU behaviour of the simulator (see sim_workload.h). */
#include "sim_workload.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "share.h"

static const struct sim_vm_kind kind_defaults = {
    .count = 1,
    .vcpus = 2,
    .weight = VS_DEFAULT_WEIGHT,
    .node = -1,
    .model = SIM_BUSY,
    .exp_dist = 1,
    .run_ns = 2000000,
    .block_ns = 2000000,
    .hold_ns = 200000,
    .free_ns = 800000,
};

void sim_workload_default(struct sim_workload *w)
{
	memset(w, 0, sizeof(*w));
	w->kinds[0] = kind_defaults;
	snprintf(w->kinds[0].name, SIM_NAME_LEN, "busy");
	w->kinds[1] = kind_defaults;
	snprintf(w->kinds[1].name, SIM_NAME_LEN, "duty");
	w->kinds[1].model = SIM_DUTY;
	w->nr_kinds = 2;
}

struct parse_ctx {
	struct sim_workload *w;
	const char *file;
	char *err;
	size_t errlen;
	int failed;
	char section[64];
	FILE *in;
	int line; /* the line inih is working on */
};

static int fail(struct parse_ctx *c, int line, const char *fmt, const char *a, const char *b)
{
	char what[192];

	if (!c->failed) {
		snprintf(what, sizeof(what), fmt, a, b);
		snprintf(c->err, c->errlen, "%s:%d: %s", c->file, line, what);
	}
	c->failed = 1;
	return 0;
}

/* @s as an integer in [lo, hi]; -1 if it is not one. */
static int parse_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int set_key(struct parse_ctx *c, struct sim_vm_kind *k, const char *key, const char *val,
		   int line)
{
	static const struct {
		const char *key;
		long long lo, hi;
	} nums[] = {
	    {"count", 0, 100000},
	    {"vcpus", 1, SIM_MAX_VCPUS_VM},
	    {"weight", VS_MIN_WEIGHT, VS_MAX_WEIGHT},
	    {"reserve", 0, 16384},
	    {"cap", 0, 16384},
	    {"node", -1, 63},
	    {"run_us", 1, 3600000000LL},
	    {"block_us", 1, 3600000000LL},
	    {"hold_us", 1, 3600000000LL},
	    {"free_us", 1, 3600000000LL},
	};
	long long v;
	size_t i;

	if (!strcmp(key, "model")) {
		static const char *const names[] = {"busy", "duty", "lock", "bursty"};

		for (i = 0; i < 4; i++)
			if (!strcmp(val, names[i])) {
				k->model = (enum sim_model)i;
				return 1;
			}
		return fail(c, line, "model '%s' is not one of busy, duty, lock, bursty%s", val,
			    "");
	}
	if (!strcmp(key, "hints")) {
		static const char *const names[] = {"none", "cs", "always"};

		for (i = 0; i < 3; i++)
			if (!strcmp(val, names[i])) {
				k->hints = (enum sim_hints)i;
				return 1;
			}
		return fail(c, line, "hints '%s' is not one of none, cs, always%s", val, "");
	}
	if (!strcmp(key, "dist")) {
		if (strcmp(val, "exp") && strcmp(val, "fixed"))
			return fail(c, line, "dist '%s' is not exp or fixed%s", val, "");
		k->exp_dist = !strcmp(val, "exp");
		return 1;
	}
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char range[64];

		if (strcmp(key, nums[i].key))
			continue;
		snprintf(range, sizeof(range), "an integer in %lld..%lld", nums[i].lo, nums[i].hi);
		if (parse_num(val, nums[i].lo, nums[i].hi, &v))
			return fail(c, line, "%s must be %s", key, range);
		switch (i) {
		case 0:
			k->count = (unsigned int)v;
			break;
		case 1:
			k->vcpus = (unsigned int)v;
			break;
		case 2:
			k->weight = (unsigned int)v;
			break;
		case 3:
			k->reserve = (unsigned int)v;
			break;
		case 4:
			k->cap = (unsigned int)v;
			break;
		case 5:
			k->node = (int)v;
			break;
		case 6:
			k->run_ns = (uint64_t)v * 1000;
			break;
		case 7:
			k->block_ns = (uint64_t)v * 1000;
			break;
		case 8:
			k->hold_ns = (uint64_t)v * 1000;
			break;
		case 9:
			k->free_ns = (uint64_t)v * 1000;
			break;
		}
		return 1;
	}
	return fail(c, line,
		    "unknown key '%s' (known: count vcpus weight reserve cap node model hints "
		    "dist run_us block_us hold_us free_us)%s",
		    key, "");
}

static int on_entry(void *user, const char *section, const char *key, const char *val)
{
	struct parse_ctx *c = user;
	int line = c->line;
	struct sim_workload *w = c->w;
	struct sim_vm_kind *k;

	if (c->failed)
		return 0;
	if (strncmp(section, "vm ", 3) || !section[3])
		return fail(c, line, "section [%s] is not [vm NAME]%s", section, "");
	if (!w->nr_kinds || strcmp(c->section, section)) {
		if (w->nr_kinds == SIM_MAX_KINDS)
			return fail(c, line, "more than 64 [vm] sections%s%s", "", "");
		k = &w->kinds[w->nr_kinds++];
		*k = kind_defaults;
		snprintf(k->name, SIM_NAME_LEN, "%s", section + 3);
		snprintf(c->section, sizeof(c->section), "%s", section);
	}
	k = &w->kinds[w->nr_kinds - 1];
	set_key(c, k, key, val, line);
	if (!c->failed && k->cap && k->reserve > k->cap)
		return fail(c, line, "reserve is above cap in [%s]%s", section, "");
	return !c->failed;
}

static int finish(struct parse_ctx *c, int rc)
{
	if (rc > 0 && !c->failed)
		fail(c, rc, "cannot parse this line (expected [vm NAME] or key = value)%s%s", "",
		     "");
	if (rc < 0 && !c->failed)
		snprintf(c->err, c->errlen, "%s: cannot read it", c->file);
	if (!c->failed && rc == 0 && !c->w->nr_kinds)
		snprintf(c->err, c->errlen, "%s: no [vm NAME] section", c->file);
	return c->failed || rc || !c->w->nr_kinds ? -1 : 0;
}

/* inih's line reader: fgets that counts lines, for the messages. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	char *got = fgets(str, num, c->in);

	if (got)
		c->line++;
	return got;
}

static int parse_stream(struct sim_workload *w, FILE *in, const char *name, char *err,
			size_t errlen)
{
	struct parse_ctx c = {.w = w, .file = name, .err = err, .errlen = errlen, .in = in};

	memset(w, 0, sizeof(*w));
	return finish(&c, ini_parse_stream(read_line, &c, on_entry, &c));
}

int sim_workload_load(struct sim_workload *w, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		memset(w, 0, sizeof(*w));
		snprintf(err, errlen, "%s: cannot open it: %s", path, strerror(errno));
		return -1;
	}
	rc = parse_stream(w, f, path, err, errlen);
	fclose(f);
	return rc;
}

int sim_workload_parse(struct sim_workload *w, const char *text, char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	if (!f) {
		snprintf(err, errlen, "workload: cannot read it: %s", strerror(errno));
		return -1;
	}
	rc = parse_stream(w, f, "workload", err, errlen);
	fclose(f);
	return rc;
}

unsigned int sim_workload_count(const struct sim_workload *w)
{
	unsigned int i, n = 0;

	for (i = 0; i < w->nr_kinds; i++)
		n += w->kinds[i].count;
	return n;
}

const struct sim_vm_kind *sim_workload_kind_of(const struct sim_workload *w, unsigned int i,
					       unsigned int nr_vms)
{
	unsigned int k;

	if (nr_vms)
		return &w->kinds[i % w->nr_kinds];
	for (k = 0; k < w->nr_kinds; k++) {
		if (i < w->kinds[k].count)
			return &w->kinds[k];
		i -= w->kinds[k].count;
	}
	return &w->kinds[w->nr_kinds - 1];
}

uint64_t sim_workload_run_len(const struct sim_vm_kind *k, struct sim_rng *r)
{
	return k->exp_dist ? sim_rng_exp(r, k->run_ns) : k->run_ns;
}

uint64_t sim_workload_block_len(const struct sim_vm_kind *k, struct sim_rng *r)
{
	return k->exp_dist ? sim_rng_exp(r, k->block_ns) : k->block_ns;
}
