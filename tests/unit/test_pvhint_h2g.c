/* The host's half of a hint region: the write refusal rule, the mark, the slots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pvhint_h2g.h"

static const struct pvhint_file_facts good = {
    .regular = true,
    .on_shared_memory_fs = true,
    .links = 1,
    .size = 1 << 20,
    .owner_uid = 64055,
    .vmm_uid = 64055,
};

static void test_good_file_is_writable(void **state)
{
	struct pvhint_file_facts f = good;

	(void)state;
	assert_null(pvhint_h2g_refusal(&f));
	f.owner_uid = 0; /* made by root for the VMM: fine too */
	assert_null(pvhint_h2g_refusal(&f));
	f.size = PVHINT_MIN_REGION_SIZE;
	assert_null(pvhint_h2g_refusal(&f));
}

static void test_each_fact_refuses(void **state)
{
	struct pvhint_file_facts f;

	(void)state;
	f = good, f.regular = false;
	assert_string_equal(pvhint_h2g_refusal(&f), "not a regular file");
	f = good, f.on_shared_memory_fs = false;
	assert_non_null(strstr(pvhint_h2g_refusal(&f), "tmpfs"));
	f = good, f.links = 2; /* a hard link to, say, a system file */
	assert_non_null(strstr(pvhint_h2g_refusal(&f), "hard link"));
	f = good, f.links = 0;
	assert_non_null(pvhint_h2g_refusal(&f));
	f = good, f.owner_uid = 1000; /* another user's file */
	assert_non_null(strstr(pvhint_h2g_refusal(&f), "owned by"));
	f = good, f.size = PVHINT_MIN_REGION_SIZE - 1;
	assert_non_null(strstr(pvhint_h2g_refusal(&f), "smaller"));
}

/* The host part as mapped: PVHINT_H2G_MAP_LEN bytes from PVHINT_H2G_OFF. */
static unsigned char h2g[PVHINT_H2G_MAP_LEN];

static void test_stamp_writes_the_mark_where_the_guest_looks(void **state)
{
	struct pvhint_host_mark m;

	(void)state;
	assert_true(PVHINT_H2G_MAP_LEN >= PVHINT_MIN_REGION_SIZE - PVHINT_H2G_OFF);
	assert_int_equal(PVHINT_H2G_MAP_LEN % PVHINT_PAGE_SIZE, 0);
	memset(h2g, 0xa5, sizeof(h2g));
	pvhint_h2g_stamp(h2g, 3);
	memcpy(&m, h2g + PVHINT_HOST_MARK_OFF - PVHINT_H2G_OFF, sizeof(m));
	assert_int_equal(m.magic, PVHINT_HOST_MAGIC);
	assert_memory_equal(&m.magic, "PVHH", 4);
	assert_int_equal(m.abi_version, PVHINT_ABI_VERSION);
	assert_int_equal(m.nr_vcpus, 3);
	assert_int_equal(m.reserved, 0);
	/* Nothing else touched. */
	assert_int_equal(h2g[0], 0xa5);
	assert_int_equal(h2g[PVHINT_HOST_MARK_OFF - PVHINT_H2G_OFF - 1], 0xa5);
	assert_int_equal(h2g[PVHINT_HOST_MARK_OFF - PVHINT_H2G_OFF + PVHINT_HOST_MARK_SIZE], 0xa5);
}

static void test_publish_fills_one_slot_with_an_even_seq(void **state)
{
	struct pvhint_h2g_vals v = {PVHINT_H2G_YIELD_ON_EXIT, 7, 2, 30000, 0};
	struct pvhint_h2g_slot s;
	uint32_t seq = 0;

	(void)state;
	memset(h2g, 0, sizeof(h2g));
	pvhint_h2g_publish(h2g, 2, &seq, &v);
	memcpy(&s, h2g + PVHINT_H2G_SLOT_OFF(2) - PVHINT_H2G_OFF, sizeof(s));
	assert_int_equal(s.seq, 2);
	assert_int_equal(s.flags, PVHINT_H2G_YIELD_ON_EXIT);
	assert_int_equal(s.preemptions, 7);
	assert_int_equal(s.extensions, 2);
	assert_int_equal(s.extended_ns, 30000);
	assert_int_equal(s.disabled, 0);
	/* Slots 1 and 3 untouched. */
	for (size_t i = 0; i < PVHINT_SLOT_SIZE; i++) {
		assert_int_equal(h2g[PVHINT_H2G_SLOT_OFF(1) - PVHINT_H2G_OFF + i], 0);
		assert_int_equal(h2g[PVHINT_H2G_SLOT_OFF(3) - PVHINT_H2G_OFF + i], 0);
	}
}

static void test_publish_ignores_what_the_guest_wrote_to_seq(void **state)
{
	struct pvhint_h2g_vals v = {.disabled = 1};
	struct pvhint_h2g_slot s;
	uint32_t seq = 4, *region_seq = (uint32_t *)(h2g + PVHINT_H2G_SLOT_OFF(0) - PVHINT_H2G_OFF);

	(void)state;
	*region_seq = 0xffffffff; /* a hostile guest's value */
	pvhint_h2g_publish(h2g, 0, &seq, &v);
	memcpy(&s, h2g + PVHINT_H2G_SLOT_OFF(0) - PVHINT_H2G_OFF, sizeof(s));
	assert_int_equal(seq, 6);
	assert_int_equal(s.seq, 6);
	assert_int_equal(s.disabled, 1);
	/* An odd count left by a torn write of ours comes out even again. */
	seq = 9;
	pvhint_h2g_publish(h2g, 0, &seq, &v);
	assert_int_equal(seq, 10);
}

static void test_publish_beyond_the_slots_writes_nothing(void **state)
{
	static unsigned char before[sizeof(h2g)];
	struct pvhint_h2g_vals v = {.preemptions = 1};
	uint32_t seq = 0;

	(void)state;
	memset(h2g, 0x11, sizeof(h2g));
	memcpy(before, h2g, sizeof(h2g));
	pvhint_h2g_publish(h2g, PVHINT_MAX_VCPUS, &seq, &v);
	pvhint_h2g_publish(h2g, UINT32_MAX, &seq, &v);
	assert_memory_equal(before, h2g, sizeof(h2g));
	assert_int_equal(seq, 0);
}

static void test_vals_carry_the_vcpus_counts(void **state)
{
	struct pvhint_h2g_counts c = {.preempts = 9, .cs_extensions = 3, .cs_extended_ns = 150000};
	struct pvhint_h2g_vals v = pvhint_h2g_vals_of(&c, NULL, 0);

	(void)state;
	assert_int_equal(v.preemptions, 9);
	assert_int_equal(v.extensions, 3);
	assert_int_equal(v.extended_ns, 150000);
	assert_int_equal(v.disabled, 0);
	/* Extended since nothing was told: yield when the section ends. */
	assert_int_equal(v.flags, PVHINT_H2G_YIELD_ON_EXIT);
}

static void test_yield_flag_only_while_extensions_grow(void **state)
{
	struct pvhint_h2g_counts c = {.preempts = 1, .cs_extensions = 3, .cs_extended_ns = 150000};
	struct pvhint_h2g_vals last = pvhint_h2g_vals_of(&c, NULL, 0), v;

	(void)state;
	/* No extension since the last write: the flag goes. */
	c.preempts = 2;
	v = pvhint_h2g_vals_of(&c, &last, 0);
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.extensions, 3);
	/* A new one: it comes back. */
	last = v;
	c.cs_extensions = 4;
	c.cs_extended_ns = 200000;
	v = pvhint_h2g_vals_of(&c, &last, 0);
	assert_int_equal(v.flags, PVHINT_H2G_YIELD_ON_EXIT);
	assert_int_equal(v.extended_ns, 200000);
	/* Never extended: never asked to yield. */
	c = (struct pvhint_h2g_counts){.preempts = 5};
	assert_int_equal(pvhint_h2g_vals_of(&c, NULL, 0).flags, 0);
}

static void test_disabled_vm_is_never_asked_to_yield(void **state)
{
	struct pvhint_h2g_counts c = {.cs_extensions = 3};
	struct pvhint_h2g_vals v = pvhint_h2g_vals_of(&c, NULL, 1);

	(void)state;
	assert_int_equal(v.disabled, 1);
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.extensions, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file_is_writable),
	    cmocka_unit_test(test_each_fact_refuses),
	    cmocka_unit_test(test_stamp_writes_the_mark_where_the_guest_looks),
	    cmocka_unit_test(test_publish_fills_one_slot_with_an_even_seq),
	    cmocka_unit_test(test_publish_ignores_what_the_guest_wrote_to_seq),
	    cmocka_unit_test(test_publish_beyond_the_slots_writes_nothing),
	    cmocka_unit_test(test_vals_carry_the_vcpus_counts),
	    cmocka_unit_test(test_yield_flag_only_while_extensions_grow),
	    cmocka_unit_test(test_disabled_vm_is_never_asked_to_yield),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
