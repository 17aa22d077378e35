/*
 * The agent's settings and the one place their values are parsed: the command
 * line (--slice-us 5000) and vmm-sched.conf ([scheduler] slice-us = 5000) both
 * go through options_set(), so ranges and messages cannot drift apart.
 */
#ifndef VS_OPTIONS_H
#define VS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/vmm_sched_abi.h"
#include "core_cookie.h"
#include "listen_addr.h"

#define VS_CONFIG_DEFAULT      "/etc/vmm-sched/vmm-sched.conf"
#define VS_LIBVIRT_URI_DEFAULT "qemu:///system"
#define VS_OPT_MAX_KEYS	       32
/* Defaults of --max-vms and --max-vcpus, which size the scheduler's maps. */
#define VS_DEFAULT_MAX_VMS   256
#define VS_DEFAULT_MAX_VCPUS 2048

struct vs_options {
	const char *cpus;
	const char *control_path;
	const char *pin_dir;
	bool unload_pinned; /* --unload-pinned: unload what a previous agent left, then exit */
	unsigned int slice_us;
	unsigned int ring_kb;		/* size of the message ring buffer */
	unsigned int target_latency_ms; /* each demanding VM gets a core within about this */
	int pair_window_ms;		/* -1: one core slice (SHARE_PAIR_WINDOW_AUTO) */
	bool relaxed;			/* --pairing relaxed */
	bool placement_agent;		/* --placement agent: the planner commits each epoch */
	unsigned int epoch_ms;		/* --epoch-ms: the planner's epoch */
	bool discovery_poll;		/* --discovery poll: rescan /proc every second */
	unsigned int safety_rescan_s;	/* --safety-rescan-s: full rescans with events */
	bool no_kick;	    /* --no-kick (command line only): siblings leave at their next tick */
	bool planner_takes; /* --planner-takes (command line only): the planner may take busy cores
			     */
	enum vs_core_cookie_mode core_cookie;
	unsigned int default_weight;	    /* of a VM enrolled without one */
	const char *control_group;	    /* --control-group: may change things, like root */
	unsigned int max_vcpus_per_vm;	    /* vCPU threads one VM may have enrolled */
	unsigned int max_vms;		    /* VMs enrolled at once, at most VS_MAX_VMS */
	unsigned int max_vcpus;		    /* vCPUs enrolled at once, at most VS_MAX_VCPUS */
	const char *metrics_listen;	    /* --metrics-listen ADDR:PORT, NULL: off */
	const char *hints_dir;		    /* a VM named N reads guest hints from DIR/N */
	unsigned int cs_extension_us;	    /* slice extension for a guest critical section */
	unsigned int cs_budget_pct;	    /* of a VM's vCPU time, per second */
	const char *libvirt_uri;	    /* --libvirt URI; "none": no libvirt */
	const char *libvirt_enrol_names;    /* domains enrolled without metadata (glob) */
	struct vs_listen_addr metrics_addr; /* metrics_listen, parsed */
	int nr_pids;
	int pids[VS_MAX_VMS];
	const char *names[VS_MAX_VMS];
	unsigned int weights[VS_MAX_VMS];

	const char *config_path; /* --config, or NULL: VS_CONFIG_DEFAULT if it exists */
	uint32_t set_on_cli;	 /* bit i: vs_option_keys[i] came from the command line */
	uint32_t owned;		 /* bit i: the string of vs_option_keys[i] is ours to free */
};

enum vs_option_origin {
	VS_FROM_FILE, /* does not replace a value the command line gave */
	VS_FROM_CLI,
};

enum vs_option_kind {
	VS_OPT_CPUS,	  /* a CPU list, kept as text */
	VS_OPT_PATH,	  /* an absolute path of at most max characters */
	VS_OPT_UINT,	  /* unsigned int in min..max */
	VS_OPT_INT,	  /* int in min..max */
	VS_OPT_POW2,	  /* unsigned int, a power of two in min..max */
	VS_OPT_PAIRING,	  /* strict|relaxed -> bool relaxed */
	VS_OPT_PLACEMENT, /* bpf|agent -> bool placement_agent */
	VS_OPT_DISCOVERY, /* events|poll -> bool discovery_poll */
	VS_OPT_COOKIE,	  /* clear|refuse -> enum vs_core_cookie_mode */
	VS_OPT_GROUP,	  /* a group name of at most max characters, kept as text */
	VS_OPT_LISTEN,	  /* ADDR:PORT, kept as text; metrics_addr holds it parsed */
	VS_OPT_TEXT,	  /* min..max printable ASCII characters, no space, kept as text */
};

/*
 * A setting: its long command-line option and its place in vmm-sched.conf.
 * A new option gets a config key by adding a row to vs_option_keys[] (and a
 * kind if none fits) and calling options_set() from its getopt case.
 */
struct vs_option_key {
	const char *option;  /* long option without "--" */
	const char *section; /* [section] in vmm-sched.conf */
	const char *key;
	enum vs_option_kind kind;
	long min, max;
	size_t offset; /* in struct vs_options */
};

extern const struct vs_option_key vs_option_keys[];
extern const int vs_nr_option_keys;
extern const char *const vs_option_sections[]; /* NULL-terminated */

/* The defaults, as the agent runs without options or file. */
void options_init(struct vs_options *opt);
/* Frees the strings options_set() copied. */
void options_free(struct vs_options *opt);

/* The key of long option @option, or of @key in [@section]; NULL if none. */
const struct vs_option_key *options_key_by_option(const char *option);
const struct vs_option_key *options_key_by_name(const char *section, const char *key);
bool options_section_known(const char *section);
/* Whether long option @option was given on the command line. */
bool options_from_cli(const struct vs_options *opt, const char *option);

/*
 * Parses @value for @k into @opt. From the file, a key the command line set
 * is checked but kept as the command line said. Returns 0, or -1 with
 * "'VALUE' must be ..." in @err (the caller adds the option or file:line).
 */
int options_set(struct vs_options *opt, const struct vs_option_key *k, const char *value,
		enum vs_option_origin origin, char *err, size_t errlen);

#endif
