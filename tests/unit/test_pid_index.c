/* Unit tests: the pid/tid index (vmm-sched/lib/pid_index.c), against a plain array. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pid_index.h"

static void test_empty_and_invalid(void **state)
{
	struct vs_pid_index ix;

	(void)state;
	assert_int_equal(pid_index_init(&ix, 4), 0);
	assert_int_equal(pid_index_find(&ix, 1), -1);
	assert_int_equal(pid_index_set(&ix, 0, 1), -1);
	assert_int_equal(pid_index_set(&ix, -5, 1), -1);
	assert_int_equal(pid_index_find(&ix, 0), -1);
	pid_index_remove(&ix, 7); /* absent: nothing */
	assert_int_equal(ix.count, 0);
	pid_index_free(&ix);
	/* A freed index finds nothing and takes nothing. */
	assert_int_equal(pid_index_find(&ix, 1), -1);
	assert_int_equal(pid_index_set(&ix, 1, 1), -1);
}

static void test_set_replace_remove(void **state)
{
	struct vs_pid_index ix;

	(void)state;
	assert_int_equal(pid_index_init(&ix, 3), 0);
	assert_int_equal(pid_index_set(&ix, 100, 1), 0);
	assert_int_equal(pid_index_set(&ix, 200, 2), 0);
	assert_int_equal(pid_index_set(&ix, 100, 5), 0); /* replaces, not a second entry */
	assert_int_equal(ix.count, 2);
	assert_int_equal(pid_index_find(&ix, 100), 5);
	assert_int_equal(pid_index_set(&ix, 300, 3), 0);
	assert_int_equal(pid_index_set(&ix, 400, 4), -1); /* full at max_entries */
	pid_index_remove(&ix, 200);
	assert_int_equal(pid_index_find(&ix, 200), -1);
	assert_int_equal(pid_index_find(&ix, 300), 3);
	assert_int_equal(pid_index_set(&ix, 400, 4), 0);
	pid_index_free(&ix);
}

/* Ids that share a home entry: removing the first of a run keeps the rest findable. */
static void test_collisions_survive_removal(void **state)
{
	struct vs_pid_index ix;
	int ids[12], n = 0;

	(void)state;
	assert_int_equal(pid_index_init(&ix, 8), 0); /* 16 entries */
	for (int id = 1; n < 12 && id < 1000000; id++) {
		if (id == 1 || ((((uint32_t)id * 2654435761u) >> 7) & ix.mask) ==
				   ((((uint32_t)ids[0] * 2654435761u) >> 7) & ix.mask))
			ids[n++] = id;
	}
	assert_int_equal(n, 12);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pid_index_set(&ix, ids[i], i), 0);
	pid_index_remove(&ix, ids[0]);
	pid_index_remove(&ix, ids[3]);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pid_index_find(&ix, ids[i]), (i == 0 || i == 3) ? -1 : i);
	pid_index_free(&ix);
}

/* Random sets and removes against a reference array, near full, many seeds. */
static void test_random_against_reference(void **state)
{
	enum { MAX_ID = 300, ENTRIES = 64 };
	int ref[MAX_ID + 1];

	(void)state;
	for (unsigned int seed = 1; seed <= 200; seed++) {
		struct vs_pid_index ix;
		unsigned int count = 0, x = seed;

		memset(ref, -1, sizeof(ref));
		assert_int_equal(pid_index_init(&ix, ENTRIES), 0);
		for (int step = 0; step < 2000; step++) {
			int id, val;

			x = x * 1103515245u + 12345u;
			id = 1 + (int)((x >> 8) % MAX_ID);
			val = (int)((x >> 20) & 0xff);
			if ((x >> 3) & 1) {
				int rc = pid_index_set(&ix, id, val);

				if (ref[id] < 0 && count == ENTRIES) {
					assert_int_equal(rc, -1);
					continue;
				}
				assert_int_equal(rc, 0);
				count += ref[id] < 0;
				ref[id] = val;
			} else {
				pid_index_remove(&ix, id);
				count -= ref[id] >= 0;
				ref[id] = -1;
			}
			assert_int_equal(ix.count, count);
		}
		for (int id = 1; id <= MAX_ID; id++)
			assert_int_equal(pid_index_find(&ix, id), ref[id]);
		pid_index_free(&ix);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_and_invalid),
	    cmocka_unit_test(test_set_replace_remove),
	    cmocka_unit_test(test_collisions_survive_removal),
	    cmocka_unit_test(test_random_against_reference),
	};

	return cmocka_run_group_tests_name("pid_index", tests, NULL, NULL);
}
