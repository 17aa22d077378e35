/*
 * An index from a process or thread id to a small integer (a VM id or a vCPU
 * slot), so a process event or a message looks its sender up in O(1) instead
 * of walking every VM id or vCPU slot. Open addressing with linear probing;
 * removal shifts the following entries back, so there are no tombstones.
 */
#ifndef VS_PID_INDEX_H
#define VS_PID_INDEX_H

struct vs_pid_index {
	int *keys; /* 0: empty; ids are > 0 */
	int *vals;
	unsigned int mask; /* capacity - 1; capacity is a power of two */
	unsigned int count;
	unsigned int max_entries;
};

/* Room for @max_entries ids (at most half full). 0, or -1 if out of memory. */
int pid_index_init(struct vs_pid_index *ix, unsigned int max_entries);
void pid_index_free(struct vs_pid_index *ix);
/* The value stored for @id, or -1. */
int pid_index_find(const struct vs_pid_index *ix, int id);
/* Stores @val for @id (> 0), replacing an earlier value. 0, or -1 if @id is invalid or full. */
int pid_index_set(struct vs_pid_index *ix, int id, int val);
/* Forgets @id; nothing if it is not there. */
void pid_index_remove(struct vs_pid_index *ix, int id);

#endif
