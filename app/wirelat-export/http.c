/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The scrape endpoint: libmicrohttpd with its own polling thread. GET or
 * HEAD /metrics builds a fresh snapshot (the shm is read at scrape time,
 * never cached) and answers the text exposition 0.0.4; any other path
 * is 404, any other method 405.
 *
 * The text (30 MB for 10,000 series) is rendered into a buffer that
 * libmicrohttpd sends from without a copy and gives back once sent
 * (buf_put). The buffers are kept for the next scrapes: a fresh 30 MB
 * malloc is an mmap whose every page faults again when written, which
 * cost more than rendering. A buffer is in use by one response at a
 * time, so overlapping scrapes each get their own; at most POOL_IDLE are
 * kept idle.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "export.h"
#include "wl_common.h"
#include "wl_export_prom.h"

#define POOL_IDLE 2

struct pool_buf {
	struct wl_exp_buf b;
	struct pool_buf *next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pool_buf *pool_idle;
static unsigned int pool_n_idle;

static void buf_put(void *cls);

/* An idle buffer (emptied) of at least cap bytes; NULL: no memory. */
static struct pool_buf *
buf_get(size_t cap)
{
	struct pool_buf *pb;

	pthread_mutex_lock(&pool_lock);
	pb = pool_idle;
	if (pb != NULL) {
		pool_idle = pb->next;
		pool_n_idle--;
	}
	pthread_mutex_unlock(&pool_lock);
	if (pb == NULL) {
		pb = calloc(1, sizeof(*pb));
		if (pb == NULL)
			return NULL;
	}
	pb->b.len = 0;
	if (pb->b.cap < cap) {
		/* realloc: a big buffer is mremap()ed, its pages kept. */
		char *p = realloc(pb->b.p, cap);

		if (p == NULL) {
			buf_put(pb);
			return NULL;
		}
		pb->b.p = p;
		pb->b.cap = cap;
	}
	return pb;
}

/* Back from a response (libmicrohttpd's free callback) or unused. */
static void
buf_put(void *cls)
{
	struct pool_buf *pb = cls;

	pthread_mutex_lock(&pool_lock);
	if (pool_n_idle < POOL_IDLE) {
		pb->next = pool_idle;
		pool_idle = pb;
		pool_n_idle++;
		pb = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	if (pb != NULL) {
		wl_exp_buf_free(&pb->b);
		free(pb);
	}
}

/* A static text. */
static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned int code, const char *type,
	char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), body,
		MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **con_cls)
{
	static char not_found[] = "Not found: the metrics are at /metrics\n";
	static char bad_method[] = "Only GET and HEAD\n";
	static char failed[] = "Out of memory building the snapshot\n";
	struct wl_export_app *app = cls;
	struct wl_exp_snap *s;
	struct MHD_Response *r;
	struct pool_buf *pb;
	enum MHD_Result mr;
	uint64_t t0;
	int ret;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			bad_method);
	if (strcmp(url, "/metrics") != 0)
		return answer(conn, MHD_HTTP_NOT_FOUND, "text/plain",
			not_found);
	t0 = wl_export_mono_ns();
	pthread_mutex_lock(&app->model_lock);
	app->health.scrapes++;
	pthread_mutex_unlock(&app->model_lock);
	pthread_mutex_lock(&app->scrape_lock);
	s = app->scrape_snap;
	wl_exp_snap_reset(s);
	/* The last size and some: no growth while rendering. */
	pb = buf_get(app->scrape_len + app->scrape_len / 8 + 65536);
	ret = pb == NULL ? -ENOMEM : wl_export_snapshot(app, s);
	if (ret == 0)
		ret = wl_exp_prom_render(s, &pb->b);
	if (ret == 0)
		app->scrape_len = pb->b.len;
	pthread_mutex_unlock(&app->scrape_lock);
	pthread_mutex_lock(&app->model_lock);
	app->health.scrape_seconds = (double)(wl_export_mono_ns() - t0) / 1e9;
	pthread_mutex_unlock(&app->model_lock);
	if (ret == 0) {
		r = MHD_create_response_from_buffer_with_free_callback_cls(
			pb->b.len, pb->b.p, buf_put, pb);
		if (r == NULL)
			ret = -ENOMEM;
	}
	if (ret != 0) {
		if (pb != NULL)
			buf_put(pb);
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			"text/plain", failed);
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		WL_EXP_PROM_CONTENT_TYPE);
	mr = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return mr;
}

/* cfg.export_listen as a socket address: "ADDR:PORT", "[ADDR6]:PORT". */
static int
parse_listen(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	const char *colon = strrchr(s, ':');
	char host[128];
	long port;
	size_t n;

	if (colon == NULL)
		return -EINVAL;
	port = strtol(colon + 1, NULL, 10);
	n = (size_t)(colon - s);
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		if (n < 2 || s[n - 1] != ']' || n - 2 >= sizeof(host))
			return -EINVAL;
		wl_strncpy_buf(host, sizeof(host), s + 1, n - 2);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host, &a6->sin6_addr) == 1 ? 0 :
			-EINVAL;
	}
	if (n >= sizeof(host))
		return -EINVAL;
	wl_strncpy_buf(host, sizeof(host), s, n);
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -EINVAL;
}

struct MHD_Daemon *
wl_export_http_start(struct wl_export_app *app)
{
	struct sockaddr_storage ss;
	struct MHD_Daemon *d;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_ERROR_LOG;

	if (parse_listen(app->cfg.export_listen, &ss) != 0) {
		wl_export_log("--listen: \"%s\" is not ADDR:PORT with a numeric "
			"address (127.0.0.1:9477, [::1]:9477)",
			app->cfg.export_listen);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = MHD_start_daemon(flags, ntohs(((struct sockaddr_in *)&ss)->sin_port),
		NULL, NULL, handler, app,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
		MHD_OPTION_END);
	if (d == NULL)
		wl_export_log("--listen %s: cannot listen there (%s)",
			app->cfg.export_listen, errno ? strerror(errno) :
			"address in use or not available");
	return d;
}

void
wl_export_http_stop(struct MHD_Daemon *d)
{
	struct pool_buf *pb;

	if (d != NULL)
		MHD_stop_daemon(d);
	/* Every response is gone with the daemon: all buffers are idle. */
	while ((pb = pool_idle) != NULL) {
		pool_idle = pb->next;
		wl_exp_buf_free(&pb->b);
		free(pb);
	}
	pool_n_idle = 0;
}
