/* The guest hint region reader: a hostile guest's region never gives a wrong hint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pvhint_region.h"

#define MS  1000000ull
#define SEC 1000000000ull

static _Alignas(64) unsigned char region[PVHINT_REGION_SIZE];
static struct pvhint_vm vm;
static struct pvhint_hint hints[PVHINT_MAX_VCPUS];
static const struct pvhint_limits default_limits = PVHINT_LIMITS_DEFAULT;
static const struct pvhint_limits *lim = &default_limits;

static struct pvhint_header *hdr(void)
{
	return (struct pvhint_header *)(region + PVHINT_HEADER_OFF);
}

static struct pvhint_vcpu_slot *slot(uint32_t i)
{
	return (struct pvhint_vcpu_slot *)(region + PVHINT_VCPU_SLOT_OFF(i));
}

static struct pvhint_thread_slot *thread(uint32_t i)
{
	return (struct pvhint_thread_slot *)(region + PVHINT_THREAD_SLOT_OFF(i));
}

/* A sound guest with @n vCPUs, all online, busy, outside critical sections. */
static void guest(uint32_t n)
{
	memset(region, 0, sizeof(region));
	pvhint_vm_reset(&vm);
	*hdr() = (struct pvhint_header){.magic = PVHINT_MAGIC,
					.abi_version = PVHINT_ABI_VERSION,
					.nr_vcpus = n,
					.features = PVHINT_F_KNOWN,
					.boot_id = 0x1234,
					.nr_thread_slots = 64};
	for (uint32_t i = 0; i < n; i++)
		*slot(i) = (struct pvhint_vcpu_slot){.seq = 2,
						     .flags = PVHINT_VCPU_ONLINE,
						     .cur_thread = PVHINT_NO_THREAD,
						     .heartbeat = 1,
						     .now_ns = 5 * SEC};
}

/* The guest's next publish tick on vCPU @i: heartbeat and clock move on. */
static void tick(uint32_t i)
{
	slot(i)->heartbeat++;
	slot(i)->now_ns += 10 * MS;
	slot(i)->seq += 2;
}

static enum pvhint_fault scan(uint32_t host_nr, uint64_t now)
{
	return pvhint_scan(&vm, region, sizeof(region), host_nr, now, lim, hints, PVHINT_MAX_VCPUS);
}

static void test_benign_state_read(void **state)
{
	guest(3);
	slot(0)->flags |= PVHINT_VCPU_IDLE;
	slot(0)->idle_since_ns = 4 * SEC;
	slot(1)->cs_depth = 1;
	slot(1)->cs_since_ns = 5 * SEC;
	slot(2)->flags |= PVHINT_VCPU_PREEMPT_SEN;
	slot(2)->cur_thread = 7;
	thread(7)->flags = PVHINT_THREAD_IN_USE;
	thread(7)->depth = 2;
	assert_int_equal(scan(3, SEC), PVHINT_OK);
	assert_true(hints[0].valid && hints[0].idle && hints[0].cs_depth == 0);
	assert_true(hints[1].valid && !hints[1].idle && hints[1].cs_depth == 1);
	assert_true(hints[2].valid && hints[2].preempt_sen && hints[2].cs_depth == 2);
	assert_false(hints[3].valid); /* beyond nr_vcpus */
	assert_false(vm.disabled);
}

/* A thread's depth follows it: the vCPU that names its slot shows it. */
static void test_thread_migrates(void **state)
{
	guest(2);
	thread(3)->flags = PVHINT_THREAD_IN_USE;
	thread(3)->depth = 1;
	slot(0)->cur_thread = 3;
	assert_int_equal(scan(2, SEC), PVHINT_OK);
	assert_int_equal(hints[0].cs_depth, 1);
	assert_int_equal(hints[1].cs_depth, 0);
	slot(0)->cur_thread = PVHINT_NO_THREAD;
	slot(1)->cur_thread = 3;
	tick(0), tick(1);
	assert_int_equal(scan(2, SEC + 10 * MS), PVHINT_OK);
	assert_int_equal(hints[0].cs_depth, 0);
	assert_int_equal(hints[1].cs_depth, 1);
	thread(3)->flags = 0; /* unregistered: its depth no longer counts */
	tick(0), tick(1);
	assert_int_equal(scan(2, SEC + 20 * MS), PVHINT_OK);
	assert_int_equal(hints[1].cs_depth, 0);
}

static void test_no_guest_is_not_an_error(void **state)
{
	memset(region, 0, sizeof(region));
	pvhint_vm_reset(&vm);
	assert_int_equal(scan(2, SEC), PVHINT_NO_GUEST);
	assert_false(vm.disabled);
	assert_int_equal(vm.disables, 0);
	assert_false(hints[0].valid);
}

static void expect_disabled(enum pvhint_fault got, enum pvhint_fault want, uint32_t vcpu)
{
	assert_int_equal(got, want);
	assert_true(vm.disabled);
	assert_int_equal(vm.fault, want);
	assert_int_equal(vm.fault_vcpu, vcpu);
	assert_int_equal(vm.disables, 1);
	for (uint32_t i = 0; i < PVHINT_MAX_VCPUS; i++)
		assert_false(hints[i].valid);
	/* It stays off, counted once, even when the region looks sound again. */
	assert_int_equal(scan(0, SEC + 20 * MS), PVHINT_DISABLED);
	assert_int_equal(vm.disables, 1);
}

static void test_wrong_magic_and_version(void **state)
{
	guest(2);
	hdr()->magic = 0x4e485651;
	expect_disabled(scan(2, SEC), PVHINT_BAD_MAGIC, UINT32_MAX);
	guest(2);
	hdr()->abi_version = 2;
	expect_disabled(scan(2, SEC), PVHINT_BAD_VERSION, UINT32_MAX);
	guest(2);
	hdr()->boot_id = 0;
	expect_disabled(scan(2, SEC), PVHINT_BAD_BOOT_ID, UINT32_MAX);
}

static void test_vcpu_counts(void **state)
{
	const uint32_t bad[] = {0, 3, PVHINT_MAX_VCPUS + 1, 0x7fffffff, UINT32_MAX};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		guest(2);
		hdr()->nr_vcpus = bad[k];
		expect_disabled(scan(2, SEC), PVHINT_BAD_VCPU_COUNT, UINT32_MAX);
	}
	/* Unknown host count: the ABI's bound still holds. */
	guest(2);
	hdr()->nr_vcpus = UINT32_MAX;
	expect_disabled(scan(0, SEC), PVHINT_BAD_VCPU_COUNT, UINT32_MAX);
	guest(PVHINT_MAX_VCPUS);
	assert_int_equal(scan(0, SEC), PVHINT_OK);
	guest(2);
	hdr()->nr_thread_slots = PVHINT_MAX_THREAD_SLOTS + 1;
	expect_disabled(scan(2, SEC), PVHINT_BAD_THREAD_COUNT, UINT32_MAX);
}

static void test_impossible_slot_values(void **state)
{
	guest(2);
	slot(1)->flags |= 1u << 9;
	expect_disabled(scan(2, SEC), PVHINT_BAD_FLAGS, 1);
	guest(2);
	slot(0)->cs_depth = PVHINT_MAX_CS_DEPTH + 1;
	expect_disabled(scan(2, SEC), PVHINT_BAD_CS_DEPTH, 0);
	guest(2);
	slot(0)->cur_thread = 0;
	thread(0)->flags = PVHINT_THREAD_IN_USE;
	thread(0)->depth = UINT32_MAX;
	expect_disabled(scan(2, SEC), PVHINT_BAD_CS_DEPTH, 0);
	guest(2);
	slot(1)->cur_thread = 64; /* nr_thread_slots */
	expect_disabled(scan(2, SEC), PVHINT_BAD_THREAD_INDEX, 1);
	guest(2);
	slot(1)->cur_thread = 0x7fffffff;
	expect_disabled(scan(2, SEC), PVHINT_BAD_THREAD_INDEX, 1);
	/* Without thread slots, cur_thread means nothing: a zeroed slot is fine. */
	guest(2);
	hdr()->features &= ~PVHINT_F_THREAD_SLOTS;
	hdr()->nr_thread_slots = 0;
	slot(1)->cur_thread = 0;
	assert_int_equal(scan(2, SEC), PVHINT_OK);
	assert_int_equal(hints[1].cs_depth, 0);
	guest(2);
	slot(0)->idle_since_ns = slot(0)->now_ns + 1;
	expect_disabled(scan(2, SEC), PVHINT_BAD_TIME, 0);
	guest(2);
	slot(0)->cs_depth = 1;
	slot(0)->cs_since_ns = UINT64_MAX;
	expect_disabled(scan(2, SEC), PVHINT_BAD_TIME, 0);
}

static void test_torn_reads(void **state)
{
	uint64_t t = SEC;

	guest(2);
	slot(1)->seq = 3; /* a guest that stopped mid-write */
	slot(1)->flags |= PVHINT_VCPU_IDLE;
	for (uint32_t i = 1; i < lim->torn_limit; i++, t += 10 * MS) {
		assert_int_equal(scan(2, t), PVHINT_OK);
		assert_true(hints[0].valid);
		assert_false(hints[1].valid); /* never a torn slot's hint */
		tick(0);
	}
	assert_int_equal(vm.torn_reads, lim->torn_limit - 1);
	/* A complete write in between restarts the count. */
	slot(1)->seq = 4;
	assert_int_equal(scan(2, t), PVHINT_OK);
	assert_true(hints[1].valid && hints[1].idle);
	slot(1)->seq = 5;
	for (uint32_t i = 1; i < lim->torn_limit; i++)
		assert_int_equal(scan(2, t += 10 * MS), PVHINT_OK);
	expect_disabled(scan(2, t + 10 * MS), PVHINT_SEQ_STUCK, 1);
}

static void test_heartbeat_and_clock_back(void **state)
{
	guest(1);
	assert_int_equal(scan(1, SEC), PVHINT_OK);
	slot(0)->heartbeat = 0;
	slot(0)->now_ns += MS;
	expect_disabled(scan(1, SEC + 10 * MS), PVHINT_HEARTBEAT_BACK, 0);
	guest(1);
	assert_int_equal(scan(1, SEC), PVHINT_OK);
	slot(0)->now_ns -= 1;
	expect_disabled(scan(1, SEC + 10 * MS), PVHINT_HEARTBEAT_BACK, 0);
}

static void test_stale_heartbeat_gives_no_hint(void **state)
{
	guest(1);
	slot(0)->flags |= PVHINT_VCPU_IDLE;
	assert_int_equal(scan(1, SEC), PVHINT_OK);
	assert_true(hints[0].idle);
	assert_int_equal(scan(1, SEC + lim->stale_ns), PVHINT_OK);
	assert_true(hints[0].idle);
	assert_int_equal(scan(1, SEC + lim->stale_ns + 1), PVHINT_OK);
	assert_false(hints[0].valid);
	assert_false(vm.disabled);
	tick(0);
	assert_int_equal(scan(1, SEC + lim->stale_ns + 2), PVHINT_OK);
	assert_true(hints[0].valid && hints[0].idle);
}

/* Idle changes at @per_tick a 10 ms host tick for @ticks ticks; the first fault, or PVHINT_OK. */
/*
 * @ticks publish ticks of 10 ms on vCPU 0 (idle, in a critical section of
 * depth 1), each with @per_tick idle changes: counted in idle_transitions if
 * @count_them, the flag flipped if the count is odd or not admitted to. Each
 * scan must succeed and keep the critical section; returns the scans that
 * left out an idle the slot showed.
 */
static int flap_clock;

static void flapper(void)
{
	guest(1);
	flap_clock = 0;
	slot(0)->flags |= PVHINT_VCPU_IDLE;
	slot(0)->idle_since_ns = slot(0)->now_ns;
	slot(0)->cs_depth = 1;
	slot(0)->cs_since_ns = slot(0)->now_ns;
	assert_int_equal(scan(1, SEC + (uint64_t)flap_clock++ * 10 * MS), PVHINT_OK);
	assert_true(hints[0].idle);
}

static int flap(uint32_t per_tick, int ticks, bool count_them)
{
	int unused = 0;

	for (int k = 0; k < ticks; k++) {
		if (count_them)
			slot(0)->idle_transitions += per_tick;
		if (per_tick % 2 || !count_them)
			slot(0)->flags ^= PVHINT_VCPU_IDLE;
		tick(0);
		assert_int_equal(scan(1, SEC + (uint64_t)flap_clock++ * 10 * MS), PVHINT_OK);
		assert_true(hints[0].valid);
		assert_int_equal(hints[0].cs_depth, 1);
		if ((slot(0)->flags & PVHINT_VCPU_IDLE) && !hints[0].idle)
			unused++;
	}
	return unused;
}

static void test_flapping(void **state)
{
	/* 1000/s for 3 s: within 2000/s, every idle used. */
	flapper();
	assert_int_equal(flap(10, 300, true), 0);
	assert_int_equal(vm.idle_flaps, 0);
	/* 5000/s: the burst of 200 lasts about 70 ms, then idle goes unused ... */
	flapper();
	assert_in_range(flap(50, 300, true), 290, 295);
	assert_int_equal(vm.idle_flaps, 1);
	assert_false(vm.disabled);
	/* ... through a pause of half a second between bursts ... */
	assert_int_equal(flap(0, 50, true), 50);
	assert_int_equal(flap(50, 10, true), 10);
	assert_int_equal(vm.idle_flaps, 1);
	/* ... until the rate has stayed within the limit for a second (flap_calm_ns) ... */
	assert_int_equal(flap(10, 100, true), 100);
	assert_int_equal(flap(10, 100, true), 0);
	/* ... and those two seconds under the rate brought the burst back. */
	assert_in_range(flap(50, 100, true), 90, 95);
	assert_int_equal(vm.idle_flaps, 2);
	/* A huge jump at once. */
	flapper();
	assert_int_equal(flap(0x80000000u, 3, true), 3);
	/* Flips the counter does not admit to still count, one per tick: within the limit. */
	flapper();
	assert_int_equal(flap(0, 300, false), 0);
	/* ... and are caught against a tighter limit. */
	struct pvhint_limits tight = default_limits;

	tight.idle_rate = 10;
	tight.idle_burst = 5;
	lim = &tight;
	flapper();
	assert_in_range(flap(0, 300, false), 140, 150);
	lim = &default_limits;
}

static void test_reenable_needs_new_boot_and_time(void **state)
{
	guest(1);
	hdr()->magic = 1;
	expect_disabled(scan(1, SEC), PVHINT_BAD_MAGIC, UINT32_MAX);
	hdr()->magic = PVHINT_MAGIC; /* sound, same boot: stays off */
	assert_int_equal(scan(1, SEC + lim->reenable_ns), PVHINT_DISABLED);
	hdr()->boot_id++; /* new boot, too soon */
	assert_int_equal(scan(1, SEC + lim->reenable_ns - 1), PVHINT_DISABLED);
	assert_int_equal(scan(1, SEC + lim->reenable_ns), PVHINT_OK);
	assert_true(hints[0].valid);
	assert_false(vm.disabled);
	assert_int_equal(vm.disables, 1);
}

static void test_short_region(void **state)
{
	guest(1);
	assert_int_equal(pvhint_scan(&vm, region, PVHINT_H2G_OFF - 1, 1, SEC, lim, hints, 4),
			 PVHINT_BAD_SIZE);
	assert_true(vm.disabled);
}

static void test_fault_names(void **state)
{
	for (int f = 0; f < PVHINT_NR_FAULTS; f++)
		assert_non_null(pvhint_fault_str(f));
	assert_string_equal(pvhint_fault_str(PVHINT_NR_FAULTS), "unknown fault");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_benign_state_read),
	    cmocka_unit_test(test_thread_migrates),
	    cmocka_unit_test(test_no_guest_is_not_an_error),
	    cmocka_unit_test(test_wrong_magic_and_version),
	    cmocka_unit_test(test_vcpu_counts),
	    cmocka_unit_test(test_impossible_slot_values),
	    cmocka_unit_test(test_torn_reads),
	    cmocka_unit_test(test_heartbeat_and_clock_back),
	    cmocka_unit_test(test_stale_heartbeat_gives_no_hint),
	    cmocka_unit_test(test_flapping),
	    cmocka_unit_test(test_reenable_needs_new_boot_and_time),
	    cmocka_unit_test(test_short_region),
	    cmocka_unit_test(test_fault_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
