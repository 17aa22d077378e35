/* Unit tests: --metrics-listen ADDR:PORT (lib/listen_addr.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "listen_addr.h"

static void ipv4_and_ipv6(void **state)
{
	struct vs_listen_addr a;
	char err[256];

	assert_int_equal(listen_addr_parse("127.0.0.1:9101", &a, err, sizeof(err)), 0);
	assert_int_equal(a.ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 9101);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(listen_addr_parse("[::1]:65535", &a, err, sizeof(err)), 0);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port), 65535);
	assert_int_equal(listen_addr_parse("0.0.0.0:1", &a, err, sizeof(err)), 0);
}

/* Each bad value is refused with a message naming what is wrong. */
static void refused_with_reason(void **state)
{
	static const struct {
		const char *arg, *says;
	} bad[] = {
	    {"9101", "not ADDR:PORT"},
	    {"127.0.0.1:0", "1..65535"},
	    {"127.0.0.1:65536", "1..65535"},
	    {"127.0.0.1:-1", "no port"},
	    {"127.0.0.1:", "no port"},
	    {"127.0.0.1:80x", "must be 1..65535"},
	    {":9101", "missing"},
	    {"localhost:9101", "not a numeric IPv4"},
	    {"::1:9101", "not a numeric IPv4"},
	    {"[::1:9101", "not a numeric IPv4"},
	    {"[nope]:9101", "not a numeric IPv6"},
	    {"300.1.1.1:9101", "not a numeric IPv4"},
	};
	struct vs_listen_addr a;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(listen_addr_parse(bad[i].arg, &a, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].says))
			fail_msg("'%s': error '%s' does not say '%s'", bad[i].arg, err,
				 bad[i].says);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ipv4_and_ipv6),
	    cmocka_unit_test(refused_with_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
