/* `vmm-schedctl top`: placeholder until the live view lands. */
#include <stdio.h>

#include "ctl_cli.h"
#include "vmm_sched_ctl.h"

int ctl_top(const char *socket_path, int argc, char **argv)
{
	fprintf(stderr, "vmm-schedctl: top is not there yet\n");
	return VS_CTL_EXIT_USAGE;
}
