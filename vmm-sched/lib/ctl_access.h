/*
 * Who may do what on the control socket, from the peer's credentials
 * (SO_PEERCRED, SO_PEERGROUPS): root and members of the --control-group may
 * change the scheduler; anyone else who can open the socket may only read
 * its status.
 */
#ifndef VS_CTL_ACCESS_H
#define VS_CTL_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ctl_request.h"

struct vs_ctl_peer {
	uid_t uid;
	bool in_control_group; /* primary or supplementary group is the --control-group */
};

/* Only status reads; every other command changes what runs where. */
bool ctl_cmd_changes_state(enum vs_ctl_cmd cmd);
bool ctl_peer_may_change(const struct vs_ctl_peer *peer);
/* 0 if @peer may run @cmd; else -1 with err naming the uid and the command. */
int ctl_access_check(const struct vs_ctl_peer *peer, enum vs_ctl_cmd cmd, const char *control_group,
		     char *err, size_t errlen);
/* Is @gid among the @n groups of @groups? */
bool ctl_gid_in(gid_t gid, const gid_t *groups, size_t n);

#endif
