/* kfunc_btf.c: the facts about one kfunc in a kernel's BTF (see lib/kfunc_check.h). */
#ifndef VS_KFUNC_BTF_H
#define VS_KFUNC_BTF_H

#include <bpf/btf.h>

#include "kfunc_check.h"

void kfunc_btf_facts(const struct btf *btf, const char *name, struct vs_kfunc_facts *f);

#endif
