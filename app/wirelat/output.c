/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * JSON-lines outputs (the transaction and connection logs): buffered,
 * written with write(2), every write checked. When one fails (a full
 * disk, /dev/full, a reader that closed its pipe) it says so once, on
 * stderr, with the lines written so far; the lines after are counted,
 * not written; measuring goes on, and the exit status says it failed.
 * Knowing which lines a short write carried keeps the count exact.
 *
 * Lines are formatted in place by the streaming writer (wl_jw.h) into
 * one 1 MiB buffer and leave in one write(2) when less than OUT_ROOM is
 * free, at a line boundary. Only a line longer than OUT_ROOM (a
 * connection with thousands of requests) is split across two writes,
 * by the writer's flush callback.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "wirelat.h"
#include "wl_log.h"

#define OUT_BUF (1u << 20)
/* Room left before a line starts: a transaction line is < 4 KiB. */
#define OUT_ROOM (64u << 10)

static int out_jw_flush(struct wl_jw *w, void *arg);

int
wl_out_open(struct wl_out *o, const char *path, const char *what)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->what = what;
	if (path[0] == '\0')
		return 0;
	if (strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
		wl_strlcpy(o->name, "standard output", sizeof(o->name));
	} else {
		o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0644);
		wl_strlcpy(o->name, path, sizeof(o->name));
	}
	if (o->fd < 0) {
		wl_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	o->buf = malloc(OUT_BUF);
	if (o->buf == NULL) {
		wl_err("%s: out of memory", path);
		return -ENOMEM;
	}
	wl_jw_init(&o->jw, o->buf, OUT_BUF, out_jw_flush, o);
	return 0;
}

static uint64_t
lines_in(const char *p, size_t n)
{
	uint64_t k = 0;
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

/*
 * Write p[0, n), which holds lines whole lines. @return 0, or -errno
 * (the output has failed: said once; the lines not written counted).
 */
static int
write_all(struct wl_out *o, const char *p, size_t n, uint64_t lines)
{
	size_t done = 0;
	uint64_t whole;
	ssize_t k;

	while (done < n) {
		k = write(o->fd, p + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			/* Lines the kernel took whole are written. */
			whole = lines_in(p, done);
			o->failed = k < 0 ? errno : ENOSPC;
			o->written += whole;
			o->dropped += lines - whole;
			wl_err("%s: %s: the %s stops here, %llu lines written "
				"(measuring goes on; exit status 1)", o->name,
				strerror(o->failed), o->what,
				(unsigned long long)o->written);
			return -o->failed;
		}
		done += (size_t)k;
	}
	o->written += lines;
	return 0;
}

static int
out_write(struct wl_out *o)
{
	int ret = write_all(o, o->buf, o->jw.len, o->pending);

	o->jw.len = 0;
	o->pending = 0;
	return ret;
}

/* Inside a line longer than OUT_ROOM: the whole lines and the start of
 * this one go now; on a failure the line is counted by wl_out_end(). */
static int
out_jw_flush(struct wl_jw *w, void *arg)
{
	struct wl_out *o = arg;

	RTE_SET_USED(w);
	return out_write(o);
}

struct wl_jw *
wl_out_begin(struct wl_out *o)
{
	if (o->fd < 0)
		return NULL;
	if (o->failed) {
		o->dropped++;
		return NULL;
	}
	if (OUT_BUF - o->jw.len < OUT_ROOM && out_write(o) != 0) {
		o->dropped++;
		return NULL;
	}
	return &o->jw;
}

void
wl_out_end(struct wl_out *o)
{
	wl_jw_raw(&o->jw, "\n", 1);
	if (o->jw.err != 0)
		o->dropped++;
	else
		o->pending++;
}

int
wl_out_flush(struct wl_out *o)
{
	if (o->fd < 0 || o->failed)
		return o->failed ? -o->failed : 0;
	return out_write(o);
}

int
wl_out_close(struct wl_out *o)
{
	int ret = wl_out_flush(o);

	if (o->fd > STDOUT_FILENO && close(o->fd) != 0 && ret == 0) {
		o->failed = errno;
		wl_err("%s: %s: the %s may be incomplete", o->name,
			strerror(errno), o->what);
		ret = -o->failed;
	}
	o->fd = -1;
	free(o->buf);
	o->buf = NULL;
	return ret;
}
