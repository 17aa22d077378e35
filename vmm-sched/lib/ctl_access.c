#include "ctl_access.h"

#include <stdio.h>

bool ctl_cmd_changes_state(enum vs_ctl_cmd cmd)
{
	return cmd != VS_CTL_CMD_STATUS && cmd != VS_CTL_CMD_ENCLAVE_LIST;
}

bool ctl_peer_may_change(const struct vs_ctl_peer *peer)
{
	return peer->uid == 0 || peer->in_control_group;
}

int ctl_access_check(const struct vs_ctl_peer *peer, enum vs_ctl_cmd cmd, const char *control_group,
		     char *err, size_t errlen)
{
	if (!ctl_cmd_changes_state(cmd) || ctl_peer_may_change(peer))
		return 0;
	if (control_group)
		snprintf(err, errlen,
			 "uid %u may not '%s': only root and members of group '%s' may change "
			 "the scheduler; others may only read its status",
			 (unsigned int)peer->uid, ctl_cmd_name(cmd), control_group);
	else
		snprintf(
		    err, errlen,
		    "uid %u may not '%s': only root may change the scheduler (vmm-schedd "
		    "--control-group NAME lets a group do it); others may only read its status",
		    (unsigned int)peer->uid, ctl_cmd_name(cmd));
	return -1;
}

bool ctl_gid_in(gid_t gid, const gid_t *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}
