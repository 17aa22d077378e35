/* The opt-in metadata of libvirt domains and the names of their cgroups (libvirt_meta.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "enclave_set.h"
#include "libvirt_meta.h"
#include "share.h"

struct attr_rule {
	const char *name;
	long min, max;
	size_t offset; /* in struct vs_lv_meta; SIZE_MAX: the enclave's name */
};

static const struct attr_rule attr_rules[] = {
    {"weight", VS_MIN_WEIGHT, VS_MAX_WEIGHT, offsetof(struct vs_lv_meta, share.weight)},
    {"reserve", 0, VS_MAX_CPUS, offsetof(struct vs_lv_meta, share.reserve_cores)},
    {"cap", 0, VS_MAX_CPUS, offsetof(struct vs_lv_meta, share.cap_cores)},
    {"enclave", 0, 0, (size_t)-1},
};

static bool ours(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, VS_LIBVIRT_NS);
}

/* Our elements anywhere under @n (libvirt keeps them in <metadata>); the first in *first. */
static int count_ours(xmlNode *n, xmlNode **first)
{
	int nr = 0;

	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (ours(n)) {
			if (!nr && !*first)
				*first = n;
			nr++;
		}
		nr += count_ours(n->children, first);
	}
	return nr;
}

static int apply_attr(const struct attr_rule *r, const char *value, struct vs_lv_meta *meta,
		      char *err, size_t errlen)
{
	char why[128];
	char *end;
	long v;

	if (r->offset == (size_t)-1) {
		if (enclave_name_check(value, why, sizeof(why))) {
			snprintf(err, errlen, "enclave='%.40s' is not an enclave name: %s", value,
				 why);
			return -1;
		}
		snprintf(meta->enclave, sizeof(meta->enclave), "%s", value);
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (!*value || *end || errno || value[0] == ' ' || value[0] == '+') {
		snprintf(err, errlen, "%s='%.40s' is not a decimal number", r->name, value);
		return -1;
	}
	if (v < r->min || v > r->max) {
		snprintf(err, errlen, "%s=%ld is out of range: it must be %ld..%ld", r->name, v,
			 r->min, r->max);
		return -1;
	}
	*(int *)((char *)meta + r->offset) = (int)v;
	return 0;
}

static int parse_element(xmlNode *n, struct vs_lv_meta *meta, char *err, size_t errlen)
{
	if (strcmp((const char *)n->name, VS_LIBVIRT_ELEM)) {
		snprintf(err, errlen, "unknown element <%.40s> in namespace %s: expected <%s>",
			 (const char *)n->name, VS_LIBVIRT_NS, VS_LIBVIRT_ELEM);
		return -1;
	}
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const struct attr_rule *r = NULL;
		xmlChar *value;
		int e;

		for (size_t i = 0; i < sizeof(attr_rules) / sizeof(attr_rules[0]); i++)
			if (!strcmp((const char *)a->name, attr_rules[i].name))
				r = &attr_rules[i];
		if (!r) {
			snprintf(err, errlen,
				 "unknown attribute '%.40s': <%s> takes weight, reserve, cap and "
				 "enclave",
				 (const char *)a->name, VS_LIBVIRT_ELEM);
			return -1;
		}
		value = xmlNodeGetContent((xmlNode *)a);
		e = apply_attr(r, value ? (const char *)value : "", meta, err, errlen);
		xmlFree(value);
		if (e)
			return -1;
	}
	if (meta->share.cap_cores > 0 && meta->share.reserve_cores > meta->share.cap_cores) {
		snprintf(err, errlen, "reserve=%d is above cap=%d", meta->share.reserve_cores,
			 meta->share.cap_cores);
		return -1;
	}
	return 0;
}

enum vs_lv_optin libvirt_meta_parse(const char *xml, size_t len, struct vs_lv_meta *meta, char *err,
				    size_t errlen)
{
	xmlDoc *doc;
	xmlNode *first = NULL;
	int nr, e;

	meta->share.weight = meta->share.reserve_cores = meta->share.cap_cores = VS_SHARE_KEEP;
	meta->enclave[0] = '\0';
	if (len > (size_t)1 << 24) {
		snprintf(err, errlen, "domain XML of %zu bytes is too large", len);
		return VS_LV_INVALID;
	}
	doc = xmlReadMemory(xml, (int)len, "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		snprintf(err, errlen, "the domain XML is not well-formed");
		return VS_LV_INVALID;
	}
	nr = count_ours(xmlDocGetRootElement(doc), &first);
	if (!nr) {
		xmlFreeDoc(doc);
		return VS_LV_NONE;
	}
	if (nr > 1) {
		snprintf(err, errlen, "%d elements of namespace %s: at most one <%s> per domain",
			 nr, VS_LIBVIRT_NS, VS_LIBVIRT_ELEM);
		xmlFreeDoc(doc);
		return VS_LV_INVALID;
	}
	e = parse_element(first, meta, err, errlen);
	xmlFreeDoc(doc);
	return e ? VS_LV_INVALID : VS_LV_OPTED_IN;
}

bool libvirt_should_enrol(enum vs_lv_optin optin, const char *name, const char *pattern)
{
	if (optin != VS_LV_NONE)
		return optin == VS_LV_OPTED_IN;
	return pattern && !fnmatch(pattern, name, 0);
}

/* @s starts with @prefix followed by the decimal @id and then @sep. */
static const char *after_id(const char *s, const char *prefix, int id, const char *sep)
{
	char head[64];
	size_t n = (size_t)snprintf(head, sizeof(head), "%s%d%s", prefix, id, sep);

	return strncmp(s, head, n) ? NULL : s + n;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a > b && !strcmp(s + a - b, tail);
}

int libvirt_cgroup_dir_kind(const char *dirname, int id)
{
	const char *rest;

	rest = after_id(dirname, "qemu-", id, "-");
	if (rest && *rest && ends_with(rest, ".libvirt-qemu"))
		return 1;
	rest = after_id(dirname, "machine-qemu\\x2d", id, "\\x2d");
	if (rest && *rest && ends_with(rest, ".scope"))
		return 2;
	return 0;
}
