/* vmm-schedctl's enclave commands: enclave list|create|destroy|add-cores|remove-cores, rebalance.
 */
#ifndef VS_CTL_ENCLAVE_CMDS_H
#define VS_CTL_ENCLAVE_CMDS_H

#include <stdbool.h>

#include <json-c/json.h>

/*
 * The request for `enclave SUB ...` or `rebalance ...` (@argv after the
 * command word), or NULL after printing the usage error. *json: --json given.
 */
struct json_object *enclave_cmd_request(const char *cmd, int argc, char **argv, bool *json);
/* Prints a successful reply to an enclave command as text. */
void enclave_cmd_print(struct json_object *reply);

#endif
