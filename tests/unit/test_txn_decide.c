/*
 * Unit tests: the commit rule of agent transactions (bpf/rules/txn_decide.h),
 * the same function the BPF scheduler runs under the core's lock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bpf/rules/txn_decide.h"
#include "txn_outcome.h"

enum { VM_A = 3, VM_B = 7 };

/* A transaction for a vCPU of VM A that would commit on an idle core A owns. */
static struct vs_txn_facts fine(void)
{
	struct vs_txn_facts f = {
	    .in_enclave = 1,
	    .known_vcpu = 1,
	    .queued = 1,
	    .seq_txn = 41,
	    .seq_now = 41,
	    .vm = VM_A,
	    .owner = VM_A,
	    .this_running = VS_VM_NONE,
	    .sib_running = VS_VM_NONE,
	    .sib_leaving = VS_VM_NONE,
	};

	return f;
}

static void expect(const struct vs_txn_facts *f, unsigned int outcome, int take)
{
	int take_core = -1;
	unsigned int got = vs_txn_decide(f, &take_core);

	if (got != outcome)
		fail_msg("outcome %s, expected %s", txn_outcome_name(got),
			 txn_outcome_name(outcome));
	assert_int_equal(take_core, take);
}

static void test_commits_on_owned_core(void **state)
{
	struct vs_txn_facts f = fine();

	expect(&f, VS_TXN_COMPLETE, 0);
	f.sib_running = VM_A; /* the sibling runs the same VM: still fine */
	f.claims = 2;
	expect(&f, VS_TXN_COMPLETE, 0);
}

static void test_stale_seqnum_refused(void **state)
{
	struct vs_txn_facts f = fine();

	f.seq_now = 42; /* the vCPU woke, blocked or ran since the agent looked */
	expect(&f, VS_TXN_STALE, 0);
	f.seq_now = 40; /* older is as stale as newer: only equality commits */
	expect(&f, VS_TXN_STALE, 0);
	/* Stale wins over what the core looks like now. */
	f.sib_running = VM_B;
	f.queued = 0;
	expect(&f, VS_TXN_STALE, 0);
}

static void test_precedence_of_refusals(void **state)
{
	struct vs_txn_facts f = fine();

	f.in_enclave = 0;
	f.known_vcpu = 0;
	expect(&f, VS_TXN_NOT_IN_ENCLAVE, 0);
	f = fine();
	f.known_vcpu = 0;
	f.seq_now = 1;
	expect(&f, VS_TXN_UNKNOWN_VCPU, 0);
	f = fine();
	f.queued = 0;
	expect(&f, VS_TXN_NOT_RUNNABLE, 0);
	f = fine();
	f.host_blocks = 1;
	expect(&f, VS_TXN_HOST_BUSY, 0);
}

static void test_other_vm_on_core_refused(void **state)
{
	struct vs_txn_facts f = fine();

	f.sib_running = VM_B;
	expect(&f, VS_TXN_WRONG_VM, 0);
	f = fine();
	f.this_running = VM_B;
	expect(&f, VS_TXN_WRONG_VM, 0);
	f = fine();
	f.draining = 1; /* A is handing the core over */
	expect(&f, VS_TXN_WRONG_VM, 0);
}

static void test_takes_free_core_of_other_owner(void **state)
{
	struct vs_txn_facts f = fine();

	f.owner = VM_B; /* B owns it but runs and holds nothing there */
	expect(&f, VS_TXN_COMPLETE, 1);
	f.owner = VS_VM_NONE;
	expect(&f, VS_TXN_COMPLETE, 1);
	/* A vCPU of B committed to a thread: the core cannot change hands. */
	f.owner = VM_B;
	f.claims = 1;
	expect(&f, VS_TXN_WRONG_VM, 0);
}

/* VS_TXN_F_TAKE_CORE: where the commit would be wrong_vm, it takes the core instead. */
static void test_take_core_takes_busy_core(void **state)
{
	struct vs_txn_facts f = fine();

	f.may_take_core = 1;
	f.owner = VM_B;
	f.this_running = VM_B;
	f.sib_running = VM_B;
	expect(&f, VS_TXN_COMPLETE, VS_TXN_TAKE_BUSY);
	f.this_running = VS_VM_NONE; /* only the sibling runs B */
	expect(&f, VS_TXN_COMPLETE, VS_TXN_TAKE_BUSY);
	f.sib_running = VS_VM_NONE; /* B owns it, nothing of it there: taken at once */
	expect(&f, VS_TXN_COMPLETE, VS_TXN_TAKE_FREE);
	/* A takes back a core it is handing over. */
	f = fine();
	f.may_take_core = 1;
	f.draining = 1;
	expect(&f, VS_TXN_COMPLETE, VS_TXN_TAKE_FREE);
}

static void test_take_core_refused_without_flag(void **state)
{
	struct vs_txn_facts f = fine();

	f.owner = VM_B;
	f.sib_running = VM_B;
	expect(&f, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
	f.at_cap = 1; /* the cap alone changes nothing without the flag */
	f.sib_running = VS_VM_NONE;
	expect(&f, VS_TXN_COMPLETE, VS_TXN_TAKE_FREE);
}

static void test_take_core_refused_over_cap_or_with_claims(void **state)
{
	struct vs_txn_facts f = fine();

	f.may_take_core = 1;
	f.at_cap = 1;
	f.owner = VM_B;
	f.sib_running = VM_B;
	expect(&f, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
	f.sib_running = VS_VM_NONE; /* a free core is over the cap as well */
	expect(&f, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
	/* Its own core it keeps whatever its cap. */
	f.owner = VM_A;
	expect(&f, VS_TXN_COMPLETE, VS_TXN_TAKE_NONE);
	/* A vCPU committed there would start beside the taker's. */
	f = fine();
	f.may_take_core = 1;
	f.owner = VM_B;
	f.this_running = VM_B;
	f.claims = 1;
	expect(&f, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
	/* Every other check still comes first. */
	f = fine();
	f.may_take_core = 1;
	f.sib_running = VM_B;
	f.seq_now = 42;
	expect(&f, VS_TXN_STALE, VS_TXN_TAKE_NONE);
	f.seq_now = 41;
	f.host_blocks = 1;
	expect(&f, VS_TXN_HOST_BUSY, VS_TXN_TAKE_NONE);
	f.host_blocks = 0;
	f.in_enclave = 0;
	expect(&f, VS_TXN_NOT_IN_ENCLAVE, VS_TXN_TAKE_NONE);
}

static void expect_group(const struct vs_txn_facts *a, const struct vs_txn_facts *b,
			 unsigned int out_a, unsigned int out_b, int take)
{
	int ta, tb, t = -1;
	unsigned int oa = vs_txn_decide(a, &ta), ob = vs_txn_decide(b, &tb), ga, gb;
	int ok = vs_txn_decide_group(oa, ta, a->vm, ob, tb, b->vm, &ga, &gb, &t);

	if (ga != out_a || gb != out_b)
		fail_msg("group %s/%s, expected %s/%s", txn_outcome_name(ga), txn_outcome_name(gb),
			 txn_outcome_name(out_a), txn_outcome_name(out_b));
	assert_int_equal(ok, out_a == VS_TXN_COMPLETE);
	assert_int_equal(t, take);
}

static void test_take_core_group_all_or_nothing(void **state)
{
	struct vs_txn_facts a = fine(), b = fine();

	/* B runs both threads; A takes the core for both of its vCPUs. */
	a.may_take_core = b.may_take_core = 1;
	a.owner = b.owner = VM_B;
	a.this_running = b.this_running = VM_B;
	a.sib_running = b.sib_running = VM_B;
	expect_group(&a, &b, VS_TXN_COMPLETE, VS_TXN_COMPLETE, VS_TXN_TAKE_BUSY);
	/* One slot without the flag: neither takes. */
	b.may_take_core = 0;
	expect_group(&a, &b, VS_TXN_GROUP_FAILED, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
	/* One slot stale: neither takes. */
	b.may_take_core = 1;
	b.seq_now = 99;
	expect_group(&a, &b, VS_TXN_GROUP_FAILED, VS_TXN_STALE, VS_TXN_TAKE_NONE);
	/* Two VMs in one group: neither. */
	b = a;
	b.vm = VM_B;
	b.owner = VM_B;
	b.this_running = b.sib_running = VM_B;
	expect_group(&a, &b, VS_TXN_WRONG_VM, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
	/* Over its cap: neither. */
	b = a;
	a.at_cap = b.at_cap = 1;
	expect_group(&a, &b, VS_TXN_WRONG_VM, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
}

/*
 * The sibling's own dispatch has just handed it to VM_B while it still runs
 * VM_A's vCPU: ops.running recorded VM_B, VM_A is leaving, and the claim of
 * VM_B's vCPU has ended. The scheduler used to pass only the leaving VM
 * (VM_A) as sib_running, so a commit for VM_A found the core free and
 * started beside VM_B's vCPU. Both are facts now, and either refuses.
 */
static void test_sibling_switching_to_another_vm_refuses(void **state)
{
	struct vs_txn_facts f = fine();

	(void)state;
	f.owner = VM_B;
	f.sib_running = VM_B;
	f.sib_leaving = VM_A;
	expect(&f, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
	f.may_take_core = 1; /* taken, and its vCPU waits until the sibling is off VM_B */
	expect(&f, VS_TXN_COMPLETE, VS_TXN_TAKE_BUSY);
	/* The other way: switching from VM_B to VM_A still runs VM_B until the switch. */
	f = fine();
	f.sib_running = VM_A;
	f.sib_leaving = VM_B;
	expect(&f, VS_TXN_WRONG_VM, VS_TXN_TAKE_NONE);
	/* Switching within VM_A: nothing of another VM there. */
	f.sib_leaving = VM_A;
	expect(&f, VS_TXN_COMPLETE, VS_TXN_TAKE_NONE);
}

static void test_outcome_names(void **state)
{
	assert_string_equal(txn_outcome_name(VS_TXN_COMPLETE), "complete");
	assert_string_equal(txn_outcome_name(VS_TXN_STALE), "stale");
	assert_string_equal(txn_outcome_name(VS_TXN_NR_OUTCOMES), "invalid");
	assert_string_equal(txn_outcome_name(~0U), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commits_on_owned_core),
	    cmocka_unit_test(test_stale_seqnum_refused),
	    cmocka_unit_test(test_precedence_of_refusals),
	    cmocka_unit_test(test_other_vm_on_core_refused),
	    cmocka_unit_test(test_takes_free_core_of_other_owner),
	    cmocka_unit_test(test_take_core_takes_busy_core),
	    cmocka_unit_test(test_take_core_refused_without_flag),
	    cmocka_unit_test(test_take_core_refused_over_cap_or_with_claims),
	    cmocka_unit_test(test_take_core_group_all_or_nothing),
	    cmocka_unit_test(test_sibling_switching_to_another_vm_refuses),
	    cmocka_unit_test(test_outcome_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
