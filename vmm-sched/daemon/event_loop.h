/* The agent's event loop. */
#ifndef VS_EVENT_LOOP_H
#define VS_EVENT_LOOP_H

struct vs_daemon;

/* Runs until d->stop; -1 if the loop could not be set up or failed. */
int event_loop_run(struct vs_daemon *d);

#endif
