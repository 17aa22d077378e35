/* Unit tests: VM names and escaping (vmm-sched/lib/vm_name.c, text_escape.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "registry.h"
#include "text_escape.h"
#include "vm_name.h"

static int check(const char *name)
{
	char err[256];

	return vm_name_check(name, strlen(name), err, sizeof(err));
}

static void test_good_names(void **state)
{
	assert_int_equal(check("web"), 0);
	assert_int_equal(check("db-1.prod_eu"), 0);
	assert_int_equal(check("0"), 0);
	assert_int_equal(check("6f1c2a7e-9b0d-4e55-8d0b-2b7f0c0e9d11"), 0); /* a libvirt UUID */
	assert_int_equal(check("qemu-system-x86-1234"), 0);
}

static void test_length(void **state)
{
	char name[VS_VM_NAME_LEN + 2], err[256];

	memset(name, 'x', sizeof(name));
	name[VS_VM_NAME_MAX] = '\0';
	assert_int_equal(check(name), 0);
	name[VS_VM_NAME_MAX] = 'x';
	name[VS_VM_NAME_MAX + 1] = '\0';
	assert_int_equal(vm_name_check(name, strlen(name), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has 64 characters: at most 63"));
	assert_int_equal(vm_name_check("", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
}

static void test_bad_characters_named_not_echoed(void **state)
{
	static const char *const bad[] = {
	    "a\nb", "\x1b[31mred", "a b",  "a/b",  "a:b",
	    "a'b",  "a\"b",	   "a\\b", "\x7f", "\xc3\xa9t\xc3\xa9",
	};
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vm_name_check(bad[i], strlen(bad[i]), err, sizeof(err)), -1);
		for (const char *p = err; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
	}
	vm_name_check("a\nb", 3, err, sizeof(err));
	assert_non_null(strstr(err, "character 0x0a at position 2"));
	/* A NUL inside the name (JSON "\u0000") is refused, not cut short. */
	assert_int_equal(vm_name_check("ok\0evil", 7, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "character 0x00 at position 3"));
}

static void test_sanitize(void **state)
{
	char out[VS_VM_NAME_LEN], small[4];

	vm_name_sanitize("ev\x1b[1m\nil-42", out, sizeof(out));
	assert_string_equal(out, "ev__1m_il-42");
	vm_name_sanitize("CPU 0/KVM", out, sizeof(out));
	assert_string_equal(out, "CPU_0_KVM");
	vm_name_sanitize("abcdef", small, sizeof(small));
	assert_string_equal(small, "abc");
}

/* The registry never holds a name outside the set, whatever it is given. */
static void test_registry_cleans_names(void **state)
{
	static struct vs_registry reg;
	char err[128];
	int id;

	assert_int_equal(registry_init(&reg, 8, 8), 0);
	id = registry_add_vm(&reg, 42, "evil\n\x1b[2Jname", err, sizeof(err));
	assert_true(id >= 0);
	assert_string_equal(reg.vms[id].name, "evil___2Jname");
	id = registry_adopt_vm(&reg, 5, 43, "rec\rord", err, sizeof(err));
	assert_int_equal(id, 5);
	assert_string_equal(reg.vms[5].name, "rec_ord");
	registry_free(&reg);
}

static void test_escape_control_chars(void **state)
{
	char out[64], tiny[6];

	escape_control_chars("VM 'a\nvmm-schedd: forged'", out, sizeof(out));
	assert_string_equal(out, "VM 'a\\x0avmm-schedd: forged'");
	escape_control_chars("\x1b[31m\x7f", out, sizeof(out));
	assert_string_equal(out, "\\x1b[31m\\x7f");
	escape_control_chars("plain text", out, sizeof(out));
	assert_string_equal(out, "plain text");
	/* Cut short, never in the middle of an escape. */
	escape_control_chars("a\n\n", tiny, sizeof(tiny));
	assert_string_equal(tiny, "a\\x0a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_names),
	    cmocka_unit_test(test_length),
	    cmocka_unit_test(test_bad_characters_named_not_echoed),
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_registry_cleans_names),
	    cmocka_unit_test(test_escape_control_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
