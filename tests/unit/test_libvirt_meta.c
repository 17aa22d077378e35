/* Unit tests: the libvirt opt-in metadata and cgroup names (vmm-sched/lib/libvirt_meta.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "libvirt_meta.h"

#define NS "xmlns:vmmsched=\"urn:vmm-sched:1\""

static char err[256];
static struct vs_lv_meta meta;
#define share meta.share

static enum vs_lv_optin parse(const char *xml)
{
	err[0] = '\0';
	return libvirt_meta_parse(xml, strlen(xml), &meta, err, sizeof(err));
}

static enum vs_lv_optin parse_domain(const char *metadata)
{
	char xml[2048];

	snprintf(xml, sizeof(xml),
		 "<domain type='kvm'><name>web</name><metadata>%s</metadata>"
		 "<vcpu>2</vcpu></domain>",
		 metadata);
	return parse(xml);
}

static void test_full_domain_xml(void **state)
{
	assert_int_equal(
	    parse_domain("<vmmsched:sched " NS
			 " weight=\"200\" reserve=\"1\" cap=\"4\" enclave=\"default\"/>"),
	    VS_LV_OPTED_IN);
	assert_int_equal(share.weight, 200);
	assert_int_equal(share.reserve_cores, 1);
	assert_int_equal(share.cap_cores, 4);
	assert_string_equal(meta.enclave, "default");
}

static void test_named_enclave(void **state)
{
	/* Any well-formed name: whether the enclave exists is the agent's to say. */
	assert_int_equal(parse_domain("<vmmsched:sched " NS " enclave='gold-1.a_b'/>"),
			 VS_LV_OPTED_IN);
	assert_string_equal(meta.enclave, "gold-1.a_b");
	assert_int_equal(parse_domain("<vmmsched:sched " NS " enclave='a b'/>"), VS_LV_INVALID);
	assert_non_null(strstr(err, "enclave='a b' is not an enclave name: the enclave name has "
				    "character 0x20 at position 2"));
	assert_int_equal(parse_domain("<vmmsched:sched " NS " enclave=''/>"), VS_LV_INVALID);
	assert_non_null(
	    strstr(err, "enclave='' is not an enclave name: an enclave name has 1..31"));
	assert_int_equal(
	    parse_domain("<vmmsched:sched " NS " enclave='abcdefghijklmnopqrstuvwxyz0123456'/>"),
	    VS_LV_INVALID);
	assert_non_null(strstr(err, "has 1..31 characters, not 33"));
}

static void test_element_alone_and_defaults(void **state)
{
	/* virDomainGetMetadata gives the element alone; a prefix of another name is fine. */
	assert_int_equal(parse("<x:sched xmlns:x='urn:vmm-sched:1'/>"), VS_LV_OPTED_IN);
	assert_int_equal(share.weight, VS_SHARE_KEEP);
	assert_int_equal(share.reserve_cores, VS_SHARE_KEEP);
	assert_int_equal(share.cap_cores, VS_SHARE_KEEP);
	assert_string_equal(meta.enclave, "");
}

static void test_no_metadata_of_ours(void **state)
{
	assert_int_equal(parse_domain(""), VS_LV_NONE);
	/* Our element's name in another namespace is not ours. */
	assert_int_equal(parse_domain("<o:sched xmlns:o='urn:other:1' weight='x'/>"), VS_LV_NONE);
	assert_int_equal(parse("<domain><name>a</name></domain>"), VS_LV_NONE);
}

static void test_unknown_attribute(void **state)
{
	assert_int_equal(parse_domain("<vmmsched:sched " NS " weight='200' wieght='3'/>"),
			 VS_LV_INVALID);
	assert_non_null(strstr(err, "unknown attribute 'wieght'"));
}

static void test_out_of_range(void **state)
{
	assert_int_equal(parse_domain("<vmmsched:sched " NS " weight='0'/>"), VS_LV_INVALID);
	assert_non_null(strstr(err, "weight=0 is out of range: it must be 1..10000"));
	assert_int_equal(parse_domain("<vmmsched:sched " NS " weight='10001'/>"), VS_LV_INVALID);
	assert_non_null(strstr(err, "weight=10001 is out of range"));
	assert_int_equal(parse_domain("<vmmsched:sched " NS " reserve='-1'/>"), VS_LV_INVALID);
	assert_non_null(strstr(err, "reserve=-1 is out of range"));
	assert_int_equal(parse_domain("<vmmsched:sched " NS " reserve='3' cap='2'/>"),
			 VS_LV_INVALID);
	assert_non_null(strstr(err, "reserve=3 is above cap=2"));
}

static void test_malformed_number(void **state)
{
	static const char *const bad[] = {
	    "12x", "", " 5", "+5", "0x10", "1e3", "99999999999999999999"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char md[256];

		snprintf(md, sizeof(md), "<vmmsched:sched " NS " weight='%s'/>", bad[i]);
		assert_int_equal(parse_domain(md), VS_LV_INVALID);
		assert_non_null(strstr(err, "is not a decimal number"));
	}
}

static void test_second_element(void **state)
{
	assert_int_equal(parse_domain("<vmmsched:sched " NS " weight='200'/>"
				      "<v2:sched xmlns:v2='urn:vmm-sched:1' weight='300'/>"),
			 VS_LV_INVALID);
	assert_non_null(strstr(err, "2 elements of namespace urn:vmm-sched:1: at most one"));
}

static void test_other_bad_input(void **state)
{
	assert_int_equal(parse_domain("<vmmsched:schedule " NS "/>"), VS_LV_INVALID);
	assert_non_null(strstr(err, "unknown element <schedule>"));
	assert_int_equal(parse("<domain><metadata>"), VS_LV_INVALID);
	assert_non_null(strstr(err, "not well-formed"));
}

static void test_should_enrol(void **state)
{
	assert_true(libvirt_should_enrol(VS_LV_OPTED_IN, "web", NULL));
	assert_false(libvirt_should_enrol(VS_LV_NONE, "web", NULL));
	assert_true(libvirt_should_enrol(VS_LV_NONE, "web-1", "web-*"));
	assert_false(libvirt_should_enrol(VS_LV_NONE, "db-1", "web-*"));
	assert_true(libvirt_should_enrol(VS_LV_NONE, "anything", "*"));
	/* Invalid metadata keeps a domain out even where the rule would take it. */
	assert_false(libvirt_should_enrol(VS_LV_INVALID, "web-1", "*"));
}

static void test_cgroup_dir_kind(void **state)
{
	assert_int_equal(libvirt_cgroup_dir_kind("qemu-3-web.libvirt-qemu", 3), 1);
	assert_int_equal(libvirt_cgroup_dir_kind("qemu-13-web.libvirt-qemu", 3), 0);
	assert_int_equal(libvirt_cgroup_dir_kind("qemu-3-web.libvirt-qemu", 13), 0);
	assert_int_equal(libvirt_cgroup_dir_kind("qemu-3-.libvirt-qemu", 3), 0);
	assert_int_equal(libvirt_cgroup_dir_kind("qemu-3-web", 3), 0);
	assert_int_equal(libvirt_cgroup_dir_kind("machine-qemu\\x2d3\\x2dweb.scope", 3), 2);
	assert_int_equal(libvirt_cgroup_dir_kind("machine-qemu\\x2d31\\x2dweb.scope", 3), 0);
	assert_int_equal(libvirt_cgroup_dir_kind("system.slice", 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_domain_xml),
	    cmocka_unit_test(test_named_enclave),
	    cmocka_unit_test(test_element_alone_and_defaults),
	    cmocka_unit_test(test_no_metadata_of_ours),
	    cmocka_unit_test(test_unknown_attribute),
	    cmocka_unit_test(test_out_of_range),
	    cmocka_unit_test(test_malformed_number),
	    cmocka_unit_test(test_second_element),
	    cmocka_unit_test(test_other_bad_input),
	    cmocka_unit_test(test_should_enrol),
	    cmocka_unit_test(test_cgroup_dir_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
