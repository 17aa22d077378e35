/* Moving threads in and out of SCHED_EXT, and what /proc says of them. */
#ifndef VS_VCPU_THREADS_H
#define VS_VCPU_THREADS_H

#include <stddef.h>
#include <stdint.h>

#include "cpuset.h"
#include "enclave.h"
#include "registry.h"

int thread_save_sched(int tid, struct vs_saved_sched *out, char *err, size_t errlen);
int thread_enter_enclave(int tid, const struct vs_enclave *enc, char *err, size_t errlen);
int thread_restore_sched(int tid, const struct vs_saved_sched *saved, char *err, size_t errlen);
/*
 * thread_save_sched, thread_enter_enclave and thread_restore_sched are asked
 * for (enrolment, release): -1 with err, errno kept for the caller's ESRCH
 * check. The rest return 0 or -errno.
 */
/* sched_setaffinity(@tid, @cpus). */
int thread_pin(int tid, const struct vs_cpuset *cpus);
/* Reads /proc/PID/comm into buf; -errno (-ENOENT: no such process). */
int process_comm(int pid, char *buf, size_t len);
int thread_affinity(int tid, struct vs_cpuset *out);
/*
 * Field 22 of /proc/PID/stat and /proc/PID/task/TID/stat (start time in
 * ticks), 0 if there is no such process or thread. A pid or tid is acted on
 * only while its start time is the one recorded: ids are reused.
 */
uint64_t process_start_time(int pid);
/* Field 3 of /proc/PID/stat (R, S, Z...), 0 if there is no such process. */
char process_state(int pid);
uint64_t thread_start_time(int pid, int tid);

#endif
