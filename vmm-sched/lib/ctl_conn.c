#include "ctl_conn.h"

#include <string.h>

enum vs_ctl_framing ctl_request_framing(const char *buf, size_t len, bool eof)
{
	const char *nl = memchr(buf, '\n', len);

	if (nl && (size_t)(nl - buf) <= VS_CTL_MAX_REQUEST)
		return VS_CTL_REQ_COMPLETE;
	if (len > VS_CTL_MAX_REQUEST)
		return VS_CTL_REQ_TOO_LONG;
	return eof ? VS_CTL_REQ_COMPLETE : VS_CTL_REQ_MORE;
}

int ctl_conn_pick_slot(const struct vs_ctl_conn *conns, int n)
{
	int oldest = -1;

	for (int i = 0; i < n; i++) {
		if (conns[i].fd < 0)
			return i;
		if (!conns[i].replying &&
		    (oldest < 0 || conns[i].opened_ns < conns[oldest].opened_ns))
			oldest = i;
	}
	return oldest;
}
