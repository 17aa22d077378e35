#include "numa_home.h"

#include <stdbool.h>
#include <string.h>

#define PAGESIZE_FIELD "kernelpagesize_kB="

void numa_usage_init(struct vs_numa_usage *u)
{
	memset(u, 0, sizeof(*u));
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* The decimal number [s, e): false if empty, not all digits, or above UINT64_MAX. */
static bool parse_u64(const char *s, const char *e, uint64_t *v)
{
	uint64_t x = 0;

	if (s == e)
		return false;
	for (; s < e; s++) {
		unsigned int digit = (unsigned int)(*s - '0');

		if (digit > 9 || x > (UINT64_MAX - digit) / 10)
			return false;
		x = x * 10 + digit;
	}
	*v = x;
	return true;
}

static bool is_hex(const char *s, const char *e)
{
	if (s == e)
		return false;
	for (; s < e; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next token of [*p, end) into [*s, *e); false at the end of the line. */
static bool next_token(const char **p, const char *end, const char **s, const char **e)
{
	while (*p < end && is_blank(**p))
		(*p)++;
	if (*p == end)
		return false;
	*s = *p;
	while (*p < end && !is_blank(**p))
		(*p)++;
	*e = *p;
	return true;
}

/* "N<node>=<pages>" into *node and *pages; false if malformed or the node is too high. */
static bool parse_node_field(const char *s, const char *e, uint64_t *node, uint64_t *pages)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));

	return eq && parse_u64(s + 1, eq, node) && *node < VS_MAX_NODES &&
	       parse_u64(eq + 1, e, pages);
}

void numa_usage_add_line(struct vs_numa_usage *u, const char *line, size_t len)
{
	const char *p = line, *end = line + len, *nl = memchr(line, '\n', len), *s, *e;
	uint64_t pages[VS_MAX_NODES] = {0}, page_kb = 4, node, v;

	if (nl)
		end = nl;
	if (!next_token(&p, end, &s, &e))
		return; /* blank line */
	if (!is_hex(s, e)) {
		u->malformed++;
		return;
	}
	while (next_token(&p, end, &s, &e)) {
		size_t n = (size_t)(e - s), plen = strlen(PAGESIZE_FIELD);

		if (n >= plen && memcmp(s, PAGESIZE_FIELD, plen) == 0) {
			if (parse_u64(s + plen, e, &v) && v)
				page_kb = v;
			else
				u->malformed++;
		} else if (*s == 'N') {
			if (parse_node_field(s, e, &node, &v))
				pages[node] = add_sat(pages[node], v);
			else
				u->malformed++;
		}
	}
	for (node = 0; node < VS_MAX_NODES; node++)
		u->kb[node] = add_sat(u->kb[node], mul_sat(pages[node], page_kb));
	u->mappings++;
}

void numa_usage_add_text(struct vs_numa_usage *u, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		numa_usage_add_line(u, p, n);
		p += n + (nl ? 1 : 0);
	}
}

int numa_home_node(const struct vs_numa_usage *u)
{
	int best = VS_NUMA_NODE_UNKNOWN;

	for (int node = 0; node < VS_MAX_NODES; node++)
		if (u->kb[node] && (best < 0 || u->kb[node] > u->kb[best]))
			best = node;
	return best;
}

int numa_local_cores(const struct vs_topology *topo, const struct vs_cpuset *enclave_cpus, int node,
		     struct vs_cpuset *local)
{
	int cpu, n = 0;

	cpuset_clear(local);
	cpuset_for_each(cpu, enclave_cpus)
	{
		int core;

		if (cpu >= topo->nr_cpus || topo->node_of[cpu] != node)
			continue;
		core = topo->core_of[cpu];
		if (!cpuset_has(local, core)) {
			cpuset_add(local, core);
			n++;
		}
	}
	return n;
}
