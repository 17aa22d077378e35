/*
 * The share computation as it was before it became O(n log n): a breakpoint
 * search that checks the whole sum at each of 2n breakpoints and a
 * largest-remainder loop that scans every VM for each leftover milli-core.
 * Kept only as the reference the unit test and the benchmark hold
 * share_compute_n() to: same inputs, same shares, bit for bit.
 */
#ifndef VS_SHARE_QUADRATIC_H
#define VS_SHARE_QUADRATIC_H

#include "share.h"

/*
 * share_compute_n() without input checks (give it valid input, as
 * share_check_vm() defines it) and with its own memory; aborts if out of it.
 */
void share_compute_quadratic(const struct share_vm_in *in, struct share_vm_out *out, int nr_vms,
			     unsigned int nr_cores, struct share_result *res);

#endif
