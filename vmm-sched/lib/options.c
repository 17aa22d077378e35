/* The agent's settings: defaults, the table of keys, and the parsing of values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"
#include "options.h"
#include "share.h"
#include "vmm_sched_ctl.h"

#define OFF(field) offsetof(struct vs_options, field)

const struct vs_option_key vs_option_keys[] = {
    {"cpus", "scheduler", "cpus", VS_OPT_CPUS, 0, 0, OFF(cpus)},
    {"pairing", "scheduler", "pairing", VS_OPT_PAIRING, 0, 0, OFF(relaxed)},
    {"slice-us", "scheduler", "slice-us", VS_OPT_UINT, 50, 1000000, OFF(slice_us)},
    {"target-latency-ms", "scheduler", "target-latency-ms", VS_OPT_UINT, 1, 1000,
     OFF(target_latency_ms)},
    {"smt-pair-window-ms", "scheduler", "smt-pair-window-ms", VS_OPT_INT, 0, 1000,
     OFF(pair_window_ms)},
    {"core-cookie", "scheduler", "core-cookie", VS_OPT_COOKIE, 0, 0, OFF(core_cookie)},
    {"default-weight", "scheduler", "default-weight", VS_OPT_UINT, VS_MIN_WEIGHT, VS_MAX_WEIGHT,
     OFF(default_weight)},
    {"control", "control", "socket", VS_OPT_PATH, 0, 107, OFF(control_path)},
    {"control-group", "control", "group", VS_OPT_GROUP, 1, 32, OFF(control_group)},
    {"metrics-listen", "metrics", "listen", VS_OPT_LISTEN, 0, 0, OFF(metrics_listen)},
    {"max-vcpus-per-vm", "agent", "max-vcpus-per-vm", VS_OPT_UINT, 1, VS_MAX_VCPUS,
     OFF(max_vcpus_per_vm)},
    {"max-vms", "agent", "max-vms", VS_OPT_UINT, 1, VS_MAX_VMS, OFF(max_vms)},
    {"max-vcpus", "agent", "max-vcpus", VS_OPT_UINT, 1, VS_MAX_VCPUS, OFF(max_vcpus)},
    {"pin-dir", "agent", "pin-dir", VS_OPT_PATH, 0, 200, OFF(pin_dir)},
    {"ring-kb", "agent", "ring-kb", VS_OPT_POW2, 4, 65536, OFF(ring_kb)},
    {"placement", "agent", "placement", VS_OPT_PLACEMENT, 0, 0, OFF(placement_agent)},
    {"epoch-ms", "agent", "epoch-ms", VS_OPT_UINT, 1, 1000, OFF(epoch_ms)},
    {"discovery", "agent", "discovery", VS_OPT_DISCOVERY, 0, 0, OFF(discovery_poll)},
    {"safety-rescan-s", "agent", "safety-rescan-s", VS_OPT_UINT, 1, 3600, OFF(safety_rescan_s)},
    {"hints-dir", "hints", "dir", VS_OPT_PATH, 0, 200, OFF(hints_dir)},
    {"cs-extension-us", "hints", "cs-extension-us", VS_OPT_UINT, 0, 1000, OFF(cs_extension_us)},
    {"cs-budget-pct", "hints", "cs-budget-pct", VS_OPT_UINT, 0, 20, OFF(cs_budget_pct)},
    {"libvirt", "libvirt", "uri", VS_OPT_TEXT, 1, 200, OFF(libvirt_uri)},
    {"libvirt-enrol-names", "libvirt", "enrol-names", VS_OPT_TEXT, 1, 200,
     OFF(libvirt_enrol_names)},
};
const int vs_nr_option_keys = sizeof(vs_option_keys) / sizeof(vs_option_keys[0]);
const char *const vs_option_sections[] = {"scheduler", "control", "metrics", "agent",
					  "hints",     "libvirt", NULL};

_Static_assert(sizeof(vs_option_keys) / sizeof(vs_option_keys[0]) <= VS_OPT_MAX_KEYS,
	       "set_on_cli and owned have one bit per key");

void options_init(struct vs_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->control_path = VS_CTL_DEFAULT_SOCKET;
	opt->pin_dir = VS_PIN_DIR_DEFAULT;
	opt->ring_kb = 256;
	opt->slice_us = 5000;
	opt->target_latency_ms = 20;
	opt->epoch_ms = 10;
	opt->safety_rescan_s = 30;
	opt->pair_window_ms = -1;
	opt->core_cookie = VS_CORE_COOKIE_CLEAR;
	opt->default_weight = VS_DEFAULT_WEIGHT;
	opt->max_vcpus_per_vm = VS_MAX_VCPUS;
	opt->max_vms = VS_DEFAULT_MAX_VMS;
	opt->max_vcpus = VS_DEFAULT_MAX_VCPUS;
	opt->cs_extension_us = 50;
	opt->cs_budget_pct = 3;
	opt->libvirt_uri = VS_LIBVIRT_URI_DEFAULT;
}

static const char **string_at(struct vs_options *opt, const struct vs_option_key *k)
{
	return (const char **)((char *)opt + k->offset);
}

void options_free(struct vs_options *opt)
{
	for (int i = 0; i < vs_nr_option_keys; i++) {
		if (opt->owned & (1u << i)) {
			free((char *)*string_at(opt, &vs_option_keys[i]));
			*string_at(opt, &vs_option_keys[i]) = NULL;
		}
	}
	opt->owned = 0;
}

const struct vs_option_key *options_key_by_option(const char *option)
{
	for (int i = 0; i < vs_nr_option_keys; i++)
		if (!strcmp(vs_option_keys[i].option, option))
			return &vs_option_keys[i];
	return NULL;
}

const struct vs_option_key *options_key_by_name(const char *section, const char *key)
{
	for (int i = 0; i < vs_nr_option_keys; i++)
		if (!strcmp(vs_option_keys[i].section, section) &&
		    !strcmp(vs_option_keys[i].key, key))
			return &vs_option_keys[i];
	return NULL;
}

bool options_section_known(const char *section)
{
	for (int i = 0; vs_option_sections[i]; i++)
		if (!strcmp(vs_option_sections[i], section))
			return true;
	return false;
}

bool options_from_cli(const struct vs_options *opt, const char *option)
{
	const struct vs_option_key *k = options_key_by_option(option);

	return k && (opt->set_on_cli & (1u << (k - vs_option_keys)));
}

/* A decimal integer, all of @s; the value is only checked against long's range. */
static bool parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return *s && !*end && !errno;
}

static bool printable_word(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* Checks @value for @k; a number goes to *@num. */
static int check_value(const struct vs_option_key *k, const char *value, long *num, char *err,
		       size_t errlen)
{
	struct vs_cpuset cpus;
	enum vs_core_cookie_mode mode;
	struct vs_listen_addr addr;
	char why[200];

	switch (k->kind) {
	case VS_OPT_CPUS:
		if (cpuset_parse(&cpus, value, why, sizeof(why))) {
			snprintf(err, errlen, "'%s' is not a CPU list such as 2-7: %s", value, why);
			return -1;
		}
		return 0;
	case VS_OPT_PATH:
		if (value[0] != '/' || (long)strlen(value) > k->max) {
			snprintf(err, errlen,
				 "'%s' must be an absolute path of at most %ld characters", value,
				 k->max);
			return -1;
		}
		return 0;
	case VS_OPT_UINT:
	case VS_OPT_INT:
		if (!parse_long(value, num) || *num < k->min || *num > k->max) {
			snprintf(err, errlen, "'%s' must be %ld..%ld", value, k->min, k->max);
			return -1;
		}
		return 0;
	case VS_OPT_POW2:
		if (!parse_long(value, num) || *num < k->min || *num > k->max ||
		    (*num & (*num - 1))) {
			snprintf(err, errlen, "'%s' must be a power of two %ld..%ld", value, k->min,
				 k->max);
			return -1;
		}
		return 0;
	case VS_OPT_PLACEMENT:
		if (strcmp(value, "bpf") && strcmp(value, "agent")) {
			snprintf(err, errlen, "'%s' must be bpf or agent", value);
			return -1;
		}
		*num = !strcmp(value, "agent");
		return 0;
	case VS_OPT_DISCOVERY:
		if (strcmp(value, "events") && strcmp(value, "poll")) {
			snprintf(err, errlen, "'%s' must be events or poll", value);
			return -1;
		}
		*num = !strcmp(value, "poll");
		return 0;
	case VS_OPT_PAIRING:
		if (strcmp(value, "strict") && strcmp(value, "relaxed")) {
			snprintf(err, errlen, "'%s' must be strict or relaxed", value);
			return -1;
		}
		*num = !strcmp(value, "relaxed");
		return 0;
	case VS_OPT_COOKIE:
		if (core_cookie_mode_parse(value, &mode)) {
			snprintf(err, errlen, "'%s' must be clear or refuse", value);
			return -1;
		}
		*num = mode;
		return 0;
	case VS_OPT_GROUP:
		/* POSIX portable names; whether the group exists is checked at start. */
		if (!*value || (long)strlen(value) > k->max || value[0] == '-' ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789._-") != strlen(value)) {
			snprintf(err, errlen,
				 "'%s' must be a group name of 1..%ld of A-Z a-z 0-9 . _ - "
				 "(not starting with -)",
				 value, k->max);
			return -1;
		}
		return 0;
	case VS_OPT_LISTEN:
		if (listen_addr_parse(value, &addr, why, sizeof(why))) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		return 0;
	case VS_OPT_TEXT:
		if ((long)strlen(value) < k->min || (long)strlen(value) > k->max ||
		    !printable_word(value)) {
			snprintf(err, errlen,
				 "must be %ld..%ld printable characters without spaces", k->min,
				 k->max);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "'%s': no parser for this kind of setting", value);
	return -1;
}

int options_set(struct vs_options *opt, const struct vs_option_key *k, const char *value,
		enum vs_option_origin origin, char *err, size_t errlen)
{
	uint32_t bit = 1u << (k - vs_option_keys);
	char *p = (char *)opt + k->offset;
	char *copy;
	long num = 0;

	if (check_value(k, value, &num, err, errlen))
		return -1;
	if (origin == VS_FROM_FILE && (opt->set_on_cli & bit))
		return 0;
	if (origin == VS_FROM_CLI)
		opt->set_on_cli |= bit;
	switch (k->kind) {
	case VS_OPT_CPUS:
	case VS_OPT_PATH:
	case VS_OPT_GROUP:
	case VS_OPT_LISTEN:
	case VS_OPT_TEXT:
		copy = strdup(value);
		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (opt->owned & bit)
			free((char *)*string_at(opt, k));
		*string_at(opt, k) = copy;
		opt->owned |= bit;
		break;
	case VS_OPT_UINT:
	case VS_OPT_POW2:
		*(unsigned int *)p = (unsigned int)num;
		break;
	case VS_OPT_INT:
		*(int *)p = (int)num;
		break;
	case VS_OPT_PAIRING:
	case VS_OPT_PLACEMENT:
	case VS_OPT_DISCOVERY:
		*(bool *)p = num;
		break;
	case VS_OPT_COOKIE:
		*(enum vs_core_cookie_mode *)p = (enum vs_core_cookie_mode)num;
		break;
	}
	return 0;
}
