/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The shared-memory reader against segments anyone could have made: a
 * real segment (from wl_shm_create, with counters, series and inputs)
 * with bytes of the input written over it at an offset the input picks,
 * and cut to a length it picks; then attach, the JSON snapshot and the
 * table, as wirelat-stat does. Nothing may be read outside the mapping.
 *
 * Input: offset (2 bytes, little-endian, within the segment), length
 * (2 bytes: 0 keeps it, else the segment is cut to that many bytes),
 * then the bytes to write.
 */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wl_export.h"
#include "wl_export_model.h"
#include "wl_export_prom.h"
#include "wl_export_rw.h"
#include "wl_shm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *tmpl;
static size_t tmpl_len;
static char inst[48];
static char path[80];
static FILE *devnull;

static void
cleanup(void)
{
	wl_shm_remove(inst);
}

static size_t
read_segment(const char *name, uint8_t **out)
{
	off_t len;
	int fd;

	fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return 0;
	len = lseek(fd, 0, SEEK_END);
	*out = malloc((size_t)len);
	if (*out == NULL || pread(fd, *out, (size_t)len, 0) != len) {
		close(fd);
		return 0;
	}
	close(fd);
	return (size_t)len;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char names[3][WL_SHM_COUNTER_NAME] = {"packets", "bytes", "drops"};
	uint64_t vals[3] = {10, 600, 1};
	struct wl_shm_input in = {"x.pcap", "pcap", "ether"};
	struct wl_shm_key k;
	struct wl_shm *w;
	char err[256];
	int i;

	(void)argc;
	(void)argv;
	snprintf(inst, sizeof(inst), "fuzz-shm-%d", (int)getpid());
	snprintf(path, sizeof(path), "/wirelat-%s", inst);
	w = wl_shm_create(inst, 4, 8, NULL, err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, "fuzz_shm: %s\n", err);
		abort();
	}
	wl_shm_counters_publish(w, (const char (*)[WL_SHM_COUNTER_NAME])names,
		vals, 3);
	wl_shm_set_inputs(w, &in, 1);
	memset(&k, 0, sizeof(k));
	snprintf(k.metric, sizeof(k.metric), "duration");
	snprintf(k.proto, sizeof(k.proto), "http");
	snprintf(k.method, sizeof(k.method), "GET");
	k.server_port = 80;
	for (i = 0; i < 3; i++)
		wl_shm_series_record(w, wl_shm_series_find(w, &k), 1000u << i);
	wl_shm_set_finished(w);
	wl_shm_close(w);
	tmpl_len = read_segment(path, &tmpl);
	if (tmpl_len == 0)
		abort();
	devnull = fopen("/dev/null", "w");
	atexit(cleanup);
	return 0;
}

static int
drop(void *arg, const uint8_t *data, size_t len, size_t n)
{
	(void)arg;
	(void)data;
	(void)len;
	(void)n;
	return 0;
}

/* wirelat-export's reading of the same bytes: model, text, protobuf. */
static void
export_all(void)
{
	static const double le[] = {0.001, 1};
	struct wl_exp_opts o = {
		.buckets = WL_EXP_BUCKETS_LE | WL_EXP_BUCKETS_VMRANGE,
		.le = {le, le, le}, .n_le = {2, 2, 2}, .stale_ns = 1,
	};
	const char *names[] = {inst};
	struct wl_exp_model *m = wl_exp_model_create(&o, names, 1);
	struct wl_exp_snap *s = wl_exp_snap_create();
	struct wl_exp_rw *e = wl_exp_rw_create();
	struct wl_exp_buf b = {0};

	if (m != NULL && s != NULL && e != NULL &&
			wl_exp_model_read(m, s, 0, NULL, NULL) >= 0) {
		wl_exp_prom_render(s, &b);
		wl_exp_rw_encode(e, s, NULL, 0, 1000, 0, drop, NULL);
	}
	wl_exp_buf_free(&b);
	wl_exp_rw_free(e);
	wl_exp_snap_free(s);
	wl_exp_model_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off, len, n;
	struct wl_shm *r;
	uint8_t *buf;
	char err[256];
	json_t *j;
	int fd;

	if (size < 4)
		return 0;
	off = ((size_t)data[0] | (size_t)data[1] << 8) % tmpl_len;
	len = (size_t)data[2] | (size_t)data[3] << 8;
	len = len == 0 ? tmpl_len : len;
	data += 4;
	size -= 4;
	buf = malloc(tmpl_len);
	if (buf == NULL)
		return 0;
	memcpy(buf, tmpl, tmpl_len);
	n = size < tmpl_len - off ? size : tmpl_len - off;
	memcpy(buf + off, data, n);
	fd = shm_open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len) != 0 ||
			pwrite(fd, buf, len < tmpl_len ? len : tmpl_len, 0) < 0) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return 0;
	}
	close(fd);
	free(buf);
	r = wl_shm_attach(inst, err, sizeof(err));
	if (r != NULL) {
		j = wl_export_stats_json(r);
		json_decref(j);
		wl_export_stats_table(r, devnull);
		wl_shm_close(r);
		export_all();
	}
	return 0;
}
