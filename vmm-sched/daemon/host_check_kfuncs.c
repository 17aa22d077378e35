#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "daemon.h"
#include "host_check_kfuncs.h"
#include "kfunc_btf.h"
#include "log.h"

int host_check_kfuncs(const char *btf_path, char *err, size_t errlen)
{
	struct btf *btf = btf_path ? btf__parse(btf_path, NULL) : btf__load_vmlinux_btf();
	struct vs_kfunc_facts f, alt_f = {0};
	struct vs_kfunc_verdict v;
	char kernel[sizeof(((struct utsname *)0)->release) + 80];
	struct utsname u;
	unsigned kver;
	int bad = 0;

	if (!btf) {
		snprintf(err, errlen, "cannot read the kernel's BTF (%s): %s",
			 btf_path ? btf_path : "/sys/kernel/btf/vmlinux", strerror(errno));
		return -1;
	}
	uname(&u);
	kver = vs_kver_of_release(u.release);
	snprintf(kernel, sizeof(kernel), "%s (%.70s)", u.release, u.version);
	for (size_t i = 0; i < vs_nr_kfunc_needs; i++) {
		const struct vs_kfunc_need *need = &vs_kfunc_needs[i];

		kfunc_btf_facts(btf, need->name, &f);
		if (need->alt)
			kfunc_btf_facts(btf, need->alt, &alt_f);
		vs_kfunc_judge(need, &f, &alt_f, kver, kernel, &v);
		if (v.fatal) {
			snprintf(err, errlen, "%s", v.msg);
			btf__free(btf);
			return -1;
		}
		if (v.msg[0]) {
			vs_log("kfunc check: %s", v.msg);
			bad++;
		}
	}
	btf__free(btf);
	vs_log("kfunc check: %zu of the %zu kfuncs vmm_sched declares are sound in the BTF of "
	       "kernel %s",
	       vs_nr_kfunc_needs - (size_t)bad, vs_nr_kfunc_needs, u.release);
	return 0;
}
