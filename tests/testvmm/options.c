#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hint_writer.h"

#define MAX_US 10000000ULL
/* The payload's one-shot LAPIC countdown is 32 bits of (normally) 1 ns ticks. */
#define MAX_BLOCK_US 4000000ULL

static const char usage_text[] =
    "usage: testvmm --name NAME --vcpus N --payload busy|duty|lock|yield [--run-us X]\n"
    "               [--block-us Y] [--hold-us H] [--interval-ms M] [--duration-s S]\n"
    "               [--start-paused] [--hints FILE [--hints-mode MODE]]\n"
    "\n"
    "Run one KVM VM with N vCPU threads named \"CPU <n>/KVM\" and a test payload:\n"
    "  busy  every vCPU counts work units forever\n"
    "  duty  run X us (default 1000), then HLT for Y us (default 1000), repeat\n"
    "  lock  all vCPUs contend on one spinlock and hold it for H us (default 50)\n"
    "  yield run X us, then a directed yield (KVM_HC_SCHED_YIELD) to the next vCPU\n"
    "Prints \"vcpu\" and \"ready\" lines once the threads exist, a \"progress\" line per\n"
    "vCPU every M ms (default 500), and stops after S s (default 0: never) or on\n"
    "SIGTERM/SIGINT with a final progress round and \"exit vm=NAME status=ok\".\n"
    "duty also prints a \"latency\" line per vCPU: wakes, p50/p99/p99.9/max in us from\n"
    "the timer's deadline to the first instruction after HLT (guest TSC, upper bound\n"
    "of a 12.5% bucket), over the window since the start or the last SIGWINCH.\n"
    "With --start-paused the vCPU threads exist but wait outside the guest after\n"
    "\"ready\" (printing \"paused vm=NAME\") until SIGHUP, like a VM started with -S.\n"
    "With --hints the VMM plays a guest hint driver writing FILE (1 MiB) every 10 ms:\n"
    "MODE benign (default), cs-forever, flap (idle changing 10,000 times a second),\n"
    "hostile or payload: what the payload is doing\n"
    "(idle while duty halts, a critical section while lock holds the lock; see\n"
    "tests/testvmm/hint_writer.c); or guest: the payload itself writes its vCPU's\n"
    "slot at each such change, the file mapped into the VM as guest memory.\n";

enum {
	OPT_NAME = 256,
	OPT_VCPUS,
	OPT_PAYLOAD,
	OPT_RUN_US,
	OPT_BLOCK_US,
	OPT_HOLD_US,
	OPT_INTERVAL_MS,
	OPT_DURATION_S,
	OPT_START_PAUSED,
	OPT_HINTS,
	OPT_HINTS_MODE,
	OPT_HELP,
};

static const struct option long_options[] = {
    {"name", required_argument, NULL, OPT_NAME},
    {"vcpus", required_argument, NULL, OPT_VCPUS},
    {"payload", required_argument, NULL, OPT_PAYLOAD},
    {"run-us", required_argument, NULL, OPT_RUN_US},
    {"block-us", required_argument, NULL, OPT_BLOCK_US},
    {"hold-us", required_argument, NULL, OPT_HOLD_US},
    {"interval-ms", required_argument, NULL, OPT_INTERVAL_MS},
    {"duration-s", required_argument, NULL, OPT_DURATION_S},
    {"start-paused", no_argument, NULL, OPT_START_PAUSED},
    {"hints", required_argument, NULL, OPT_HINTS},
    {"hints-mode", required_argument, NULL, OPT_HINTS_MODE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static enum options_result bad(const char *flag, const char *what, const char *arg)
{
	fprintf(stderr, "testvmm: --%s: %s, got '%s' (see --help)\n", flag, what, arg);
	return OPTIONS_ERROR;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_payload(const char *s, enum guest_payload *out)
{
	static const struct {
		const char *name;
		enum guest_payload payload;
	} payloads[] = {{"busy", PAYLOAD_BUSY},
			{"duty", PAYLOAD_DUTY},
			{"lock", PAYLOAD_LOCK},
			{"yield", PAYLOAD_YIELD}};

	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		if (!strcmp(s, payloads[i].name)) {
			*out = payloads[i].payload;
			return 0;
		}
	}
	return -1;
}

/* Names end up in space-separated key=value lines. */
static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s <= ' ' || *s == '=' || *s == 0x7F)
			return 0;
	}
	return 1;
}

enum options_result options_parse(struct options *opts, int argc, char **argv)
{
	uint64_t vcpus = 0;
	int c;

	*opts = (struct options){
	    .run_us = 1000,
	    .block_us = 1000,
	    .hold_us = 50,
	    .interval_ms = 500,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		const char *flag = long_options[0].name;

		for (const struct option *o = long_options; o->name; o++) {
			if (o->val == c)
				flag = o->name;
		}
		switch (c) {
		case OPT_NAME:
			if (!valid_name(optarg))
				return bad(flag, "expected a name without spaces or '='", optarg);
			opts->name = optarg;
			break;
		case OPT_VCPUS:
			if (parse_u64(optarg, 1, GUEST_MAX_VCPUS, &vcpus))
				return bad(flag, "expected an integer from 1 to 64", optarg);
			opts->vcpus = vcpus;
			break;
		case OPT_PAYLOAD:
			if (parse_payload(optarg, &opts->payload))
				return bad(flag, "expected busy, duty, lock or yield", optarg);
			break;
		case OPT_RUN_US:
			if (parse_u64(optarg, 0, MAX_US, &opts->run_us))
				return bad(flag, "expected microseconds from 0 to 10000000",
					   optarg);
			break;
		case OPT_BLOCK_US:
			if (parse_u64(optarg, 1, MAX_BLOCK_US, &opts->block_us))
				return bad(flag, "expected microseconds from 1 to 4000000", optarg);
			break;
		case OPT_HOLD_US:
			if (parse_u64(optarg, 0, MAX_US, &opts->hold_us))
				return bad(flag, "expected microseconds from 0 to 10000000",
					   optarg);
			break;
		case OPT_INTERVAL_MS:
			if (parse_u64(optarg, 1, 3600000, &opts->interval_ms))
				return bad(flag, "expected milliseconds from 1 to 3600000", optarg);
			break;
		case OPT_DURATION_S:
			if (parse_u64(optarg, 0, 31536000, &opts->duration_s))
				return bad(flag, "expected seconds from 0 to 31536000", optarg);
			break;
		case OPT_START_PAUSED:
			opts->start_paused = true;
			break;
		case OPT_HINTS:
			if (optarg[0] != '/')
				return bad(flag, "expected an absolute path", optarg);
			opts->hints = optarg;
			break;
		case OPT_HINTS_MODE:
			if (!hint_writer_mode_known(optarg))
				return bad(
				    flag,
				    "expected benign, cs-forever, flap, hostile, payload or guest",
				    optarg);
			opts->hints_mode = optarg;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return OPTIONS_HELP;
		case ':':
			fprintf(stderr, "testvmm: option '%s' needs a value (see --help)\n",
				argv[optind - 1]);
			return OPTIONS_ERROR;
		default:
			if (optopt)
				fprintf(stderr, "testvmm: unknown option '-%c' (see --help)\n",
					optopt);
			else
				fprintf(stderr, "testvmm: unknown option '%s' (see --help)\n",
					argv[optind - 1]);
			return OPTIONS_ERROR;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "testvmm: unexpected argument '%s' (see --help)\n", argv[optind]);
		return OPTIONS_ERROR;
	}
	if (!opts->name || !opts->vcpus || !opts->payload) {
		fprintf(stderr, "testvmm: missing --%s (see --help)\n",
			!opts->name    ? "name"
			: !opts->vcpus ? "vcpus"
				       : "payload");
		return OPTIONS_ERROR;
	}
	return OPTIONS_OK;
}
