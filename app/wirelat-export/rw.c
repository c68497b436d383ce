/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Remote write: one bounded queue and one sender thread per receiver URL.
 *
 * main.c takes a snapshot every interval_s and wl_rw_enqueue() encodes
 * it into requests (snappy WriteRequests of at most samples_per_request
 * samples, all stamped with the snapshot's time) appended to the queue.
 * The queue holds at most queue_samples samples (or queue_minutes of the
 * latest snapshot's size): past it, whole requests are dropped from the
 * oldest end and counted (reason queue_full). The sender posts the oldest
 * request; a 2xx removes it; 5xx, 429, a timeout or a connection error
 * keep it and retry it after a backoff doubling from 100 ms to 5 s, so a
 * receiver that comes back gets everything the queue held, in order,
 * with the original timestamps. Any other 4xx drops it (reason http_4xx,
 * logged the first time per URL: it would fail again). Retryable failures
 * are logged once per streak and when delivery resumes.
 *
 * The sender never touches the model; the data path never sees any of
 * this (the exporter only reads the shared memory).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "export.h"
#include "wl_build_config.h"
#include "wl_common.h"
#include "wl_export_rw.h"

#define BACKOFF_MIN_NS (100 * WL_NS_PER_MS)
#define BACKOFF_MAX_NS (5 * WL_NS_PER_S)

/* Failure reasons, also the reason label (docs/export.md). */
#define foreach_rw_fail \
	_(CONNECTION, "connection") \
	_(TIMEOUT, "timeout") \
	_(HTTP_5XX, "http_5xx") \
	_(HTTP_429, "http_429") \
	_(HTTP_4XX, "http_4xx")

enum rw_fail {
#define _(e, n) RW_FAIL_ ## e,
	foreach_rw_fail
#undef _
	RW_FAIL_MAX
};

static const char *const fail_names[] = {
#define _(e, n) n,
	foreach_rw_fail
#undef _
};

struct batch {
	struct batch *next;
	size_t len;
	size_t n_samples;
	uint8_t data[];
};

struct wl_rw_sender {
	struct wl_export_app *app;
	struct wl_cfg_rw cfg;
	char url_label[WL_CFG_PATH];    /* the URL without user:password@ */
	const struct wl_exp_label *labels;
	unsigned int n_labels;
	struct wl_exp_rw *enc;
	struct wl_exp_snap *snap;
	uint64_t next_tick;             /* mono ns */
	pthread_t thread;
	int started;
	char *password;
	char *token_header;
	/* Guarded by lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch *head, *tail;
	size_t queued;                  /* samples in the list */
	size_t inflight;                /* samples being sent */
	size_t cap;                     /* samples */
	int stop;
	uint64_t enqueued, sent, requests;
	uint64_t failures[RW_FAIL_MAX];
	uint64_t dropped_full, dropped_4xx;
	double last_success;            /* epoch s, 0 never */
	int logged_4xx;
	int failing;                    /* a retry streak is on */
	uint64_t streak;
};

/* ---- secrets ---- */

/* A file's first line (a password, a token), or NULL with a line logged. */
static char *
read_secret(const char *what, const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		wl_export_log("%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		wl_export_log("%s %s: empty", what, path);
		return NULL;
	}
	return strdup(buf);
}

/* "http://user:pw@host/x" -> "http://host/x": labels carry no secret. */
static void
url_label(const char *url, char *out, size_t size)
{
	const char *scheme = strstr(url, "://"), *host, *at, *slash;

	if (scheme == NULL) {
		wl_strlcpy(out, url, size);
		return;
	}
	host = scheme + 3;
	slash = strchr(host, '/');
	at = strchr(host, '@');
	if (at == NULL || (slash != NULL && at > slash)) {
		wl_strlcpy(out, url, size);
		return;
	}
	snprintf(out, size, "%.*s%s", (int)(host - url), url, at + 1);
}

/* ---- queue ---- */

static void
drop_oldest_locked(struct wl_rw_sender *r)
{
	struct batch *b = r->head;

	r->head = b->next;
	if (r->head == NULL)
		r->tail = NULL;
	r->queued -= b->n_samples;
	r->dropped_full += b->n_samples;
	free(b);
}

struct enq_ctx {
	struct wl_rw_sender *r;
	struct batch *first, *last;
	size_t n;
};

static int
enq_emit(void *arg, const uint8_t *data, size_t len, size_t n_samples)
{
	struct enq_ctx *c = arg;
	struct batch *b = malloc(sizeof(*b) + len);

	if (b == NULL)
		return -ENOMEM;
	b->next = NULL;
	b->len = len;
	b->n_samples = n_samples;
	memcpy(b->data, data, len);
	if (c->last != NULL)
		c->last->next = b;
	else
		c->first = b;
	c->last = b;
	c->n += n_samples;
	return 0;
}

uint64_t
wl_rw_next_tick(const struct wl_rw_sender *r)
{
	return r->next_tick;
}

int
wl_rw_enqueue(struct wl_rw_sender *r, struct wl_exp_snap *s, uint64_t mono_ns)
{
	struct enq_ctx c = {r, NULL, NULL, 0};
	struct batch *b;
	int ret;

	/* The next tick keeps the cadence, skipping ticks missed. */
	do
		r->next_tick += (uint64_t)r->cfg.interval_s * WL_NS_PER_S;
	while (r->next_tick <= mono_ns);
	ret = wl_exp_rw_encode(r->enc, s, r->labels, r->n_labels,
		r->cfg.samples_per_request, 0, enq_emit, &c);
	if (ret != 0) {
		while ((b = c.first) != NULL) {
			c.first = b->next;
			free(b);
		}
		return ret;
	}
	pthread_mutex_lock(&r->lock);
	r->cap = r->cfg.queue_samples ? r->cfg.queue_samples :
		(size_t)r->cfg.queue_minutes * 60 / r->cfg.interval_s * c.n;
	if (r->cap < c.n && r->cfg.queue_samples == 0)
		r->cap = c.n;
	if (c.first != NULL) {
		if (r->tail != NULL)
			r->tail->next = c.first;
		else
			r->head = c.first;
		r->tail = c.last;
	}
	r->queued += c.n;
	r->enqueued += c.n;
	while (r->head != NULL && r->queued + r->inflight > r->cap)
		drop_oldest_locked(r);
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/* ---- sending ---- */

struct body {
	char text[256];
	size_t len;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n, k = WL_MIN(len, sizeof(b->text) - 1 - b->len);

	memcpy(b->text + b->len, p, k);
	b->len += k;
	b->text[b->len] = '\0';
	return len;
}

/* Wait until deadline (mono ns) or stop. @return 1 when stopping. */
static int
wait_until_locked(struct wl_rw_sender *r, uint64_t deadline)
{
	struct timespec ts;
	uint64_t now_rt, now = wl_export_mono_ns();

	if (deadline <= now)
		return r->stop;
	now_rt = wl_export_now_ns() + (deadline - now);
	ts.tv_sec = (time_t)(now_rt / WL_NS_PER_S);
	ts.tv_nsec = (long)(now_rt % WL_NS_PER_S);
	pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	return r->stop;
}

/* POST one request. @return -1 sent, else the failure reason. */
static int
post(struct wl_rw_sender *r, CURL *curl, struct curl_slist *hdr,
	const struct batch *b, long *code, char *why, size_t whylen)
{
	struct body body = {{0}, 0};
	CURLcode rc;

	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)&b->data[0]);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		(curl_off_t)b->len);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	rc = curl_easy_perform(curl);
	*code = 0;
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(why, whylen, "no answer within %u s (timeout_s)",
			r->cfg.timeout_s);
		return RW_FAIL_TIMEOUT;
	}
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		return RW_FAIL_CONNECTION;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code);
	if (*code >= 200 && *code < 300)
		return -1;
	body.text[strcspn(body.text, "\r\n")] = '\0';
	snprintf(why, whylen, "HTTP %ld%s%.200s", *code, body.text[0] ? ": " :
		"", body.text);
	if (*code == 429)
		return RW_FAIL_HTTP_429;
	if (*code >= 400 && *code < 500)
		return RW_FAIL_HTTP_4XX;
	return RW_FAIL_HTTP_5XX;        /* 5xx, and 1xx/3xx we do not follow */
}

static struct curl_slist *
headers(struct wl_rw_sender *r)
{
	struct curl_slist *h = NULL;

	h = curl_slist_append(h, "Content-Encoding: snappy");
	h = curl_slist_append(h, "Content-Type: application/x-protobuf");
	h = curl_slist_append(h, "X-Prometheus-Remote-Write-Version: 0.1.0");
	h = curl_slist_append(h, "User-Agent: wirelat-export/" WL_VERSION);
	/* No "Expect: 100-continue" round trip before a large body. */
	h = curl_slist_append(h, "Expect:");
	if (r->token_header != NULL)
		h = curl_slist_append(h, r->token_header);
	return h;
}

static void *
sender(void *arg)
{
	struct wl_rw_sender *r = arg;
	uint64_t backoff = BACKOFF_MIN_NS;
	struct curl_slist *hdr;
	struct batch *b;
	char why[320];
	CURL *curl;
	long code;
	int fail;

	curl = curl_easy_init();
	hdr = headers(r);
	if (curl == NULL || hdr == NULL) {
		wl_export_log("remote write %s: cannot set up libcurl: not "
			"sending", r->url_label);
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, r->cfg.url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
		(long)r->cfg.timeout_s * 1000);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
		(long)r->cfg.timeout_s * 1000);
	if (r->password != NULL) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME,
			r->cfg.basic_auth_user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, r->password);
	}
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->head == NULL && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->stop)
			break;
		/* Take the oldest out: the tick may drop others meanwhile. */
		b = r->head;
		r->head = b->next;
		if (r->head == NULL)
			r->tail = NULL;
		r->queued -= b->n_samples;
		r->inflight = b->n_samples;
		pthread_mutex_unlock(&r->lock);
		fail = post(r, curl, hdr, b, &code, why, sizeof(why));
		pthread_mutex_lock(&r->lock);
		r->requests++;
		r->inflight = 0;
		if (fail < 0) {
			r->sent += b->n_samples;
			r->last_success = (double)wl_export_now_ns() / 1e9;
			if (r->failing)
				wl_export_log("remote write %s: delivering "
					"again after %" PRIu64 " failed "
					"attempts", r->url_label, r->streak);
			r->failing = 0;
			r->streak = 0;
			backoff = BACKOFF_MIN_NS;
			free(b);
			continue;
		}
		r->failures[fail]++;
		if (fail == RW_FAIL_HTTP_4XX) {
			/* The receiver refuses it: it would again. */
			r->dropped_4xx += b->n_samples;
			if (!r->logged_4xx)
				wl_export_log("remote write %s: %s: %zu samples "
					"dropped, not retried (later 4xx "
					"answers are only counted)",
					r->url_label, why, b->n_samples);
			r->logged_4xx = 1;
			free(b);
			continue;
		}
		/* Retry: back at the head, after a backoff. */
		if (!r->failing)
			wl_export_log("remote write %s: %s: retrying with "
				"backoff (up to %u s); samples wait in the "
				"queue", r->url_label, why,
				(unsigned int)(BACKOFF_MAX_NS / WL_NS_PER_S));
		r->failing = 1;
		r->streak++;
		b->next = r->head;
		r->head = b;
		if (r->tail == NULL)
			r->tail = b;
		r->queued += b->n_samples;
		if (wait_until_locked(r, wl_export_mono_ns() + backoff))
			break;
		backoff = WL_MIN(backoff * 2, BACKOFF_MAX_NS);
	}
	pthread_mutex_unlock(&r->lock);
out:
	curl_slist_free_all(hdr);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	return NULL;
}

/* ---- health ---- */

int
wl_rw_health(struct wl_rw_sender *r, struct wl_exp_snap *s)
{
	struct wl_exp_label l[2] = {{"url", r->url_label}};
	uint64_t fails[RW_FAIL_MAX], enq, sent, req, dfull, d4xx;
	size_t depth;
	double last;
	unsigned int i;
	int ret;

	pthread_mutex_lock(&r->lock);
	memcpy(fails, r->failures, sizeof(fails));
	enq = r->enqueued;
	sent = r->sent;
	req = r->requests;
	dfull = r->dropped_full;
	d4xx = r->dropped_4xx;
	depth = r->queued + r->inflight;
	last = r->last_success;
	pthread_mutex_unlock(&r->lock);
	ret = wl_exp_snap_add(s, "wirelat_export_remote_write_requests_total",
		WL_EXP_COUNTER, "Remote-write requests made, answered or not",
		l, 1, (double)req, 1);
	for (i = 0; i < RW_FAIL_MAX && ret == 0; i++) {
		l[1] = (struct wl_exp_label){"reason", fail_names[i]};
		ret = wl_exp_snap_add(s,
			"wirelat_export_remote_write_failures_total",
			WL_EXP_COUNTER, "Remote-write requests that failed, by "
			"reason (http_4xx is not retried)", l, 2,
			(double)fails[i], 1);
	}
	if (ret == 0)
		ret = wl_exp_snap_add(s,
			"wirelat_export_remote_write_samples_total",
			WL_EXP_COUNTER, "Samples the receiver accepted (2xx)",
			l, 1, (double)sent, 1);
	if (ret == 0)
		ret = wl_exp_snap_add(s,
			"wirelat_export_remote_write_enqueued_samples_total",
			WL_EXP_COUNTER, "Samples put in the queue (sent + "
			"dropped + queued)", l, 1, (double)enq, 1);
	if (ret == 0)
		ret = wl_exp_snap_add(s,
			"wirelat_export_remote_write_queue_samples",
			WL_EXP_GAUGE, "Samples waiting in the queue, the one "
			"being sent included", l, 1, (double)depth, 1);
	if (ret == 0)
		ret = wl_exp_snap_add(s,
			"wirelat_export_remote_write_queue_capacity_samples",
			WL_EXP_GAUGE, "The queue's bound in samples", l, 1,
			(double)r->cap, 1);
	l[1] = (struct wl_exp_label){"reason", "queue_full"};
	if (ret == 0)
		ret = wl_exp_snap_add(s,
			"wirelat_export_remote_write_dropped_samples_total",
			WL_EXP_COUNTER, "Samples dropped: the queue was full "
			"(oldest first), or the receiver refused them (4xx)",
			l, 2, (double)dfull, 1);
	l[1] = (struct wl_exp_label){"reason", "http_4xx"};
	if (ret == 0)
		ret = wl_exp_snap_add(s,
			"wirelat_export_remote_write_dropped_samples_total",
			WL_EXP_COUNTER, NULL, l, 2, (double)d4xx, 1);
	if (ret == 0)
		ret = wl_exp_snap_add(s, "wirelat_export_remote_write_last_"
			"success_timestamp_seconds", WL_EXP_GAUGE, "When a "
			"request last succeeded (0: never)", l, 1, last, 0);
	return ret;
}

/* ---- life cycle ---- */

struct wl_rw_sender *
wl_rw_start(struct wl_export_app *app, const struct wl_cfg_rw *cfg,
	const struct wl_exp_label *labels, unsigned int n_labels)
{
	struct wl_rw_sender *r = calloc(1, sizeof(*r));
	char *tok;
	size_t n;

	if (r == NULL) {
		wl_export_log("out of memory");
		return NULL;
	}
	r->app = app;
	r->cfg = *cfg;
	r->labels = labels;
	r->n_labels = n_labels;
	url_label(cfg->url, r->url_label, sizeof(r->url_label));
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->next_tick = 0;
	if (cfg->basic_auth_password_file[0] != '\0') {
		r->password = read_secret("remote write basic_auth_password_file",
			cfg->basic_auth_password_file);
		if (r->password == NULL)
			goto fail;
	}
	if (cfg->bearer_token_file[0] != '\0') {
		tok = read_secret("remote write bearer_token_file",
			cfg->bearer_token_file);
		if (tok == NULL)
			goto fail;
		n = strlen(tok) + 32;
		r->token_header = malloc(n);
		if (r->token_header != NULL)
			snprintf(r->token_header, n, "Authorization: Bearer %s",
				tok);
		free(tok);
		if (r->token_header == NULL)
			goto fail;
	}
	r->enc = wl_exp_rw_create();
	r->snap = wl_exp_snap_create();
	if (r->enc == NULL || r->snap == NULL)
		goto fail;
	if (pthread_create(&r->thread, NULL, sender, r) != 0) {
		wl_export_log("remote write %s: cannot start its thread",
			r->url_label);
		goto fail;
	}
	r->started = 1;
	return r;
fail:
	wl_rw_stop(r);
	return NULL;
}

struct wl_exp_snap *
wl_rw_snap(struct wl_rw_sender *r)
{
	return r->snap;
}

void
wl_rw_stop(struct wl_rw_sender *r)
{
	struct batch *b;

	if (r == NULL)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->stop = 1;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	while ((b = r->head) != NULL) {
		r->head = b->next;
		free(b);
	}
	wl_exp_rw_free(r->enc);
	wl_exp_snap_free(r->snap);
	free(r->password);
	free(r->token_header);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}
