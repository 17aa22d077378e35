/*
 * --metrics-listen: Prometheus metrics on GET /metrics, served by
 * libmicrohttpd's own thread. The agent never waits for a scraper: once per
 * VS_METRICS_PUBLISH_MS it renders the status into a finished MHD response
 * and swaps it in under a mutex; the server thread only takes a reference to
 * the current response under that mutex (no rendering, no I/O while holding
 * it). A response is freed when its last connection is done with it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "daemon.h"
#include "log.h"
#include "metrics_render.h"
#include "metrics_server.h"
#include "status_json.h"

/* A slow or stuck scraper holds one of few connections, and not for long. */
#define METRICS_MAX_CONNECTIONS	     16
#define METRICS_MAX_PER_IP	     8
#define METRICS_CONNECTION_TIMEOUT_S 10

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int code, const char *text)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct vs_metrics_server *ms = cls;
	enum MHD_Result ret = MHD_NO;
	bool have;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "metrics are at /metrics\n");
	pthread_mutex_lock(&ms->lock);
	have = ms->current != NULL;
	if (have)
		ret = MHD_queue_response(conn, MHD_HTTP_OK, ms->current);
	pthread_mutex_unlock(&ms->lock);
	if (!have)
		return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n");
	return ret;
}

static int bind_listen(const struct vs_listen_addr *a, const char *text, char *err, size_t errlen)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0) {
		snprintf(err, errlen, "--metrics-listen %s: socket: %s", text, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) || listen(fd, 16)) {
		snprintf(err, errlen, "--metrics-listen %s: %s%s", text, strerror(errno),
			 errno == EADDRINUSE	  ? " (another process listens there: pick another "
						    "port or stop it)"
			 : errno == EADDRNOTAVAIL ? " (no interface of this host has that address)"
						  : "");
		close(fd);
		return -1;
	}
	return fd;
}

int metrics_open(struct vs_daemon *d, char *err, size_t errlen)
{
	sigset_t all, old;
	int fd;

	if (!d->opt.metrics_listen)
		return 0;
	fd = bind_listen(&d->opt.metrics_addr, d->opt.metrics_listen, err, errlen);
	if (fd < 0)
		return -1;
	/* The server thread inherits this mask: signals stay the event loop's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	d->metrics.mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    on_request, &d->metrics, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)METRICS_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned int)METRICS_MAX_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)METRICS_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!d->metrics.mhd) {
		snprintf(err, errlen, "--metrics-listen %s: libmicrohttpd could not start",
			 d->opt.metrics_listen);
		close(fd);
		return -1;
	}
	vs_log("Prometheus metrics on http://%s/metrics", d->opt.metrics_listen);
	return 0;
}

void metrics_publish(struct vs_daemon *d)
{
	struct prom_buf text = {0};
	struct json_object *status;
	struct MHD_Response *r, *old;

	if (!d->metrics.mhd)
		return;
	status = status_to_json(d);
	metrics_render_status(status, &text);
	json_object_put(status);
	if (text.failed || !text.data) {
		vs_warn("metrics: rendering failed (out of memory?); serving the previous ones");
		prom_buf_free(&text);
		return;
	}
	/* The response owns text.data from here on. */
	r = MHD_create_response_from_buffer(text.len, text.data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		prom_buf_free(&text);
		return;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	pthread_mutex_lock(&d->metrics.lock);
	old = d->metrics.current;
	d->metrics.current = r;
	pthread_mutex_unlock(&d->metrics.lock);
	if (old)
		MHD_destroy_response(old);
}

/* MHD_stop_daemon() closes the listening socket too. */
void metrics_close(struct vs_daemon *d)
{
	if (d->metrics.mhd) {
		MHD_stop_daemon(d->metrics.mhd);
		d->metrics.mhd = NULL;
	}
	if (d->metrics.current) {
		MHD_destroy_response(d->metrics.current);
		d->metrics.current = NULL;
	}
}
