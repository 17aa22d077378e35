/* Are the kfuncs the scheduler declares sound in the kernel's BTF? */
#ifndef VS_HOST_CHECK_KFUNCS_H
#define VS_HOST_CHECK_KFUNCS_H

#include <stddef.h>

/*
 * Checks the kernel's BTF (@btf_path, or the running kernel's if NULL). Logs
 * what each unsound kfunc costs; fails with one line if one the scheduler
 * needs is unsound.
 */
int host_check_kfuncs(const char *btf_path, char *err, size_t errlen);

#endif
