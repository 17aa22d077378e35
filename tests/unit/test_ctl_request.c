/* Over 400 lines: one case per request, field and refusal of one protocol. */
/*
 * Unit tests: the control request encoder and parser and who may run what
 * (vmm-sched/lib/ctl_request.c, ctl_access.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl_access.h"
#include "ctl_request.h"
#include "share.h"
#include "tests/lib/xorshift.h"
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

	if (parse(text, &req) != -1)
		fail_msg("'%s' was accepted", text);
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

static void test_enroll_hints(void **state)
{
	struct vs_ctl_request req;
	char err[512], big[400];

	assert_int_equal(parse("{\"version\":1,\"cmd\":\"enroll\",\"pid\":9,"
			       "\"hints\":\"/dev/shm/vm1\"}",
			       &req),
			 0);
	assert_string_equal(req.hints, "/dev/shm/vm1");
	assert_int_equal(parse("{\"version\":1,\"cmd\":\"enroll\",\"pid\":9}", &req), 0);
	assert_string_equal(req.hints, "");
	const char *bad[] = {
	    "{\"version\":1,\"cmd\":\"enroll\",\"pid\":9,\"hints\":\"dev/shm/x\"}",
	    "{\"version\":1,\"cmd\":\"enroll\",\"pid\":9,\"hints\":\"/a\\nb\"}",
	    "{\"version\":1,\"cmd\":\"enroll\",\"pid\":9,\"hints\":\"/a\\u0000b\"}",
	    "{\"version\":1,\"cmd\":\"enroll\",\"pid\":9,\"hints\":7}",
	    "{\"version\":1,\"cmd\":\"set\",\"pid\":9,\"hints\":\"/x\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctl_request_parse(bad[i], strlen(bad[i]), &req, err, sizeof(err)),
				 -1);
		assert_non_null(strstr(err, "'hints'"));
	}
	snprintf(big, sizeof(big),
		 "{\"version\":1,\"cmd\":\"enroll\",\"pid\":9,\"hints\":\"/%0250d\"}", 0);
	assert_int_equal(ctl_request_parse(big, strlen(big), &req, err, sizeof(err)), -1);
}

static void test_notify(void **state)
{
	struct vs_ctl_request req;

	/* libvirt names are not held to the VM name rules: the agent sanitises them. */
	assert_int_equal(parse("{\"version\":1,\"cmd\":\"notify\",\"domain\":\"web 1\"}", &req), 0);
	assert_int_equal(req.cmd, VS_CTL_CMD_NOTIFY);
	assert_string_equal(req.domain, "web 1");
	expect_error("{\"version\":1,\"cmd\":\"notify\"}", "'notify' needs a string 'domain'");
	expect_error("{\"version\":1,\"cmd\":\"notify\",\"domain\":\"\"}",
		     "'domain' must have 1..255 characters");
	expect_error("{\"version\":1,\"cmd\":\"notify\",\"domain\":\"a\\nb\"}",
		     "'domain' holds a control character");
	/* Only root or the control group may nudge the agent. */
	assert_true(ctl_cmd_changes_state(VS_CTL_CMD_NOTIFY));
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
	expect_error("{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":1,\"cpu\":"
		     "0},{\"tid\":2,"
		     "\"cpu\":1},{\"tid\":3,\"cpu\":2}]}",
		     "not 3");
	expect_error("{\"version\":1,\"cmd\":\"place\",\"placements\":[5]}", "placement 0 needs");
	expect_error("{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":1,\"cpu\":0,"
		     "\"seqnum\":-1}]}",
		     "'seqnum' must be an integer >= 0");
	assert_false(req.take_core);
	assert_int_equal(parse("{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":5,"
			       "\"cpu\":2}],\"take_core\":true}",
			       &req),
			 0);
	assert_true(req.take_core);
	expect_error("{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":5,\"cpu\":2}],"
		     "\"take_core\":1}",
		     "'take_core' must be true or false");
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

/* Each field the parser checks, wrong in the ways a client could get it wrong. */
static void test_malformed_fields(void **state)
{
	static const struct {
		const char *text, *words;
	} cases[] = {
	    {"", "the request is empty"},
	    {" \r\n", "the request is empty"},
	    {"12", "not a JSON object"},
	    {"{\"version\":1,\"cmd\":\"status\"", "incomplete JSON (27 bytes)"},
	    {"null", "not a JSON object"},
	    {"\"status\"", "not a JSON object"},
	    {"{\"version\":\"1\",\"cmd\":\"status\"}", "no integer 'version'"},
	    {"{\"version\":1.0,\"cmd\":\"status\"}", "no integer 'version'"},
	    {"{\"version\":0,\"cmd\":\"status\"}", "version 0 is not supported: this daemon "
						   "speaks version 1"},
	    {"{\"version\":1}", "no string 'cmd'"},
	    {"{\"version\":1,\"cmd\":7}", "no string 'cmd'"},
	    {"{\"version\":1,\"cmd\":\"STATUS\"}", "unknown command 'STATUS' (known: status, "
						   "enroll, set, release, place"},
	    {"{\"version\":1,\"cmd\":\"release\"}", "'release' needs a positive integer 'pid'"},
	    {"{\"version\":1,\"cmd\":\"set\",\"pid\":0}", "'set' needs a positive integer 'pid'"},
	    {"{\"version\":1,\"cmd\":\"set\",\"pid\":1.5}", "positive integer 'pid'"},
	    {"{\"version\":1,\"cmd\":\"set\",\"pid\":1,\"weight\":10001}", "'weight' must be "
									   "an integer 1..10000"},
	    {"{\"version\":1,\"cmd\":\"set\",\"pid\":1,\"weight\":\"5\"}", "'weight' must be"},
	    {"{\"version\":1,\"cmd\":\"set\",\"pid\":1,\"reserve\":-1}", "'reserve' and 'cap'"},
	    {"{\"version\":1,\"cmd\":\"set\",\"pid\":1,\"cap\":100000}", "'reserve' and 'cap'"},
	    {"{\"version\":1,\"cmd\":\"set\",\"pid\":1,\"cap\":null}", "'reserve' and 'cap'"},
	    {"{\"version\":1,\"cmd\":\"enroll\",\"pid\":1,\"name\":\"\"}", "'name': "},
	    {"{\"version\":1,\"cmd\":\"enroll\",\"pid\":1,\"name\":"
	     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	     "'name': "},
	    {"{\"version\":1,\"cmd\":\"enroll\",\"pid\":1,\"name\":\"a b\"}", "'name': "},
	    {"{\"version\":1,\"cmd\":\"place\"}", "'place' needs an array 'placements'"},
	    {"{\"version\":1,\"cmd\":\"place\",\"placements\":{}}", "needs an array"},
	    {"{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":1}]}",
	     "placement 0 needs a positive integer 'tid' and an integer 'cpu' >= 0"},
	    {"{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":0,\"cpu\":1}]}",
	     "placement 0 needs"},
	    {"{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":1,\"cpu\":-1}]}",
	     "placement 0 needs"},
	    {"{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":1,\"cpu\":0},"
	     "{\"tid\":2,\"cpu\":\"1\"}]}",
	     "placement 1 needs"},
	    {"{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":1,\"cpu\":0,"
	     "\"seqnum\":\"3\"}]}",
	     "placement 0: 'seqnum' must be an integer >= 0"},
	    {"{\"version\":1,\"cmd\":\"status\"}x", "bytes after its JSON object"},
	    {"{\"version\":1,\"cmd\":\"status\",}", "not valid JSON"},
	    {"{\"version\":1,\"cmd\":\"\xff\"}", "not valid JSON"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].text, cases[i].words);
}

/* A NUL inside the bytes of a request is never taken for its end. */
static void test_nul_byte(void **state)
{
	static const char text[] = "{\"version\":1,\"cmd\":\"status\"}\0garbage";
	struct vs_ctl_request req;

	assert_int_equal(ctl_request_parse(text, sizeof(text) - 1, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bytes after its JSON object"));
}

/* encode then parse gives the request back, field for field. */
static void assert_round_trip(const struct vs_ctl_request *in)
{
	struct vs_ctl_request out;
	char *line = ctl_request_encode(in);

	assert_non_null(line);
	/* One line: its only newline ends it. */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	if (ctl_request_parse(line, strlen(line), &out, err, sizeof(err)))
		fail_msg("'%s' did not parse back: %s", line, err);
	assert_int_equal(out.cmd, in->cmd);
	assert_int_equal(out.pid, in->pid);
	assert_string_equal(out.name, in->name);
	assert_int_equal(out.share.weight, in->share.weight);
	assert_int_equal(out.share.reserve_cores, in->share.reserve_cores);
	assert_int_equal(out.share.cap_cores, in->share.cap_cores);
	assert_int_equal(out.nr_placements, in->nr_placements);
	assert_int_equal(out.take_core, in->take_core);
	assert_string_equal(out.enclave, in->enclave);
	assert_int_equal(out.have_cpus, in->have_cpus);
	assert_true(cpuset_equal(&out.cpus, &in->cpus));
	assert_int_equal(out.pairing, in->pairing);
	assert_int_equal(out.slice_us, in->slice_us);
	assert_int_equal(out.force, in->force);
	assert_int_equal(out.dry_run, in->dry_run);
	assert_string_equal(out.hints, in->hints);
	assert_string_equal(out.domain, in->domain);
	for (int i = 0; i < in->nr_placements; i++) {
		assert_int_equal(out.placements[i].tid, in->placements[i].tid);
		assert_int_equal(out.placements[i].cpu, in->placements[i].cpu);
		assert_int_equal(out.placements[i].have_seqnum, in->placements[i].have_seqnum);
		if (in->placements[i].have_seqnum)
			assert_int_equal(out.placements[i].seqnum, in->placements[i].seqnum);
	}
	free(line);
}

/* Does command @c carry a pid / need an enclave name / need a CPU list? */
static bool cmd_has_pid(int c)
{
	return c == VS_CTL_CMD_ENROLL || c == VS_CTL_CMD_SET || c == VS_CTL_CMD_RELEASE ||
	       c == VS_CTL_CMD_VM_MOVE;
}

static bool cmd_needs_enclave(int c)
{
	return c == VS_CTL_CMD_VM_MOVE ||
	       (c >= VS_CTL_CMD_ENCLAVE_CREATE && c <= VS_CTL_CMD_ENCLAVE_REMOVE_CORES);
}

static bool cmd_needs_cpus(int c)
{
	return c == VS_CTL_CMD_ENCLAVE_ADD_CORES || c == VS_CTL_CMD_ENCLAVE_REMOVE_CORES;
}

/* The fields command @c cannot go without. */
static void fill_required(struct vs_ctl_request *req, int c, int pid)
{
	if (cmd_has_pid(c))
		req->pid = pid;
	if (cmd_needs_enclave(c))
		snprintf(req->enclave, sizeof(req->enclave), "fast");
	if (c == VS_CTL_CMD_NOTIFY)
		snprintf(req->domain, sizeof(req->domain), "web 1");
	if (cmd_needs_cpus(c)) {
		req->have_cpus = true;
		cpuset_add(&req->cpus, 2);
		cpuset_add(&req->cpus, 3);
	}
}

static void test_encode_enclave_round_trip(void **state)
{
	struct vs_ctl_request req;
	char *line;

	ctl_request_init(&req, VS_CTL_CMD_ENCLAVE_CREATE);
	snprintf(req.enclave, sizeof(req.enclave), "numa-1");
	req.have_cpus = true;
	cpuset_add(&req.cpus, 8);
	cpuset_add(&req.cpus, 9);
	cpuset_add(&req.cpus, 200);
	req.pairing = VS_PAIRING_RELAXED;
	req.slice_us = 2500;
	assert_round_trip(&req);
	ctl_request_init(&req, VS_CTL_CMD_ENCLAVE_DESTROY);
	snprintf(req.enclave, sizeof(req.enclave), "x");
	req.force = true;
	assert_round_trip(&req);
	ctl_request_init(&req, VS_CTL_CMD_REBALANCE);
	req.dry_run = true;
	assert_round_trip(&req);
	ctl_request_init(&req, VS_CTL_CMD_ENROLL);
	req.pid = 3;
	snprintf(req.enclave, sizeof(req.enclave), "fast");
	assert_round_trip(&req);
	ctl_request_init(&req, VS_CTL_CMD_VM_MOVE);
	req.pid = 3;
	snprintf(req.enclave, sizeof(req.enclave), "default");
	line = ctl_request_encode(&req);
	assert_string_equal(
	    line, "{\"version\":1,\"cmd\":\"vm-move\",\"pid\":3,\"enclave\":\"default\"}\n");
	free(line);
}

static void test_encode_round_trip(void **state)
{
	struct vs_ctl_request req;
	char *line;

	for (int c = 0; c < VS_CTL_NR_CMDS; c++) {
		ctl_request_init(&req, (enum vs_ctl_cmd)c);
		fill_required(&req, c, 4242);
		if (c == VS_CTL_CMD_PLACE) {
			req.nr_placements = 1;
			req.placements[0] = (struct vs_ctl_placement){.tid = 9, .cpu = 3};
		}
		assert_round_trip(&req);
	}
	ctl_request_init(&req, VS_CTL_CMD_ENROLL);
	req.pid = 1;
	snprintf(req.name, sizeof(req.name), "web-1.prod_A");
	req.share = (struct vs_share_settings){VS_MAX_WEIGHT, 0, VS_MAX_CPUS};
	assert_round_trip(&req);
	/* The exact text: the documented field names, the version first. */
	ctl_request_init(&req, VS_CTL_CMD_SET);
	req.pid = 7;
	req.share.cap_cores = 0;
	line = ctl_request_encode(&req);
	assert_string_equal(line, "{\"version\":1,\"cmd\":\"set\",\"pid\":7,\"cap\":0}\n");
	free(line);
	ctl_request_init(&req, VS_CTL_CMD_PLACE);
	req.nr_placements = 2;
	req.placements[0] = (struct vs_ctl_placement){.tid = 5, .cpu = 2, true, 17};
	req.placements[1] = (struct vs_ctl_placement){.tid = 6, .cpu = 3};
	line = ctl_request_encode(&req);
	assert_string_equal(line, "{\"version\":1,\"cmd\":\"place\",\"placements\":[{\"tid\":5,"
				  "\"cpu\":2,\"seqnum\":17},{\"tid\":6,\"cpu\":3}]}\n");
	free(line);
	req.take_core = true;
	assert_round_trip(&req);
}

/* Random valid requests of every command survive encode and parse. */
static void test_encode_round_trip_random(void **state)
{
	static const char charset[] = "ABCXYZabcxyz0189._-";
	uint64_t rng = 0x9e3779b97f4a7c15ULL;

	for (int n = 0; n < 5000; n++) {
		struct vs_ctl_request req;
		uint64_t r = xorshift64_next(&rng);

		ctl_request_init(&req, (enum vs_ctl_cmd)(r % VS_CTL_NR_CMDS));
		fill_required(&req, req.cmd, 1 + (int)(xorshift64_next(&rng) % 0x3fffffff));
		if (req.cmd == VS_CTL_CMD_ENROLL && (r >> 8) % 2) {
			int len = 1 + (int)((r >> 16) % 63);

			for (int i = 0; i < len; i++)
				req.name[i] =
				    charset[xorshift64_next(&rng) % (sizeof(charset) - 1)];
		}
		if (req.cmd == VS_CTL_CMD_ENROLL && (r >> 9) % 2)
			snprintf(req.hints, sizeof(req.hints), "/dev/shm/vm%u",
				 (unsigned)((r >> 10) % 1000));
		if (req.cmd == VS_CTL_CMD_ENROLL || req.cmd == VS_CTL_CMD_SET) {
			if ((r >> 24) % 2)
				req.share.weight = VS_MIN_WEIGHT + (int)((r >> 32) % VS_MAX_WEIGHT);
			if ((r >> 25) % 2)
				req.share.reserve_cores = (int)((r >> 40) % (VS_MAX_CPUS + 1));
			if ((r >> 26) % 2)
				req.share.cap_cores = (int)((r >> 48) % (VS_MAX_CPUS + 1));
		}
		if (req.cmd == VS_CTL_CMD_PLACE) {
			req.nr_placements = 1 + (int)((r >> 8) % VS_CTL_MAX_PLACEMENTS);
			for (int i = 0; i < req.nr_placements; i++) {
				uint64_t x = xorshift64_next(&rng);

				req.placements[i].tid = 1 + (int)(x % 0x7ffffffe);
				req.placements[i].cpu = (int)((x >> 32) % 4096);
				req.placements[i].have_seqnum = (x >> 44) % 2;
				if (req.placements[i].have_seqnum)
					req.placements[i].seqnum =
					    (uint32_t)(xorshift64_next(&rng) % 0x80000000u);
			}
		}
		assert_round_trip(&req);
	}
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
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_enroll),
	    cmocka_unit_test(test_place),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_names_checked),
	    cmocka_unit_test(test_unknown_command_escaped),
	    cmocka_unit_test(test_access),
	    cmocka_unit_test(test_malformed_fields),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_encode_round_trip),
	    cmocka_unit_test(test_encode_round_trip_random),
	    cmocka_unit_test(test_enclave_commands),
	    cmocka_unit_test(test_encode_enclave_round_trip),
	    cmocka_unit_test(test_enroll_hints),
	    cmocka_unit_test(test_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
