/*
 * Unit tests: the control request parser and who may run what
 * (vmm-sched/lib/ctl_request.c, ctl_access.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ctl_access.h"
#include "ctl_request.h"
#include "vmm_sched_ctl.h"

static char err[512];

static int parse(const char *text, struct vs_ctl_request *req)
{
	err[0] = '\0';
	return ctl_request_parse(text, strlen(text), req, err, sizeof(err));
}

static void expect_error(const char *text, const char *words)
{
	struct vs_ctl_request req;

	assert_int_equal(parse(text, &req), -1);
	if (!strstr(err, words))
		fail_msg("'%s' -> '%s', expected '%s'", text, err, words);
}

static void test_status(void **state)
{
	struct vs_ctl_request req;

	assert_int_equal(parse("{\"version\":1,\"cmd\":\"status\"}\n", &req), 0);
	assert_int_equal(req.cmd, VS_CTL_CMD_STATUS);
}

static void test_enroll(void **state)
{
	struct vs_ctl_request req;

	assert_int_equal(parse("{\"version\":1,\"cmd\":\"enroll\",\"pid\":1234,\"name\":\"web-1\","
			       "\"weight\":200,\"cap\":2}",
			       &req),
			 0);
	assert_int_equal(req.cmd, VS_CTL_CMD_ENROLL);
	assert_int_equal(req.pid, 1234);
	assert_string_equal(req.name, "web-1");
	assert_int_equal(req.share.weight, 200);
	assert_int_equal(req.share.reserve_cores, VS_SHARE_KEEP);
	assert_int_equal(req.share.cap_cores, 2);
	assert_int_equal(parse("{\"version\":1,\"cmd\":\"release\",\"pid\":7}", &req), 0);
	assert_int_equal(req.cmd, VS_CTL_CMD_RELEASE);
	assert_string_equal(req.name, "");
}

static void test_place(void **state)
{
	struct vs_ctl_request req;

	assert_int_equal(
	    parse("{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":5,\"cpu\":2,"
		  "\"seqnum\":17},{\"tid\":6,\"cpu\":3}]}",
		  &req),
	    0);
	assert_int_equal(req.nr_placements, 2);
	assert_true(req.placements[0].have_seqnum);
	assert_int_equal(req.placements[0].seqnum, 17);
	assert_false(req.placements[1].have_seqnum);
	assert_int_equal(req.placements[1].cpu, 3);
	expect_error("{\"version\":1,\"cmd\":\"place\",\"placements\":[]}",
		     "1 or 2 entries, not 0");
	expect_error(
	    "{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":1,\"cpu\":0},{\"tid\":2,"
	    "\"cpu\":1},{\"tid\":3,\"cpu\":2}]}",
	    "not 3");
	expect_error("{\"version\":1,\"cmd\":\"place\",\"placements\":[5]}", "placement 0 needs");
	expect_error("{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":1,\"cpu\":0,"
		     "\"seqnum\":-1}]}",
		     "'seqnum' must be an integer >= 0");
}

static void test_malformed(void **state)
{
	char big[VS_CTL_MAX_REQUEST + 10];

	expect_error("{\"garbage", "incomplete JSON");
	expect_error("not json at all", "not valid JSON");
	expect_error("[1,2,3]", "not a JSON object");
	expect_error("{\"cmd\":\"status\"}", "no integer 'version'");
	expect_error("{\"version\":99,\"cmd\":\"status\"}", "version 99 is not supported");
	expect_error("{\"version\":1,\"cmd\":\"reboot\"}", "unknown command 'reboot'");
	expect_error("{\"version\":1,\"cmd\":\"enroll\",\"pid\":\"12\"}", "positive integer 'pid'");
	expect_error("{\"version\":1,\"cmd\":\"enroll\",\"pid\":-5}", "positive integer 'pid'");
	expect_error("{\"version\":1,\"cmd\":\"enroll\",\"pid\":4294967297}",
		     "positive integer 'pid'");
	expect_error("{\"version\":1,\"cmd\":\"set\",\"pid\":5,\"weight\":0}", "'weight' must be");
	expect_error("{\"version\":1,\"cmd\":\"status\"} {\"version\":1,\"cmd\":\"status\"}",
		     "bytes after its JSON object");
	expect_error("{\"version\":1,\"cmd\":[[[[[[[[1]]]]]]]]}", "not valid JSON");
	memset(big, ' ', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	expect_error(big, "longer than 4096 bytes");
}

static void test_names_checked(void **state)
{
	expect_error("{\"version\":1,\"cmd\":\"enroll\",\"pid\":1,\"name\":\"a\\nb\"}",
		     "'name': the VM name has character 0x0a at position 2");
	expect_error("{\"version\":1,\"cmd\":\"enroll\",\"pid\":1,\"name\":\"\\u001b[31m\"}",
		     "character 0x1b at position 1");
	expect_error("{\"version\":1,\"cmd\":\"enroll\",\"pid\":1,\"name\":\"ok\\u0000evil\"}",
		     "character 0x00 at position 3");
	expect_error("{\"version\":1,\"cmd\":\"enroll\",\"pid\":1,\"name\":5}",
		     "'name' must be a string");
}

static void test_unknown_command_escaped(void **state)
{
	expect_error("{\"version\":1,\"cmd\":\"x\\ny\\u001b\"}", "unknown command 'x\\x0ay\\x1b'");
	for (const char *p = err; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void test_enclave_commands(void **state)
{
	struct vs_ctl_request req;

	assert_int_equal(parse("{\"version\":1,\"cmd\":\"enclave-create\",\"enclave\":\"fast\","
			       "\"cpus\":\"2-3\",\"pairing\":\"relaxed\",\"slice_us\":2000}",
			       &req),
			 0);
	assert_int_equal(req.cmd, VS_CTL_CMD_ENCLAVE_CREATE);
	assert_string_equal(req.enclave, "fast");
	assert_true(req.have_cpus);
	assert_int_equal(cpuset_count(&req.cpus), 2);
	assert_int_equal(req.pairing, VS_PAIRING_RELAXED);
	assert_int_equal(req.slice_us, 2000);
	assert_int_equal(
	    parse("{\"version\":1,\"cmd\":\"enclave-create\",\"enclave\":\"x\"}", &req), 0);
	assert_false(req.have_cpus);
	assert_int_equal(req.pairing, -1);
	assert_int_equal(parse("{\"version\":1,\"cmd\":\"enclave-destroy\",\"enclave\":\"x\","
			       "\"force\":true}",
			       &req),
			 0);
	assert_true(req.force);
	assert_int_equal(
	    parse("{\"version\":1,\"cmd\":\"vm-move\",\"pid\":42,\"enclave\":\"x\"}", &req), 0);
	assert_int_equal(req.pid, 42);
	assert_string_equal(req.enclave, "x");
	assert_int_equal(
	    parse("{\"version\":1,\"cmd\":\"enroll\",\"pid\":4,\"enclave\":\"x\"}", &req), 0);
	assert_string_equal(req.enclave, "x");
	assert_int_equal(parse("{\"version\":1,\"cmd\":\"rebalance\",\"dry_run\":true}", &req), 0);
	assert_true(req.dry_run);
	assert_int_equal(parse("{\"version\":1,\"cmd\":\"enclave-list\"}", &req), 0);
	expect_error("{\"version\":1,\"cmd\":\"enclave-add-cores\",\"enclave\":\"x\"}",
		     "needs a string 'cpus'");
	expect_error("{\"version\":1,\"cmd\":\"enclave-add-cores\",\"enclave\":\"x\","
		     "\"cpus\":\"3-1\"}",
		     "'cpus' must be a CPU list");
	expect_error("{\"version\":1,\"cmd\":\"enclave-remove-cores\",\"cpus\":\"2\"}",
		     "needs a string 'enclave'");
	expect_error("{\"version\":1,\"cmd\":\"enclave-create\",\"enclave\":\"a b\"}", "only A-Z");
	expect_error("{\"version\":1,\"cmd\":\"enclave-create\",\"enclave\":\"a\","
		     "\"pairing\":\"loose\"}",
		     "'pairing' must be");
	expect_error("{\"version\":1,\"cmd\":\"enclave-destroy\",\"enclave\":\"a\","
		     "\"force\":1}",
		     "'force' must be true or false");
	expect_error("{\"version\":1,\"cmd\":\"vm-move\",\"pid\":42}", "needs a string 'enclave'");
}

static void test_access(void **state)
{
	struct vs_ctl_peer root = {.uid = 0}, nobody = {.uid = 65534},
			   member = {.uid = 1000, .in_control_group = true};
	gid_t groups[] = {27, 100, 998};

	assert_int_equal(ctl_access_check(&nobody, VS_CTL_CMD_STATUS, NULL, err, sizeof(err)), 0);
	assert_int_equal(ctl_access_check(&nobody, VS_CTL_CMD_ENCLAVE_LIST, NULL, err, sizeof(err)),
			 0);
	for (int cmd = VS_CTL_CMD_ENROLL; cmd < VS_CTL_NR_CMDS; cmd++) {
		if (cmd == VS_CTL_CMD_ENCLAVE_LIST)
			continue;
		assert_int_equal(ctl_access_check(&root, cmd, NULL, err, sizeof(err)), 0);
		assert_int_equal(ctl_access_check(&member, cmd, "kvm", err, sizeof(err)), 0);
		assert_int_equal(ctl_access_check(&nobody, cmd, "kvm", err, sizeof(err)), -1);
	}
	ctl_access_check(&nobody, VS_CTL_CMD_RELEASE, "kvm", err, sizeof(err));
	assert_non_null(strstr(err, "uid 65534 may not 'release'"));
	assert_non_null(strstr(err, "group 'kvm'"));
	ctl_access_check(&nobody, VS_CTL_CMD_SET, NULL, err, sizeof(err));
	assert_non_null(strstr(err, "uid 65534 may not 'set': only root"));
	ctl_access_check(&nobody, VS_CTL_CMD_ENCLAVE_REMOVE_CORES, NULL, err, sizeof(err));
	assert_non_null(strstr(err, "may not 'enclave-remove-cores'"));
	assert_true(ctl_gid_in(100, groups, 3));
	assert_false(ctl_gid_in(101, groups, 3));
	assert_false(ctl_gid_in(100, groups, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status),	  cmocka_unit_test(test_enroll),
	    cmocka_unit_test(test_place),	  cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_names_checked), cmocka_unit_test(test_unknown_command_escaped),
	    cmocka_unit_test(test_access),	  cmocka_unit_test(test_enclave_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
