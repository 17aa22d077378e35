/*
 * The agent's share plan in the simulator, every plan_ns as the daemon's
 * share_tick does: each VM's active vCPUs (ran, woke or runnable since the
 * last round) and settings go through lib/share_plan.c, whose weights, core
 * slice and pair window the simulated BPF rules then use.
 */
#ifndef VS_SIM_PLAN_H
#define VS_SIM_PLAN_H

#include <stddef.h>

struct sim;

/* Working memory for rounds of @s; 0 or -1 (out of memory). */
int sim_plan_init(struct sim *s);
void sim_plan_free(struct sim *s);
/* One round; 0, or -1 with the plan's error in @err (the VMs keep their weights). */
int sim_plan_round(struct sim *s, char *err, size_t errlen);

#endif
