/* vmm-sched.conf through inih, with line numbers from our own line reader. */
#include <ini.h>
#include <stdarg.h>
#include <string.h>

#include "config_parse.h"

struct parse_state {
	struct vs_options *opt;
	FILE *in;
	const char *name;
	vs_config_say say;
	void *ctx;
	int line; /* the line inih is working on */
	int errors;
	int last_error_line;	       /* to not report a line twice */
	bool section_unknown;	       /* said already: its keys are not reported again */
	int key_line[VS_OPT_MAX_KEYS]; /* where each key was set, to refuse a second time */
};

static void say(struct parse_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct parse_state *s, const char *fmt, ...)
{
	char msg[1024];
	int n;
	va_list ap;

	n = snprintf(msg, sizeof(msg), "%s:%d: ", s->name, s->line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	s->say(s->ctx, msg);
	s->errors++;
	s->last_error_line = s->line;
}

static void list_sections(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; vs_option_sections[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s[%s]", i ? ", " : "", vs_option_sections[i]);
}

static void list_keys(const char *section, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < vs_nr_option_keys && n < len; i++)
		if (!strcmp(vs_option_keys[i].section, section))
			n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
				      vs_option_keys[i].key);
}

/* A section header on @line: checks its name as inih will see it. */
static void check_section_line(struct parse_state *s, const char *line)
{
	char name[200], known[256];
	const char *end;
	size_t len;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line != '[')
		return;
	end = strchr(line, ']');
	if (!end)
		return; /* inih reports it */
	len = (size_t)(end - line - 1);
	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memcpy(name, line + 1, len);
	name[len] = '\0';
	s->section_unknown = !options_section_known(name);
	if (s->section_unknown) {
		list_sections(known, sizeof(known));
		say(s, "unknown section [%s]; the sections are %s", name, known);
	}
}

/* inih's line reader: fgets that counts lines and checks section names. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_state *s = stream;
	char *got = fgets(str, num, s->in);
	int c;

	if (!got)
		return NULL;
	s->line++;
	if (!strchr(got, '\n') && !feof(s->in)) {
		say(s, "line longer than %d characters", num - 2);
		while ((c = fgetc(s->in)) != EOF && c != '\n')
			;
		str[0] = '\0'; /* skip it */
		return str;
	}
	check_section_line(s, got);
	return got;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
	struct parse_state *s = user;
	const struct vs_option_key *k;
	char err[512], keys[512];
	int i;

	if (!*section) {
		say(s, "key '%s' before any [section]", key);
		return 1;
	}
	if (s->section_unknown)
		return 1;
	k = options_key_by_name(section, key);
	if (!k) {
		list_keys(section, keys, sizeof(keys));
		say(s, "unknown key '%s' in [%s]; its keys are %s", key, section, keys);
		return 1;
	}
	i = (int)(k - vs_option_keys);
	if (s->key_line[i]) {
		say(s, "%s in [%s] is set a second time (first on line %d)", key, section,
		    s->key_line[i]);
		return 1;
	}
	s->key_line[i] = s->line;
	if (options_set(s->opt, k, value, VS_FROM_FILE, err, sizeof(err)))
		say(s, "%s in [%s]: %s", key, section, err);
	return 1;
}

int config_parse_stream(struct vs_options *opt, FILE *in, const char *name, vs_config_say sayfn,
			void *ctx)
{
	struct parse_state s = {.opt = opt, .in = in, .name = name, .say = sayfn, .ctx = ctx};
	int first_bad = ini_parse_stream(read_line, &s, on_key, &s);

	/* inih gives the first line it could not parse; ours are said already. */
	if (first_bad > 0 && first_bad != s.last_error_line) {
		s.line = first_bad;
		say(&s, "not a 'key = value' line, a [section] or a comment");
	}
	return s.errors;
}
