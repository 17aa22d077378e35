/* Adoption: the VMs a previous agent enrolled, taken over from its pinned records. */
#ifndef VS_VM_ADOPT_H
#define VS_VM_ADOPT_H

struct vs_daemon;

/* Rebuilds the registry from the pinned records of a previous agent. */
void vm_adopt_recorded(struct vs_daemon *d);

#endif
