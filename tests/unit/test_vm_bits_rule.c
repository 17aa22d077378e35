/*
 * Unit tests: the bitmap of VMs that may have queued vCPUs
 * (bpf/rules/vm_bits.h), the helpers pick_owed_vm runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/vm_bits.h"

/* Every single bit, and the lowest of several, against a plain loop. */
static void ctz_finds_lowest_bit(void **state)
{
	(void)state;
	for (__u32 i = 0; i < 64; i++) {
		assert_int_equal(vs_ctz64(1ULL << i), i);
		assert_int_equal(vs_ctz64(~0ULL << i), i);
		assert_int_equal(vs_ctz64((1ULL << i) | (1ULL << 63)), i);
	}
	for (__u64 n = 0, seed = 12345; n < 10000; n++) {
		__u64 x;
		__u32 want = 0;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		x = seed >> (seed & 63); /* a random value with a random number of low zeros */
		x <<= seed >> 58;
		if (!x)
			continue;
		while (!(x >> want & 1))
			want++;
		assert_int_equal(vs_ctz64(x), want);
	}
}

/* Each VM id up to the ceiling has one word and one bit, and no two share both. */
static void word_and_bit_cover_every_vm(void **state)
{
	static __u64 seen[VS_VM_WORDS];

	(void)state;
	for (__u32 vm = 0; vm < VS_MAX_VMS; vm++) {
		__u32 w = vs_vm_word(vm);

		assert_true(w < VS_VM_WORDS);
		assert_int_equal(seen[w] & vs_vm_bit(vm), 0);
		seen[w] |= vs_vm_bit(vm);
		assert_int_equal(w * 64 + vs_ctz64(vs_vm_bit(vm)), vm);
	}
	for (__u32 w = 0; w < VS_VM_WORDS; w++)
		assert_true(seen[w] == ~0ULL);
}

/* With a vCPU in flight: cleared only when empty, not prev, and past the grace. */
static void bit_stale_only_after_grace(void **state)
{
	const __u64 t = 10ULL * VS_QUEUED_GRACE_NS;

	(void)state;
	assert_true(vs_vm_bit_stale(0, false, 1, t, t + VS_QUEUED_GRACE_NS + 1));
	assert_false(vs_vm_bit_stale(0, false, 1, t, t + VS_QUEUED_GRACE_NS));
	assert_false(vs_vm_bit_stale(0, false, 1, t, t + 1000));
	assert_false(vs_vm_bit_stale(1, false, 1, t, t + 2 * VS_QUEUED_GRACE_NS));
	assert_false(vs_vm_bit_stale(0, true, 1, t, t + 2 * VS_QUEUED_GRACE_NS));
	assert_true(vs_vm_bit_stale(-1, false, 1, 0, t));
	/* A clock read before the insert's stamp (another CPU) is not past anything. */
	assert_false(vs_vm_bit_stale(0, false, 1, t + 5, t));
}

/*
 * Nothing in flight (every vCPU inserted has run or left): cleared at once,
 * so the VMs a pick visits are those with work now, not those that had some
 * within the grace (at 512 mostly idle VMs the grace kept ~60 candidates).
 */
static void bit_stale_at_once_with_nothing_in_flight(void **state)
{
	const __u64 t = 10ULL * VS_QUEUED_GRACE_NS;

	(void)state;
	assert_true(vs_vm_bit_stale(0, false, 0, t, t + 1));
	assert_true(vs_vm_bit_stale(0, false, -1, t, t));
	assert_false(vs_vm_bit_stale(1, false, 0, t, t + 1));
	assert_false(vs_vm_bit_stale(0, true, 0, t, t + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ctz_finds_lowest_bit),
	    cmocka_unit_test(word_and_bit_cover_every_vm),
	    cmocka_unit_test(bit_stale_at_once_with_nothing_in_flight),
	    cmocka_unit_test(bit_stale_only_after_grace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
