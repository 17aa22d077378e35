/* The simulator's output: a CSV row per VM plus an "all" row, and a one-line summary. */
#ifndef VS_SIM_REPORT_H
#define VS_SIM_REPORT_H

#include <stdio.h>

struct sim;

/* The fairness error of VM @i in percent: owned core time against its planned share. */
double sim_fairness_err_pct(const struct sim *s, unsigned int i);
/* Forced idle over its lower bound; < 0 when the bound is 0. */
double sim_bound_ratio(const struct sim *s);
/* Forced idle over the fair-share reference; < 0 when the reference is 0. */
double sim_fair_ref_ratio(const struct sim *s);

void sim_report_csv(const struct sim *s, FILE *f);
/* One line; @wall_s: the run's wall-clock seconds (for its speed), 0 to leave it out. */
void sim_report_summary(const struct sim *s, FILE *f, double wall_s);

#endif
