#include "pid_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned int home_of(const struct vs_pid_index *ix, int id)
{
	/* Fibonacci hashing: consecutive ids (threads of one process) spread out. */
	return (unsigned int)(((uint32_t)id * 2654435761u) >> 7) & ix->mask;
}

int pid_index_init(struct vs_pid_index *ix, unsigned int max_entries)
{
	unsigned int cap = 16;

	memset(ix, 0, sizeof(*ix));
	while (cap < 2 * max_entries)
		cap *= 2;
	ix->keys = calloc(cap, sizeof(*ix->keys));
	ix->vals = calloc(cap, sizeof(*ix->vals));
	if (!ix->keys || !ix->vals) {
		pid_index_free(ix);
		return -1;
	}
	ix->mask = cap - 1;
	ix->max_entries = max_entries;
	return 0;
}

void pid_index_free(struct vs_pid_index *ix)
{
	free(ix->keys);
	free(ix->vals);
	memset(ix, 0, sizeof(*ix));
}

/* The position of @id, or of the empty entry that ends its probe. */
static unsigned int probe(const struct vs_pid_index *ix, int id)
{
	unsigned int i = home_of(ix, id);

	while (ix->keys[i] && ix->keys[i] != id)
		i = (i + 1) & ix->mask;
	return i;
}

int pid_index_find(const struct vs_pid_index *ix, int id)
{
	unsigned int i;

	if (id <= 0 || !ix->keys)
		return -1;
	i = probe(ix, id);
	return ix->keys[i] == id ? ix->vals[i] : -1;
}

int pid_index_set(struct vs_pid_index *ix, int id, int val)
{
	unsigned int i;

	if (id <= 0 || !ix->keys)
		return -1;
	i = probe(ix, id);
	if (ix->keys[i] != id) {
		if (ix->count >= ix->max_entries)
			return -1;
		ix->keys[i] = id;
		ix->count++;
	}
	ix->vals[i] = val;
	return 0;
}

/* Does the probe for an entry at home @home that ended up at @pos pass @hole (wrapping)? */
static int hole_on_path(unsigned int home, unsigned int hole, unsigned int pos, unsigned int mask)
{
	return ((pos - home) & mask) >= ((hole - home) & mask);
}

void pid_index_remove(struct vs_pid_index *ix, int id)
{
	unsigned int hole, i;

	if (id <= 0 || !ix->keys)
		return;
	hole = probe(ix, id);
	if (ix->keys[hole] != id)
		return;
	ix->keys[hole] = 0;
	ix->count--;
	/* Move back each later entry whose probe would otherwise stop at the hole. */
	for (i = (hole + 1) & ix->mask; ix->keys[i]; i = (i + 1) & ix->mask) {
		unsigned int home = home_of(ix, ix->keys[i]);

		if (!hole_on_path(home, hole, i, ix->mask))
			continue;
		ix->keys[hole] = ix->keys[i];
		ix->vals[hole] = ix->vals[i];
		ix->keys[i] = 0;
		hole = i;
	}
}
