/*
 * The Prometheus metrics of vmm-schedd, rendered from the same status JSON
 * that `vmm-schedctl status --json` shows (one gathering for both). Pure.
 */
#ifndef VS_METRICS_RENDER_H
#define VS_METRICS_RENDER_H

#include "prom_text.h"

struct json_object;

/* Appends every metric family to @out; a missing status field reads as 0. */
void metrics_render_status(struct json_object *status, struct prom_buf *out);

#endif
