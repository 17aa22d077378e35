/*
 * `vmm-schedctl top`: two status replies an interval apart make a frame
 * (vmm-sched/lib/top_view.c). On a terminal: redrawn every interval with
 * colours, keys sort, q quits. Otherwise (or with --json): N frames as plain
 * text (or one JSON object per line), then exit.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl_cli.h"
#include "ctl_client.h"
#include "top_view.h"
#include "vmm_sched_ctl.h"

#define RENDER_BYTES (256 * 1024)

struct top_opts {
	double interval_s;
	long iterations; /* 0: until q (terminal), 1 (otherwise) */
	enum top_sort sort;
	bool json;
};

static struct termios saved_tty;
static bool tty_raw;
static volatile sig_atomic_t stop_requested;

static void restore_tty(void)
{
	if (!tty_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	fputs("\033[?25h\033[?1049l", stdout); /* cursor back, main screen */
	fflush(stdout);
	tty_raw = false;
}

static void on_signal(int sig)
{
	stop_requested = 1;
}

/* Keys one at a time, no echo; the frame on the alternate screen. */
static void enter_raw_tty(void)
{
	struct termios raw;
	struct sigaction sa = {.sa_handler = on_signal};

	if (tcgetattr(STDIN_FILENO, &saved_tty))
		return;
	raw = saved_tty;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return;
	tty_raw = true;
	atexit(restore_tty);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fputs("\033[?1049h\033[?25l", stdout);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int parse_opts(int argc, char **argv, struct top_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
			continue;
		}
		if (!val || (strcmp(argv[i], "--interval") && strcmp(argv[i], "--iterations") &&
			     strcmp(argv[i], "--sort"))) {
			fprintf(stderr,
				"vmm-schedctl: top: unexpected argument '%s' (top [--interval S] "
				"[--iterations N] [--sort KEY] [--json])\n",
				argv[i]);
			return -1;
		}
		i++;
		if (strcmp(argv[i - 1], "--interval") == 0) {
			o->interval_s = strtod(val, &end);
			if (!*val || *end || !(o->interval_s >= 0.1 && o->interval_s <= 3600)) {
				fprintf(stderr,
					"vmm-schedctl: top: --interval '%s' is not seconds "
					"0.1..3600\n",
					val);
				return -1;
			}
		} else if (strcmp(argv[i - 1], "--iterations") == 0) {
			o->iterations = strtol(val, &end, 10);
			if (!*val || *end || o->iterations < 1 || o->iterations > 1000000) {
				fprintf(stderr,
					"vmm-schedctl: top: --iterations '%s' is not a number "
					"1..1000000\n",
					val);
				return -1;
			}
		} else {
			int s = top_sort_from_name(val);

			if (s < 0) {
				fprintf(stderr,
					"vmm-schedctl: top: --sort '%s': one of name, planned, "
					"delivered, wait, forced_idle\n",
					val);
				return -1;
			}
			o->sort = (enum top_sort)s;
		}
	}
	return 0;
}

static int fetch(const char *socket_path, struct json_object **reply)
{
	struct vs_ctl_request req;
	char err[600];
	int rc;

	ctl_request_init(&req, VS_CTL_CMD_STATUS);
	rc = ctl_call(socket_path, &req, VS_CTL_TIMEOUT_MS * 5, reply, err, sizeof(err));
	if (rc) {
		restore_tty();
		fprintf(stderr, "vmm-schedctl: top: %s\n", err);
	}
	return rc;
}

static int terminal_width(void)
{
	struct winsize ws;

	return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

static void show(const struct top_frame *f, bool live, bool json, char *text)
{
	if (json) {
		struct json_object *o = top_frame_json(f);

		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		top_frame_render(f, live, live ? terminal_width() : 80, text, RENDER_BYTES);
		if (live)
			fputs("\033[H\033[2J", stdout);
		fputs(text, stdout);
		if (live)
			fputs("keys: n name, p plan, d delivered, w wait, f forced idle; q quit\n",
			      stdout);
		else
			putchar('\n');
	}
	fflush(stdout);
}

/* Waits @ms for a key on a live terminal: the sort it asks for, 'q', or 0. */
static int wait_key(bool live, int ms)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	uint64_t until = now_ns() + (uint64_t)ms * 1000000ULL;
	char c;

	if (!live) {
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) && errno == EINTR && !stop_requested)
			;
		return 0;
	}
	while (!stop_requested) {
		uint64_t now = now_ns();

		if (now >= until)
			return 0;
		if (poll(&p, 1, (int)((until - now) / 1000000ULL) + 1) <= 0)
			continue;
		if (read(STDIN_FILENO, &c, 1) != 1)
			return 0;
		if (c == 'q' || c == 'Q' || top_sort_from_key(c) >= 0)
			return c;
	}
	return 'q';
}

int ctl_top(const char *socket_path, int argc, char **argv)
{
	struct top_opts o = {.interval_s = 1.0, .sort = TOP_SORT_WAIT};
	struct json_object *prev = NULL, *cur = NULL;
	struct top_frame *f = malloc(sizeof(*f));
	char *text = malloc(RENDER_BYTES);
	bool live;
	int rc = VS_CTL_EXIT_OK, ms;
	long shown = 0;

	if (!f || !text || parse_opts(argc, argv, &o)) {
		free(f);
		free(text);
		return VS_CTL_EXIT_USAGE;
	}
	live = !o.json && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	if (!live && !o.iterations)
		o.iterations = 1;
	ms = (int)(o.interval_s * 1000);
	rc = fetch(socket_path, &prev);
	if (rc)
		goto out;
	if (live) {
		enter_raw_tty();
		top_frame_build(NULL, prev, 0, o.sort, f);
		show(f, live, false, text);
	}
	while (!stop_requested && (!o.iterations || shown < o.iterations)) {
		uint64_t t0 = now_ns();
		int key = wait_key(live, ms);

		if (key == 'q' || key == 'Q')
			break;
		if (key) { /* a new order for the frame on screen, then the rest of the wait */
			o.sort = (enum top_sort)top_sort_from_key(key);
			top_frame_sort(f, o.sort);
			show(f, live, false, text);
			while (!stop_requested && now_ns() - t0 < (uint64_t)ms * 1000000ULL) {
				key =
				    wait_key(live, (int)((uint64_t)ms - (now_ns() - t0) / 1000000));
				if (key == 'q' || key == 'Q')
					goto out;
				if (key) {
					o.sort = (enum top_sort)top_sort_from_key(key);
					top_frame_sort(f, o.sort);
					show(f, live, false, text);
				}
			}
		}
		rc = fetch(socket_path, &cur);
		if (rc)
			break;
		if (top_frame_build(prev, cur, now_ns() - t0, o.sort, f)) {
			restore_tty();
			fprintf(stderr, "vmm-schedctl: top: the status reply has no vms, cores or "
					"cpus\n");
			rc = VS_CTL_EXIT_NO_AGENT;
			break;
		}
		show(f, live, o.json, text);
		shown++;
		json_object_put(prev);
		prev = cur;
		cur = NULL;
	}
out:
	restore_tty();
	json_object_put(prev);
	json_object_put(cur);
	free(f);
	free(text);
	return rc;
}
