/*
 * Unit tests: the control protocol's replies (vmm-sched/lib/ctl_reply.c):
 * envelopes and place results survive encode and decode, and every broken
 * reply a client could meet gets a message saying what is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "ctl_reply.h"
#include "json_fields.h"
#include "vmm_sched_ctl.h"

static char err[600];

static enum vs_ctl_reply_kind parse(const char *text, struct json_object **out)
{
	err[0] = '\0';
	return ctl_reply_parse(text, strlen(text), out, err, sizeof(err));
}

static void expect_broken(const char *text, const char *words)
{
	struct json_object *out = NULL;

	if (parse(text, &out) != VS_CTL_REPLY_BROKEN)
		fail_msg("'%s' was not taken for broken", text);
	assert_null(out);
	if (!strstr(err, words))
		fail_msg("'%s' -> '%s', expected '%s'", text, err, words);
}

/* Encodes @reply (and puts it), decodes the line: the kind it decodes to. */
static enum vs_ctl_reply_kind round_trip(struct json_object *reply, struct json_object **out)
{
	size_t len;
	char *line = ctl_reply_encode(reply, &len);
	enum vs_ctl_reply_kind kind;

	assert_non_null(line);
	assert_int_equal(line[len - 1], '\n');
	assert_ptr_equal(memchr(line, '\n', len), line + len - 1);
	json_object_put(reply);
	kind = ctl_reply_parse(line, len, out, err, sizeof(err));
	free(line);
	return kind;
}

static void test_ok_round_trip(void **state)
{
	struct json_object *reply = ctl_reply_ok(), *out;

	json_object_object_add(reply, "vm_id", json_object_new_int(3));
	assert_int_equal(round_trip(reply, &out), VS_CTL_REPLY_OK);
	assert_int_equal(jf_i64(out, "version"), VS_CTL_VERSION);
	assert_true(jf_bool(out, "ok"));
	{
		int64_t id;

		assert_int_equal(ctl_reply_get_int(out, "vm_id", &id), 0);
		assert_int_equal(id, 3);
		assert_int_equal(ctl_reply_get_int(out, "nope", &id), -1);
	}
	json_object_put(out);
}

static void test_error_round_trip(void **state)
{
	struct json_object *out = (struct json_object *)1;

	assert_int_equal(round_trip(ctl_reply_error("no enrolled VM has pid %d", 42), &out),
			 VS_CTL_REPLY_REFUSED);
	assert_null(out);
	assert_string_equal(err, "no enrolled VM has pid 42");
	/* An agent's text never puts raw control bytes on the operator's terminal. */
	assert_int_equal(round_trip(ctl_reply_error("a\nb\x1b[31m"), &out), VS_CTL_REPLY_REFUSED);
	assert_string_equal(err, "a\\x0ab\\x1b[31m");
	assert_int_equal(parse("{\"version\":1,\"ok\":false}", &out), VS_CTL_REPLY_REFUSED);
	assert_non_null(strstr(err, "refused the request without saying why"));
	/* Found by the fuzzer: an empty reason left the operator an empty message. */
	assert_int_equal(parse("{\"version\":1,\"ok\":false,\"error\":\"\"}", &out),
			 VS_CTL_REPLY_REFUSED);
	assert_non_null(strstr(err, "refused the request without saying why"));
}

static void test_placed_round_trip(void **state)
{
	struct vs_ctl_placed in[2] = {{5, 2, 17, "complete"}, {6, 3, 4294967295u, "group_failed"}},
			     got[2];
	struct json_object *reply = ctl_reply_ok(), *out;

	ctl_reply_add_placed(reply, in, 2);
	assert_int_equal(round_trip(reply, &out), VS_CTL_REPLY_OK);
	assert_int_equal(ctl_reply_get_placed(out, got, 2, err, sizeof(err)), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(got[i].tid, in[i].tid);
		assert_int_equal(got[i].cpu, in[i].cpu);
		assert_int_equal(got[i].seqnum, in[i].seqnum);
		assert_string_equal(got[i].outcome, in[i].outcome);
	}
	assert_int_equal(ctl_reply_get_placed(out, got, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has 2 placements, not 1..1"));
	json_object_put(out);
}

static void expect_bad_placed(const char *text, const char *words)
{
	struct vs_ctl_placed got[2];
	struct json_object *out;

	assert_int_equal(parse(text, &out), VS_CTL_REPLY_OK);
	assert_int_equal(ctl_reply_get_placed(out, got, 2, err, sizeof(err)), -1);
	if (!strstr(err, words))
		fail_msg("'%s' -> '%s', expected '%s'", text, err, words);
	json_object_put(out);
}

static void test_placed_malformed(void **state)
{
	expect_bad_placed("{\"version\":1,\"ok\":true}", "no array 'placements'");
	expect_bad_placed("{\"version\":1,\"ok\":true,\"placements\":[]}", "has 0 placements");
	expect_bad_placed("{\"version\":1,\"ok\":true,\"placements\":[{\"tid\":1,\"cpu\":0,"
			  "\"seqnum\":1}]}",
			  "placement 0 of the reply needs");
	expect_bad_placed("{\"version\":1,\"ok\":true,\"placements\":[{\"tid\":1,\"cpu\":0,"
			  "\"seqnum\":-1,\"outcome\":\"complete\"}]}",
			  "placement 0 of the reply needs");
	expect_bad_placed("{\"version\":1,\"ok\":true,\"placements\":[{\"tid\":1,\"cpu\":0,"
			  "\"seqnum\":1,\"outcome\":\"maybe\"}]}",
			  "unknown outcome");
}

static void test_broken(void **state)
{
	char big[64];

	expect_broken("", "not valid JSON (it ends early, 0 bytes)");
	expect_broken("{\"version\":1,\"ok\":tr", "it ends early");
	expect_broken("<html>", "not valid JSON");
	expect_broken("[1]", "not a JSON object");
	expect_broken("{\"ok\":true}", "no integer 'version': is that socket a vmm-schedd's?");
	expect_broken("{\"version\":\"1\",\"ok\":true}", "no integer 'version'");
	expect_broken("{\"version\":1}", "no boolean 'ok'");
	expect_broken("{\"version\":1,\"ok\":1}", "no boolean 'ok'");
	/* Another release: both versions named, and nothing else looked at. */
	snprintf(big, sizeof(big), "{\"version\":%d,\"ok\":false,\"error\":\"x\"}",
		 VS_CTL_VERSION + 1);
	expect_broken(big, "vmm-schedd speaks control protocol version 2, this client speaks "
			   "version 1: use vmm-schedctl and vmm-schedd of one release");
	expect_broken("{\"version\":0}", "speaks control protocol version 0");
}

static void test_too_long(void **state)
{
	struct json_object *out;

	assert_int_equal(
	    ctl_reply_parse("{}", (size_t)VS_CTL_MAX_REPLY + 1, &out, err, sizeof(err)),
	    VS_CTL_REPLY_BROKEN);
	assert_non_null(strstr(err, "longer than"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_round_trip),
	    cmocka_unit_test(test_error_round_trip),
	    cmocka_unit_test(test_placed_round_trip),
	    cmocka_unit_test(test_placed_malformed),
	    cmocka_unit_test(test_broken),
	    cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
