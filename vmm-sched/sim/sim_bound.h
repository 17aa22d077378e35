/*
 * The lower bound on forced idle (docs/simulator.md).
 *
 * Forced idle, as the simulator measures it: the integral over time of the
 * number of hardware threads running no vCPU while at least one runnable
 * vCPU waits for a CPU.
 *
 * At an instant, let R_v be VM v's runnable vCPUs (running or waiting),
 * N = sum R_v, C the cores, T the threads per core. Pairing lets a core run
 * vCPUs of one VM only, so a VM given k cores keeps at most min(R_v, T * k)
 * threads busy. The most threads any assignment of cores to VMs can keep busy
 * is B*: each VM offers floor(R_v / T) cores worth T threads and, if
 * r_v = R_v mod T > 0, one core worth r_v; B* is the sum of the C largest
 * offers (a greedy pick is optimal: each VM's offers come largest first).
 * If N > B*, every assignment leaves some vCPU waiting and at least
 * C * T - B* threads idle; if N <= B*, none need idle. So
 *
 *   LB = integral over time of (N > B* ? C * T - B* : 0)
 *
 * and at every instant the measured rate (C * T - busy threads, when a vCPU
 * waits) is at least the bound's, because busy <= B*: forced idle >= LB.
 * The bound is taken on the run's own trajectory of runnable sets (another
 * policy would see other wake-ups), and it ignores caps, NUMA homes and
 * handover delays, which only make it lower: it counts the idle that pairing
 * itself forces on this demand, nothing the policy could have avoided.
 */
#ifndef VS_SIM_BOUND_H
#define VS_SIM_BOUND_H

#include <stdint.h>

#define SIM_BOUND_MAX_TPC 8

struct sim_bound {
	uint32_t cores, tpc;
	uint64_t full;			     /* sum over VMs of floor(R_v / T) */
	uint64_t partial[SIM_BOUND_MAX_TPC]; /* VMs with R_v mod T == r, by r */
	uint64_t runnable;		     /* N */
	uint64_t lb_ns;			     /* thread-ns of unavoidable idle so far */
	uint64_t last_at;
};

void sim_bound_init(struct sim_bound *b, uint32_t cores, uint32_t tpc);
/* B*: the most threads any pairing-respecting assignment keeps busy now. */
uint64_t sim_bound_max_busy(const struct sim_bound *b);
/* Threads that must idle now (the bound's rate). */
uint64_t sim_bound_idle_now(const struct sim_bound *b);
/* Integrates up to @now; then a VM's runnable count may change. */
void sim_bound_advance(struct sim_bound *b, uint64_t now);
/* A VM's runnable vCPUs go from @from to @to. */
void sim_bound_change(struct sim_bound *b, uint32_t from, uint32_t to);

#endif
