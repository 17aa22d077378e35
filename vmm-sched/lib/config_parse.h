/*
 * vmm-sched.conf: INI sections and keys of vs_option_keys[], read with inih.
 * Every value goes through options_set(); every error names the file, the
 * line, the key and what is allowed. Unknown sections and keys are errors.
 */
#ifndef VS_CONFIG_PARSE_H
#define VS_CONFIG_PARSE_H

#include <stdio.h>

#include "options.h"

/* Called once per error with "FILE:LINE: what is wrong". */
typedef void (*vs_config_say)(void *ctx, const char *msg);

/*
 * Reads the file @name open as @in into @opt; values the command line set
 * stay. Returns the number of errors (0: all good), each given to @say.
 */
int config_parse_stream(struct vs_options *opt, FILE *in, const char *name, vs_config_say say,
			void *ctx);

#endif
