/* vmm-sched.conf for the agent: loading at start and --check-config. */
#ifndef VS_CONFIG_FILE_H
#define VS_CONFIG_FILE_H

#include "options.h"

/*
 * Reads opt->config_path (named with --config: must exist), or the default
 * path if it exists, into @opt; the command line's values stay. Returns 0,
 * or -1 after printing every error.
 */
int config_file_load(struct vs_options *opt);

/* vmm-schedd --check-config [FILE]: the exit status (0 valid, 1 not). */
int config_file_check(const char *path);

#endif
