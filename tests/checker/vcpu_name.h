/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pair-checker: recognises vCPU thread names. Header-only so the loader (which
 * scans /proc) and the BPF program (which classifies a thread that the loader
 * has not picked up yet) use the same rules. Written for the BPF verifier: all
 * buffer reads are at constant offsets once the loop is unrolled.
 *
 * Recognised (comm is at most 15 characters plus NUL):
 *   qemu          "CPU <n>/KVM", "CPU <n>/TCG"
 *   cloud-h., etc "vcpu<n>"
 *   firecracker   "fc_vcpu <n>"
 *   crosvm        "crosvm_vcpu<n>"
 */
#ifndef PAIR_CHECKER_VCPU_NAME_H
#define PAIR_CHECKER_VCPU_NAME_H

#ifdef __bpf__
#define PCN_UNROLL _Pragma("unroll")
#define PCN_INLINE static __always_inline
#else
#define PCN_UNROLL
#define PCN_INLINE static inline __attribute__((always_inline))
#endif

#define PCN_COMM_LEN 16

/* comm is PREFIX, one or more decimal digits, SUFFIX (at most 4 chars), NUL. */
PCN_INLINE int pcn_match(const char *comm, const char *pre, int plen, const char *suf, int slen)
{
	unsigned int want = 0, got = 0;
	int ndig = 0, nsuf = 0, j;

	for (j = 0; j < slen; j++)
		want |= (unsigned int)(unsigned char)suf[j] << (8 * j);
	PCN_UNROLL
	for (int i = 0; i < PCN_COMM_LEN; i++) {
		unsigned char ch = comm[i];

		if (i < plen) {
			if (ch != (unsigned char)pre[i])
				return 0;
		} else if (ch == '\0') {
			return ndig > 0 && nsuf == slen && got == want;
		} else if (nsuf == 0 && ch >= '0' && ch <= '9') {
			ndig++;
		} else {
			if (ndig == 0 || nsuf >= slen)
				return 0;
			got |= (unsigned int)ch << (8 * nsuf);
			nsuf++;
		}
	}
	return 0; /* no NUL within 16 bytes: not a kernel comm */
}

/* 1 if the 16-byte, NUL-padded thread name looks like a vCPU thread. */
PCN_INLINE int pcn_is_vcpu_comm(const char *comm)
{
	return pcn_match(comm, "CPU ", 4, "/KVM", 4) || pcn_match(comm, "CPU ", 4, "/TCG", 4) ||
	       pcn_match(comm, "vcpu", 4, "", 0) || pcn_match(comm, "fc_vcpu ", 8, "", 0) ||
	       pcn_match(comm, "crosvm_vcpu", 11, "", 0);
}

#endif
