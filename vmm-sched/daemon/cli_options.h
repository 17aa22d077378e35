/* vmm-schedd's command line (and, through it, the settings file). */
#ifndef VS_CLI_OPTIONS_H
#define VS_CLI_OPTIONS_H

#include <stdio.h>

#include "options.h"

void cli_usage(FILE *out);
/* Fills @opt from argv, then from the settings file; -1 after saying what was wrong. */
int cli_parse_options(struct vs_options *opt, int argc, char **argv);

#endif
