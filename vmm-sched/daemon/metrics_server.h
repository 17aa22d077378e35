/* --metrics-listen: the Prometheus endpoint. */
#ifndef VS_METRICS_SERVER_H
#define VS_METRICS_SERVER_H

#include <stddef.h>

struct vs_daemon;

/*
 * metrics_open() binds (errors before anything is loaded) and starts the
 * server thread; metrics_publish() renders the status for the next scrapes,
 * every VS_METRICS_PUBLISH_MS.
 */
#define VS_METRICS_PUBLISH_MS 1000
int metrics_open(struct vs_daemon *d, char *err, size_t errlen);
void metrics_publish(struct vs_daemon *d);
void metrics_close(struct vs_daemon *d);

#endif
