/* Where a process's memory is (numa_home.h decides from the counts). */
#ifndef VS_NUMA_HOME_READ_H
#define VS_NUMA_HOME_READ_H

#include <stddef.h>

/*
 * The node holding most of process @pid's memory, or VS_NUMA_NODE_UNKNOWN:
 * then err is empty (no NUMA) or says what failed.
 */
int numa_home_of_process(int pid, char *err, size_t errlen);

#endif
