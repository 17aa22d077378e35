#include <stdio.h>
#include <string.h>

#include "kfunc_btf.h"

/* The type @id names once typedefs and const/volatile/restrict are peeled off. */
static const struct btf_type *peel(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* A pointer to struct bpf_prog_aux: the hidden argument of implicit-argument kfuncs. */
static bool is_prog_aux_ptr(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = peel(btf, id);
	const char *name;

	if (!t || !btf_is_ptr(t))
		return false;
	t = peel(btf, t->type);
	if (!t || !(btf_is_struct(t) || btf_is_fwd(t)))
		return false;
	name = btf__name_by_offset(btf, t->name_off);
	return name && strcmp(name, "bpf_prog_aux") == 0;
}

void kfunc_btf_facts(const struct btf *btf, const char *name, struct vs_kfunc_facts *f)
{
	char impl[128];
	__s32 id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	const struct btf_type *proto;

	memset(f, 0, sizeof(*f));
	snprintf(impl, sizeof(impl), "%s_impl", name);
	f->has_impl = btf__find_by_name_kind(btf, impl, BTF_KIND_FUNC) > 0;
	if (id <= 0)
		return;
	f->present = true;
	proto = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!proto || !btf_is_func_proto(proto))
		return;
	for (__u16 i = 0; i < btf_vlen(proto); i++)
		if (is_prog_aux_ptr(btf, btf_params(proto)[i].type))
			f->hidden_arg = true;
}
