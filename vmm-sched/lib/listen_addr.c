#include "listen_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *s, unsigned short *out, char *err, size_t errlen)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9') {
		snprintf(err, errlen,
			 "no port after the last ':' (ADDR:PORT, e.g. 127.0.0.1:9101)");
		return -1;
	}
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 65535) {
		snprintf(err, errlen, "port '%s' must be 1..65535", s);
		return -1;
	}
	*out = (unsigned short)v;
	return 0;
}

int listen_addr_parse(const char *s, struct vs_listen_addr *out, char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hlen;
	unsigned short port;

	memset(out, 0, sizeof(*out));
	if (!colon) {
		snprintf(err, errlen, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9101 or [::1]:9101)",
			 s);
		return -1;
	}
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "'%s': the address before the port is %s", s,
			 hlen ? "too long" : "missing (0.0.0.0 listens on every address)");
		return -1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (parse_port(colon + 1, &port, err, errlen))
		return -1;
	if (host[0] == '[' && host[hlen - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->ss;

		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) {
			snprintf(err, errlen, "'%s' is not a numeric IPv6 address", host + 1);
			return -1;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		out->len = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)&out->ss;

	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
		snprintf(err, errlen,
			 "'%s' is not a numeric IPv4 address (host names are not looked up; an "
			 "IPv6 address goes in brackets: [::1]:PORT)",
			 host);
		return -1;
	}
	a4->sin_family = AF_INET;
	a4->sin_port = htons(port);
	out->len = sizeof(*a4);
	return 0;
}
