/* The KVM files a process holds, from /proc/PID/fd (see kvm_evidence.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kvm_evidence.h"
#include "kvm_fds.h"

int kvm_evidence_of_process(int pid, struct vs_kvm_evidence *ev)
{
	char path[64], link[128];
	struct dirent *de;
	DIR *dir;

	*ev = (struct vs_kvm_evidence){0};
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		ssize_t n;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		n = readlinkat(dirfd(dir), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue; /* closed meanwhile */
		link[n] = '\0';
		kvm_evidence_add(ev, link);
	}
	closedir(dir);
	return 0;
}
