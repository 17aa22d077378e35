/* The parts of vmm-schedctl, one file each. */
#ifndef VS_CTL_CLI_H
#define VS_CTL_CLI_H

struct json_object;

/* status_table.c: the status reply as tables. */
void print_status(struct json_object *st);

/* top.c: `vmm-schedctl top ARGS...`; returns the exit status. */
int ctl_top(const char *socket_path, int argc, char **argv);

#endif
