/*
 * Unit tests: the kfunc BTF check. BTF blobs are built in memory with libbpf's
 * writer, read back as a kernel's would be, walked (daemon/kfunc_btf.c) and
 * judged (lib/kfunc_check.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kfunc_btf.h"

#define KERNEL "7.2.6+deb13-amd64 (#1 SMP PREEMPT_DYNAMIC Debian 7.2.6-1~bpo13+1)"

struct ids {
	int s32, u64, aux_ptr;
};

static struct ids add_base_types(struct btf *btf)
{
	struct ids ids;
	int aux, cnst, s32;

	s32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	ids.s32 = btf__add_typedef(btf, "s32", s32);
	ids.u64 = btf__add_int(btf, "unsigned long long", 8, 0);
	aux = btf__add_struct(btf, "bpf_prog_aux", 8);
	cnst = btf__add_const(btf, aux);
	ids.aux_ptr = btf__add_ptr(btf, cnst);
	assert_true(ids.s32 > 0 && ids.u64 > 0 && ids.aux_ptr > 0);
	return ids;
}

/* void NAME(s32 cpu, u64 flags[, const struct bpf_prog_aux *aux]), tagged bpf_kfunc if @tag. */
static int add_kick_like(struct btf *btf, const struct ids *ids, const char *name, bool with_aux,
			 bool tag)
{
	int proto = btf__add_func_proto(btf, 0), func;

	assert_true(proto > 0);
	assert_int_equal(btf__add_func_param(btf, "cpu", ids->s32), 0);
	assert_int_equal(btf__add_func_param(btf, "flags", ids->u64), 0);
	if (with_aux)
		assert_int_equal(btf__add_func_param(btf, "aux", ids->aux_ptr), 0);
	func = btf__add_func(btf, name, BTF_FUNC_STATIC, proto);
	assert_true(func > 0);
	if (tag)
		assert_true(btf__add_decl_tag(btf, "bpf_kfunc", func, -1) > 0);
	return func;
}

/* The blob as raw bytes, parsed back the way a kernel's BTF is read. */
static struct btf *round_trip(struct btf *w)
{
	__u32 size;
	const void *raw = btf__raw_data(w, &size);
	struct btf *btf;

	assert_non_null(raw);
	btf = btf__new(raw, size);
	assert_non_null(btf);
	btf__free(w);
	return btf;
}

static const struct vs_kfunc_need *need_of(const char *name)
{
	for (size_t i = 0; i < vs_nr_kfunc_needs; i++)
		if (strcmp(vs_kfunc_needs[i].name, name) == 0)
			return &vs_kfunc_needs[i];
	fail_msg("%s is not in the kfunc table", name);
	return NULL;
}

static void judge(struct btf *btf, const char *name, unsigned kver, struct vs_kfunc_verdict *v)
{
	const struct vs_kfunc_need *need = need_of(name);
	struct vs_kfunc_facts f, alt_f = {0};

	kfunc_btf_facts(btf, name, &f);
	if (need->alt)
		kfunc_btf_facts(btf, need->alt, &alt_f);
	vs_kfunc_judge(need, &f, &alt_f, kver, KERNEL, v);
}

static void assert_contains(const char *s, const char *part)
{
	if (!strstr(s, part))
		fail_msg("'%s' does not contain '%s'", s, part);
}

/* As a sound 7.x build emits it: public prototype without aux, a tag, an _impl twin. */
static void test_sound_implicit_kfunc(void **state)
{
	struct btf *w = btf__new_empty();
	struct ids ids = add_base_types(w);
	struct vs_kfunc_verdict v;
	struct vs_kfunc_facts f;
	struct btf *btf;

	add_kick_like(w, &ids, "scx_bpf_kick_cpu", false, true);
	add_kick_like(w, &ids, "scx_bpf_kick_cpu_impl", true, false);
	btf = round_trip(w);
	kfunc_btf_facts(btf, "scx_bpf_kick_cpu", &f);
	assert_true(f.present);
	assert_false(f.hidden_arg);
	assert_true(f.has_impl);
	judge(btf, "scx_bpf_kick_cpu", VS_KVER(7, 3), &v);
	assert_int_equal(v.state, VS_KFUNC_OK);
	assert_true(v.usable);
	assert_false(v.fatal);
	assert_string_equal(v.msg, "");
	btf__free(btf);
}

/* As Debian's 7.2 builds emit it: untagged, unsplit, the hidden argument in public. */
static void test_hidden_arg_left_in_public_prototype(void **state)
{
	struct btf *w = btf__new_empty();
	struct ids ids = add_base_types(w);
	struct vs_kfunc_verdict v;
	struct vs_kfunc_facts f;
	struct btf *btf;

	add_kick_like(w, &ids, "scx_bpf_kick_cpu", true, false);
	btf = round_trip(w);
	kfunc_btf_facts(btf, "scx_bpf_kick_cpu", &f);
	assert_true(f.present);
	assert_true(f.hidden_arg);
	assert_false(f.has_impl);
	judge(btf, "scx_bpf_kick_cpu", VS_KVER(7, 2), &v);
	assert_int_equal(v.state, VS_KFUNC_HIDDEN_ARG);
	/* Declared weak: libbpf resolves it as absent and the scheduler waits for ticks. */
	assert_false(v.usable);
	assert_false(v.fatal);
	assert_string_equal(v.msg, "scx_bpf_kick_cpu is malformed in the kernel's BTF: its public "
				   "prototype still carries the hidden 'struct bpf_prog_aux *' "
				   "argument and it has no _impl twin: no kicks: a sibling that "
				   "must leave a core does so at its next tick, not at once");
	btf__free(btf);
}

/* A kfunc vmm_sched cannot do without, malformed as on Debian's 7.2.6: refuse. */
static void test_required_kfunc_malformed_refuses(void **state)
{
	struct btf *w = btf__new_empty();
	struct ids ids = add_base_types(w);
	struct vs_kfunc_verdict v;
	struct btf *btf;
	int proto;

	proto = btf__add_func_proto(w, ids.s32);
	btf__add_func_param(w, "dsq_id", ids.u64);
	btf__add_func_param(w, "aux", ids.aux_ptr);
	btf__add_func(w, "scx_bpf_dsq_nr_queued", BTF_FUNC_STATIC, proto);
	btf = round_trip(w);
	judge(btf, "scx_bpf_dsq_nr_queued", VS_KVER(7, 2), &v);
	assert_int_equal(v.state, VS_KFUNC_HIDDEN_ARG);
	assert_true(v.fatal);
	assert_string_equal(v.msg, "kernel " KERNEL " cannot run vmm_sched: scx_bpf_dsq_nr_queued "
				   "is malformed in the kernel's BTF: its public prototype still "
				   "carries the hidden 'struct bpf_prog_aux *' argument and it has "
				   "no _impl twin, and vmm_sched cannot do without it; boot "
				   "another kernel build (e.g. the newest of Debian's "
				   "trixie-backports)");
	assert_null(strchr(v.msg, '\n'));
	btf__free(btf);
}

/* Public prototype clean but no _impl twin: the verifier refuses any call. */
static void test_missing_impl_twin(void **state)
{
	struct btf *w = btf__new_empty();
	struct ids ids = add_base_types(w);
	struct vs_kfunc_verdict v;
	struct btf *btf;

	add_kick_like(w, &ids, "scx_bpf_kick_cpu", false, true);
	btf = round_trip(w);
	judge(btf, "scx_bpf_kick_cpu", VS_KVER(7, 3), &v);
	assert_int_equal(v.state, VS_KFUNC_NO_IMPL);
	assert_true(v.fatal); /* it links, so weak is no help */
	assert_contains(v.msg, "kernel " KERNEL " cannot run vmm_sched: scx_bpf_kick_cpu is "
			       "malformed in the kernel's BTF: an implicit-argument kfunc without "
			       "the scx_bpf_kick_cpu_impl twin the verifier needs");
	assert_contains(v.msg, "boot another kernel build");
	/* Before 7.0 it took no hidden argument: a plain kfunc, sound. */
	judge(btf, "scx_bpf_kick_cpu", VS_KVER(6, 19), &v);
	assert_int_equal(v.state, VS_KFUNC_OK);
	assert_false(v.fatal);
	btf__free(btf);
}

static void test_missing_kfuncs(void **state)
{
	struct btf *w = btf__new_empty();
	struct ids ids = add_base_types(w);
	struct vs_kfunc_verdict v;
	struct btf *btf;

	add_kick_like(w, &ids, "scx_bpf_something_else", false, true);
	btf = round_trip(w);
	judge(btf, "scx_bpf_kick_cpu", VS_KVER(7, 3), &v);
	assert_int_equal(v.state, VS_KFUNC_ABSENT);
	assert_false(v.fatal);
	assert_string_equal(v.msg, "scx_bpf_kick_cpu is not in the kernel's BTF: no kicks: a "
				   "sibling that must leave a core does so at its next tick, not "
				   "at once");
	judge(btf, "scx_bpf_create_dsq", VS_KVER(7, 3), &v);
	assert_int_equal(v.state, VS_KFUNC_ABSENT);
	assert_true(v.fatal);
	assert_contains(v.msg, "cannot run vmm_sched: scx_bpf_create_dsq is not in the kernel's "
			       "BTF, and vmm_sched cannot do without it");
	btf__free(btf);
}

/* A renamed kfunc: the old name serves (6.12's scx_bpf_dispatch). */
static void test_older_name_serves(void **state)
{
	struct btf *w = btf__new_empty();
	struct ids ids = add_base_types(w);
	struct vs_kfunc_verdict v;
	struct btf *btf;

	add_kick_like(w, &ids, "scx_bpf_dispatch", false, true);
	btf = round_trip(w);
	judge(btf, "scx_bpf_dsq_insert", VS_KVER(6, 12), &v);
	assert_int_equal(v.state, VS_KFUNC_ABSENT);
	assert_true(v.usable);
	assert_false(v.fatal);
	assert_string_equal(v.msg, "scx_bpf_dsq_insert is not in the kernel's BTF: vmm_sched uses "
				   "scx_bpf_dispatch instead");
	btf__free(btf);
}

static void test_kernel_release_versions(void **state)
{
	assert_int_equal(vs_kver_of_release("7.3.4+deb13-amd64"), VS_KVER(7, 3));
	assert_int_equal(vs_kver_of_release("6.12.117+deb13-amd64"), VS_KVER(6, 12));
	assert_int_equal(vs_kver_of_release("7.3-amd64"), VS_KVER(7, 3));
	assert_int_equal(vs_kver_of_release("linux"), 0);
	assert_int_equal(vs_kver_of_release("7"), 0);
}

/*
 * The table and bpf/scx_kfuncs.bpf.h agree: every kfunc declared there is in
 * the table (or an older name in it), and every one with a fallback (optional,
 * or an older name to fall back on) is declared __weak, so that a kernel
 * without it still loads the scheduler.
 */
static void test_table_matches_bpf_declarations(void **state)
{
	FILE *h = fopen("bpf/scx_kfuncs.bpf.h", "r");
	char line[512], decl[4096] = "";
	int declared = 0;

	assert_non_null(h); /* run from the top of the tree, as 'make unit-test' does */
	while (fgets(line, sizeof(line), h)) {
		char *ksym, *paren, *name;
		const struct vs_kfunc_need *need = NULL;
		bool weak, as_alt = false;

		if (decl[0] || (strchr(line, '(') && !strchr(line, '#') && line[0] != ' ' &&
				line[0] != '\t' && line[0] != '/' && line[0] != '*'))
			strncat(decl, line, sizeof(decl) - strlen(decl) - 1);
		if (!decl[0] || !strchr(line, ';'))
			continue;
		ksym = strstr(decl, "__ksym");
		if (!ksym) {
			decl[0] = '\0';
			continue;
		}
		weak = strstr(decl, "__weak") != NULL;
		paren = strchr(decl, '(');
		*paren = '\0';
		name = strrchr(decl, ' ');
		name = name ? name + 1 : decl;
		while (*name == '*')
			name++;
		for (size_t i = 0; i < vs_nr_kfunc_needs && !need; i++) {
			if (strcmp(vs_kfunc_needs[i].name, name) == 0)
				need = &vs_kfunc_needs[i];
			else if (vs_kfunc_needs[i].alt && strcmp(vs_kfunc_needs[i].alt, name) == 0)
				need = &vs_kfunc_needs[i], as_alt = true;
		}
		if (!need)
			fail_msg(
			    "%s is declared in bpf/scx_kfuncs.bpf.h but not in the kfunc table",
			    name);
		if ((!need->required || need->alt || as_alt) && !weak)
			fail_msg("%s has a fallback but is declared strong: a kernel without it "
				 "would not load the scheduler at all",
				 name);
		if (!need->required && !need->cost)
			fail_msg("%s is optional but its table entry says no cost", name);
		declared++;
		decl[0] = '\0';
	}
	fclose(h);
	/* Each table entry is one declaration, each older name another. */
	int expected = 0;
	for (size_t i = 0; i < vs_nr_kfunc_needs; i++)
		expected += vs_kfunc_needs[i].alt ? 2 : 1;
	assert_int_equal(declared, expected);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sound_implicit_kfunc),
	    cmocka_unit_test(test_hidden_arg_left_in_public_prototype),
	    cmocka_unit_test(test_required_kfunc_malformed_refuses),
	    cmocka_unit_test(test_missing_impl_twin),
	    cmocka_unit_test(test_missing_kfuncs),
	    cmocka_unit_test(test_older_name_serves),
	    cmocka_unit_test(test_kernel_release_versions),
	    cmocka_unit_test(test_table_matches_bpf_declarations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
