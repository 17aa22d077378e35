/* vmm-schedctl's enclave commands: enclave list|create|destroy|add-cores|remove-cores, rebalance.
 */
#ifndef VS_CTL_ENCLAVE_CMDS_H
#define VS_CTL_ENCLAVE_CMDS_H

#include <stdbool.h>

#include "ctl_request.h"

struct json_object;

/*
 * Fills @req for `enclave SUB ...` (@argv after the word "enclave") or
 * `rebalance ...`; 0, or -1 after printing the usage error.
 */
int enclave_cmd_parse(bool rebalance, int argc, char **argv, struct vs_ctl_request *req);
/* Prints a successful reply to an enclave command or rebalance as text. */
void enclave_cmd_print(struct json_object *reply);

#endif
