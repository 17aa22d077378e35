/*
 * The Prometheus text exposition format (version 0.0.4): metric families with
 * HELP and TYPE lines and samples with escaped label values, appended to a
 * growing buffer. Pure: no I/O.
 */
#ifndef VS_PROM_TEXT_H
#define VS_PROM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prom_buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len, cap;
	bool failed; /* out of memory or a bad name: the text is incomplete */
};

struct prom_label {
	const char *name;
	const char *value;
};

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool prom_metric_name_valid(const char *name);
/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved) */
bool prom_label_name_valid(const char *name);

/* Appends @s with \ " and newline escaped as \\ \" \n (a label value). */
void prom_escape_label_value(struct prom_buf *b, const char *s);

/* "# HELP name help" (help with \ and newline escaped) and "# TYPE name type". */
void prom_family(struct prom_buf *b, const char *name, const char *type, const char *help);
/* name{l1="v1",...} value */
void prom_sample_u64(struct prom_buf *b, const char *name, const struct prom_label *labels,
		     int nr_labels, uint64_t value);
/* A count of nanoseconds as seconds, exactly: 1500000000 -> 1.500000000 */
void prom_sample_ns_as_seconds(struct prom_buf *b, const char *name,
			       const struct prom_label *labels, int nr_labels, uint64_t ns);
/* Thousandths as a decimal: 1500 -> 1.500 */
void prom_sample_milli(struct prom_buf *b, const char *name, const struct prom_label *labels,
		       int nr_labels, uint64_t milli);

void prom_buf_free(struct prom_buf *b);

#endif
