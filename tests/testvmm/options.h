/* The testvmm command line. */
#ifndef TESTVMM_OPTIONS_H
#define TESTVMM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_abi.h"

struct options {
	const char *name;
	int vcpus;
	enum guest_payload payload;
	uint64_t run_us;
	uint64_t block_us;
	uint64_t hold_us;
	uint64_t interval_ms;
	uint64_t duration_s;	/* 0: until SIGTERM/SIGINT */
	bool start_paused;	/* vCPUs wait for SIGNAL_VM_RESUME before entering the guest */
	const char *hints;	/* a hint region file to write (hint_writer.h), or NULL */
	const char *hints_mode; /* a hint_writer.c mode: benign, cs-forever, flap, ... */
};

enum options_result {
	OPTIONS_OK,
	OPTIONS_HELP,  /* usage printed on stdout; exit 0 */
	OPTIONS_ERROR, /* one line printed on stderr; exit 2 */
};

enum options_result options_parse(struct options *opts, int argc, char **argv);

#endif
