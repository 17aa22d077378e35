/* Loads vmm-sched.conf (config_parse.c) and prints what is wrong with it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_file.h"
#include "config_parse.h"
#include "log.h"

static void print_error(void *ctx, const char *msg)
{
	vs_err("%s", msg);
}

/* Returns the number of errors, or -1 if @path cannot be opened. */
static int load(struct vs_options *opt, const char *path, bool missing_ok)
{
	FILE *in = fopen(path, "re");
	int errors;

	if (!in) {
		if (errno == ENOENT && missing_ok)
			return 0;
		vs_err("%s: cannot read the configuration file: %m", path);
		return -1;
	}
	errors = config_parse_stream(opt, in, path, print_error, NULL);
	fclose(in);
	return errors;
}

int config_file_load(struct vs_options *opt)
{
	const char *path = opt->config_path ? opt->config_path : VS_CONFIG_DEFAULT;
	int errors = load(opt, path, !opt->config_path);

	if (errors > 0)
		vs_err("%s: %d error%s; 'vmm-schedd --check-config %s' checks it without "
		       "starting",
		       path, errors, errors == 1 ? "" : "s", path);
	return errors ? -1 : 0;
}

int config_file_check(const char *path)
{
	struct vs_options opt;
	int errors;

	options_init(&opt);
	errors = load(&opt, path, false);
	if (!errors)
		printf("%s: valid%s\n", path,
		       opt.cpus ? "" : " (it sets no [scheduler] cpus: --cpus must give them)");
	options_free(&opt);
	return errors ? 1 : 0;
}
