/* Can this kernel run the scheduler at all? */
#ifndef VS_HOST_CHECKS_H
#define VS_HOST_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * *ours_running says vmm_sched is the enabled scheduler (a previous agent's,
 * to adopt); any other loaded scheduler is an error.
 */
int host_check_sched_ext(bool *ours_running, char *err, size_t errlen);

#endif
