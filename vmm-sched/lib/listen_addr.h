/* ADDR:PORT as given to --metrics-listen: a numeric IPv4 or [IPv6] address and a port. */
#ifndef VS_LISTEN_ADDR_H
#define VS_LISTEN_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

struct vs_listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* 127.0.0.1:9101, [::1]:9101, 0.0.0.0:9101; -1 with err saying what is wrong. */
int listen_addr_parse(const char *s, struct vs_listen_addr *out, char *err, size_t errlen);

#endif
