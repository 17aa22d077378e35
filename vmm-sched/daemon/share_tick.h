/* The share plan from the last interval's demand, into BPF. */
#ifndef VS_SHARE_TICK_H
#define VS_SHARE_TICK_H

struct vs_daemon;

/* Every VS_SHARE_TICK_MS (daemon.h). */
void share_tick(struct vs_daemon *d);

#endif
