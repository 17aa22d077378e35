#include "prom_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(struct prom_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void append_str(struct prom_buf *b, const char *s)
{
	append(b, s, strlen(s));
}

static void appendf(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(struct prom_buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		b->failed = true;
	else
		append(b, tmp, (size_t)n);
}

static bool name_valid(const char *name, bool colon)
{
	if (!name || !*name || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || (colon && *p == ':');
		if (!ok)
			return false;
	}
	return true;
}

bool prom_metric_name_valid(const char *name)
{
	return name_valid(name, true);
}

bool prom_label_name_valid(const char *name)
{
	return name_valid(name, false) && strncmp(name, "__", 2) != 0;
}

/* Escapes \ and newline, and " too if @quote. */
static void escape(struct prom_buf *b, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep = *s == '\\'	       ? "\\\\"
				  : *s == '\n'	       ? "\\n"
				  : quote && *s == '"' ? "\\\""
						       : NULL;
		if (!rep)
			continue;
		append(b, run, (size_t)(s - run));
		append_str(b, rep);
		run = s + 1;
	}
	append(b, run, (size_t)(s - run));
}

void prom_escape_label_value(struct prom_buf *b, const char *s)
{
	escape(b, s, true);
}

void prom_family(struct prom_buf *b, const char *name, const char *type, const char *help)
{
	if (!prom_metric_name_valid(name)) {
		b->failed = true;
		return;
	}
	append_str(b, "# HELP ");
	append_str(b, name);
	append_str(b, " ");
	escape(b, help, false);
	append_str(b, "\n# TYPE ");
	append_str(b, name);
	append_str(b, " ");
	append_str(b, type);
	append_str(b, "\n");
}

static void sample_head(struct prom_buf *b, const char *name, const struct prom_label *labels,
			int nr_labels)
{
	if (!prom_metric_name_valid(name)) {
		b->failed = true;
		return;
	}
	append_str(b, name);
	for (int i = 0; i < nr_labels; i++) {
		if (!prom_label_name_valid(labels[i].name)) {
			b->failed = true;
			return;
		}
		append_str(b, i ? "," : "{");
		append_str(b, labels[i].name);
		append_str(b, "=\"");
		prom_escape_label_value(b, labels[i].value ? labels[i].value : "");
		append_str(b, "\"");
	}
	if (nr_labels)
		append_str(b, "}");
}

void prom_sample_u64(struct prom_buf *b, const char *name, const struct prom_label *labels,
		     int nr_labels, uint64_t value)
{
	sample_head(b, name, labels, nr_labels);
	appendf(b, " %" PRIu64 "\n", value);
}

void prom_sample_ns_as_seconds(struct prom_buf *b, const char *name,
			       const struct prom_label *labels, int nr_labels, uint64_t ns)
{
	sample_head(b, name, labels, nr_labels);
	appendf(b, " %" PRIu64 ".%09" PRIu64 "\n", ns / UINT64_C(1000000000),
		ns % UINT64_C(1000000000));
}

void prom_sample_milli(struct prom_buf *b, const char *name, const struct prom_label *labels,
		       int nr_labels, uint64_t milli)
{
	sample_head(b, name, labels, nr_labels);
	appendf(b, " %" PRIu64 ".%03" PRIu64 "\n", milli / 1000, milli % 1000);
}

void prom_buf_free(struct prom_buf *b)
{
	free(b->data);
	*b = (struct prom_buf){0};
}
