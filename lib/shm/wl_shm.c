/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wl_build_config.h"
#include "wl_common.h"
#include "wl_shm.h"

#define SHM_READ_TRIES 100000
#define MAX_SERIES (1u << 20)
#define MAX_COUNTERS (1u << 16)

/*
 * The layout is read from the header once, checked against the mapped
 * size, and kept here: a reader never looks at the segment's offsets
 * and bounds again (another process may change them under it).
 */
struct wl_shm {
	uint8_t *base;
	size_t size;
	int writer;
	int lock_fd;            /* writer: its instance's lock, held */
	struct wl_shm_hdr *hdr;
	uint64_t counters_off;
	uint64_t series_off;
	uint32_t max_counters;
	uint32_t max_series;
	/* Writer only: open-addressing index of keys, private memory. */
	uint32_t idx_mask;
	int32_t *idx;
};

static inline struct wl_shm_series *
series_at(const struct wl_shm *shm, unsigned int i)
{
	return (struct wl_shm_series *)(shm->base + shm->series_off) + i;
}

static inline char (*counter_names(const struct wl_shm *shm))[WL_SHM_COUNTER_NAME]
{
	return (void *)(shm->base + shm->counters_off);
}

static inline uint64_t *
counter_values(const struct wl_shm *shm)
{
	return (uint64_t *)(shm->base + shm->counters_off +
		(uint64_t)shm->max_counters * WL_SHM_COUNTER_NAME);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * WL_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Seqlock, one writer: odd while the protected data changes. */
static inline void
seq_begin(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
seq_end(uint32_t *seq)
{
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, s + 1, __ATOMIC_RELEASE);
}

/* Copy len bytes guarded by *seq; -EAGAIN when the writer never let go. */
static int
seq_copy(const uint32_t *seq, void *dst, const void *src, size_t len)
{
	uint32_t s1, s2;
	int i;

	for (i = 0; i < SHM_READ_TRIES; i++) {
		s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		memcpy(dst, src, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return 0;
	}
	return -EAGAIN;
}

int
wl_shm_instance_check(const char *instance)
{
	return wl_instance_name_ok(instance) ? 0 : -EINVAL;
}

static int
instance_bad(const char *instance, char *err, size_t errlen)
{
	if (wl_shm_instance_check(instance) == 0)
		return 0;
	snprintf(err, errlen, "instance \"%s\": use 1 to %d of [A-Za-z0-9_.-]",
		instance, WL_SHM_INSTANCE_LEN - 1);
	return 1;
}

static void
shm_name(const char *instance, char *buf, size_t size)
{
	snprintf(buf, size, "/wirelat-%s", instance);
}

/* The instance's writer lock, beside its segment. */
static void
lock_name(const char *instance, char *buf, size_t size)
{
	snprintf(buf, size, "/wirelat-%s.lock", instance);
}

static uint64_t
page_align(uint64_t v)
{
	return (v + 4095) & ~(uint64_t)4095;
}

static uint32_t
key_hash(const struct wl_shm_key *k)
{
	/* Looked up for every value of every transaction. */
	uint64_t h = wl_hash_words(k, sizeof(*k));

	_Static_assert(sizeof(*k) % sizeof(uint64_t) == 0, "key in words");
	return (uint32_t)(h ^ (h >> 29) ^ (h >> 47));
}

/*
 * One writer per instance: a lock file beside the segment, locked for
 * the writer's life (flock: released by the kernel if it dies). The
 * segment itself is replaced by each run, so it cannot carry the lock.
 * @return the locked fd, or -1 with err set (naming the running pid).
 */
static int
writer_lock(const char *instance, char *err, size_t errlen)
{
	char name[96];
	int fd, pid = 0;

	lock_name(instance, name, sizeof(name));
	fd = shm_open(name, O_CREAT | O_RDWR, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "instance \"%s\": lock %s: %s", instance,
			name, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (pread(fd, &pid, sizeof(pid), 0) != sizeof(pid))
			pid = 0;
		snprintf(err, errlen, "instance \"%s\" is in use by a running "
			"wirelat (pid %d): pick another --instance", instance,
			pid);
		close(fd);
		return -1;
	}
	pid = (int)getpid();
	if (pwrite(fd, &pid, sizeof(pid), 0) != sizeof(pid)) {
		snprintf(err, errlen, "instance \"%s\": lock %s: %s", instance,
			name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct wl_shm *
wl_shm_create(const char *instance, uint32_t max_series,
	uint32_t max_counters, const char *group, char *err, size_t errlen)
{
	char name[80];
	struct wl_shm *shm;
	uint64_t cnt_off, ser_off, total;
	uint32_t slots;
	void *p;
	int fd;

	if (instance_bad(instance, err, errlen))
		return NULL;
	if (max_series == 0 || max_series > MAX_SERIES || max_counters == 0 ||
			max_counters > MAX_COUNTERS) {
		snprintf(err, errlen, "shm: max_series %u / max_counters %u out "
			"of range", max_series, max_counters);
		return NULL;
	}
	cnt_off = page_align(sizeof(struct wl_shm_hdr));
	ser_off = page_align(cnt_off + (uint64_t)max_counters *
		(WL_SHM_COUNTER_NAME + sizeof(uint64_t)));
	total = ser_off + (uint64_t)max_series * sizeof(struct wl_shm_series);

	shm = calloc(1, sizeof(*shm));
	for (slots = 1; slots < 2 * max_series; slots <<= 1)
		;
	if (shm != NULL) {
		shm->lock_fd = -1;
		shm->idx = malloc(slots * sizeof(*shm->idx));
	}
	if (shm == NULL || shm->idx == NULL) {
		snprintf(err, errlen, "shm: out of memory");
		goto fail;
	}
	memset(shm->idx, 0xff, slots * sizeof(*shm->idx));
	shm->idx_mask = slots - 1;
	shm->lock_fd = writer_lock(instance, err, errlen);
	if (shm->lock_fd < 0)
		goto fail;

	/* A new run replaces the old segment instead of reusing it, so a
	 * reader still attached keeps a consistent (old) view. */
	shm_name(instance, name, sizeof(name));
	shm_unlink(name);
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "shm %s: %s", name, strerror(errno));
		goto fail;
	}
	/* Readable by the group's members whatever the umask: that is its
	 * purpose; by nobody else. */
	if (group != NULL && group[0] != '\0') {
		const struct group *g = getgrnam(group);

		if (g == NULL || fchown(fd, (uid_t)-1, g->gr_gid) != 0) {
			snprintf(err, errlen, "shm %s: group \"%s\": %s", name,
				group, g == NULL ? "no such group" :
				strerror(errno));
			close(fd);
			shm_unlink(name);
			goto fail;
		}
	}
	if (fchmod(fd, 0640) != 0 || ftruncate(fd, (off_t)total) != 0) {
		snprintf(err, errlen, "shm %s: %s (%" PRIu64 " bytes)", name,
			strerror(errno), total);
		close(fd);
		shm_unlink(name);
		goto fail;
	}
	p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "shm %s: mmap: %s", name, strerror(errno));
		shm_unlink(name);
		goto fail;
	}
	shm->base = p;
	shm->size = total;
	shm->writer = 1;
	shm->hdr = p;
	shm->counters_off = cnt_off;
	shm->series_off = ser_off;
	shm->max_counters = max_counters;
	shm->max_series = max_series;
	shm->hdr->hdr_size = sizeof(struct wl_shm_hdr);
	shm->hdr->series_size = sizeof(struct wl_shm_series);
	shm->hdr->total_size = total;
	shm->hdr->counters_off = cnt_off;
	shm->hdr->series_off = ser_off;
	shm->hdr->max_series = max_series;
	shm->hdr->max_counters = max_counters;
	shm->hdr->pid = (int32_t)getpid();
	shm->hdr->created_ns = now_ns();
	shm->hdr->updated_ns = shm->hdr->created_ns;
	wl_strlcpy(shm->hdr->instance, instance, sizeof(shm->hdr->instance));
	wl_strlcpy(shm->hdr->wirelat_version, WL_VERSION,
		sizeof(shm->hdr->wirelat_version));
	shm->hdr->version = WL_SHM_VERSION;
	/* Magic last: a reader that sees it sees a complete header. */
	__atomic_store_n(&shm->hdr->magic, WL_SHM_MAGIC, __ATOMIC_RELEASE);
	return shm;
fail:
	if (shm != NULL) {
		if (shm->lock_fd >= 0)
			close(shm->lock_fd);
		free(shm->idx);
	}
	free(shm);
	return NULL;
}

int
wl_shm_metric_add(struct wl_shm *shm, const struct wl_metric_def *def)
{
	struct wl_shm_hdr *h = shm->hdr;
	struct wl_shm_metric *m;
	uint32_t i, n = h->n_metrics;

	if (def->name == NULL || def->export_name == NULL ||
			strlen(def->name) >= sizeof(m->name) ||
			strlen(def->export_name) >= sizeof(m->export_name) ||
			(def->method_label != NULL &&
			strlen(def->method_label) >= sizeof(m->method_label)))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (strcmp(h->metrics[i].name, def->name) == 0)
			return 0;
	if (n >= WL_SHM_MAX_METRICS)
		return -ENOSPC;
	m = &h->metrics[n];
	memset(m, 0, sizeof(*m));
	wl_strlcpy(m->name, def->name, sizeof(m->name));
	wl_strlcpy(m->export_name, def->export_name, sizeof(m->export_name));
	if (def->method_label != NULL)
		wl_strlcpy(m->method_label, def->method_label,
			sizeof(m->method_label));
	m->unit = def->unit;
	if (def->help != NULL)
		wl_strlcpy(m->help, def->help, sizeof(m->help));
	__atomic_store_n(&h->n_metrics, n + 1, __ATOMIC_RELEASE);
	return 0;
}

int
wl_shm_series_find(struct wl_shm *shm, const struct wl_shm_key *key)
{
	uint32_t h = key_hash(key) & shm->idx_mask;
	struct wl_shm_series *s;
	uint32_t n;

	for (;; h = (h + 1) & shm->idx_mask) {
		int32_t i = shm->idx[h];

		if (i < 0)
			break;
		if (memcmp(&series_at(shm, (unsigned int)i)->key, key,
				sizeof(*key)) == 0)
			return i;
	}
	n = shm->hdr->n_series;
	if (n >= shm->max_series)
		return -ENOSPC;
	s = series_at(shm, n);
	s->key = *key;
	wl_hist_init(&s->h);
	shm->idx[h] = (int32_t)n;
	__atomic_store_n(&shm->hdr->n_series, n + 1, __ATOMIC_RELEASE);
	return (int)n;
}

void
wl_shm_series_record(struct wl_shm *shm, int idx, uint64_t v)
{
	struct wl_shm_series *s = series_at(shm, (unsigned int)idx);

	seq_begin(&s->seq);
	wl_hist_record(&s->h, v);
	seq_end(&s->seq);
}

void
wl_shm_counters_publish(struct wl_shm *shm,
	const char (*names)[WL_SHM_COUNTER_NAME], const uint64_t *values,
	unsigned int n)
{
	struct wl_shm_hdr *hdr = shm->hdr;

	if (n > shm->max_counters)
		n = shm->max_counters;
	seq_begin(&hdr->seq);
	memcpy(counter_names(shm), names, (size_t)n * WL_SHM_COUNTER_NAME);
	memcpy(counter_values(shm), values, (size_t)n * sizeof(uint64_t));
	hdr->n_counters = n;
	hdr->updated_ns = now_ns();
	seq_end(&hdr->seq);
}

void
wl_shm_set_span(struct wl_shm *shm, uint64_t first_ns, uint64_t last_ns)
{
	seq_begin(&shm->hdr->seq);
	shm->hdr->first_ns = first_ns;
	shm->hdr->last_ns = last_ns;
	seq_end(&shm->hdr->seq);
}

void
wl_shm_set_inputs(struct wl_shm *shm, const struct wl_shm_input *in,
	unsigned int n)
{
	if (n > WL_SHM_MAX_INPUTS)
		n = WL_SHM_MAX_INPUTS;
	seq_begin(&shm->hdr->seq);
	memcpy(shm->hdr->inputs, in, n * sizeof(*in));
	shm->hdr->n_inputs = n;
	seq_end(&shm->hdr->seq);
}

void
wl_shm_set_finished(struct wl_shm *shm)
{
	seq_begin(&shm->hdr->seq);
	shm->hdr->finished = 1;
	shm->hdr->updated_ns = now_ns();
	seq_end(&shm->hdr->seq);
}

void
wl_shm_close(struct wl_shm *shm)
{
	if (shm == NULL)
		return;
	munmap(shm->base, shm->size);
	if (shm->writer && shm->lock_fd >= 0)
		close(shm->lock_fd);    /* the lock goes with it */
	free(shm->idx);
	free(shm);
}

/* ---- readers ---- */

struct wl_shm *
wl_shm_attach(const char *instance, char *err, size_t errlen)
{
	struct wl_shm_hdr *h;
	struct wl_shm *shm;
	struct stat st;
	char name[80];
	void *p;
	int fd;

	if (instance_bad(instance, err, errlen))
		return NULL;
	shm_name(instance, name, sizeof(name));
	fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0) {
		snprintf(err, errlen, "instance \"%s\": %s%s", instance,
			strerror(errno), errno == ENOENT ?
			" (no wirelat has run with this instance)" : "");
		return NULL;
	}
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(*h)) {
		close(fd);
		snprintf(err, errlen, "instance \"%s\": segment %s too small",
			instance, name);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "instance \"%s\": mmap: %s", instance,
			strerror(errno));
		return NULL;
	}
	h = p;
	shm = calloc(1, sizeof(*shm));
	if (shm == NULL) {
		munmap(p, (size_t)st.st_size);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	shm->lock_fd = -1;
	/* Never trust the layout: the segment may be from another version,
	 * truncated, or made by anyone to crash the reader. Each bound is
	 * checked alone (no sum can wrap), then kept. */
	shm->counters_off = __atomic_load_n(&h->counters_off, __ATOMIC_RELAXED);
	shm->series_off = __atomic_load_n(&h->series_off, __ATOMIC_RELAXED);
	shm->max_counters = __atomic_load_n(&h->max_counters,
		__ATOMIC_RELAXED);
	shm->max_series = __atomic_load_n(&h->max_series, __ATOMIC_RELAXED);
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != WL_SHM_MAGIC ||
			h->version != WL_SHM_VERSION ||
			h->hdr_size != sizeof(*h) ||
			h->series_size != sizeof(struct wl_shm_series) ||
			h->total_size != (uint64_t)st.st_size ||
			shm->max_counters > MAX_COUNTERS ||
			shm->max_series > MAX_SERIES ||
			shm->counters_off < sizeof(*h) ||
			shm->counters_off > (uint64_t)st.st_size ||
			shm->series_off < shm->counters_off ||
			shm->series_off > (uint64_t)st.st_size ||
			(uint64_t)shm->max_counters * (WL_SHM_COUNTER_NAME + 8) >
				shm->series_off - shm->counters_off ||
			(uint64_t)shm->max_series *
				sizeof(struct wl_shm_series) >
				(uint64_t)st.st_size - shm->series_off ||
			shm->series_off % _Alignof(struct wl_shm_series) != 0 ||
			shm->counters_off % 8 != 0) {
		free(shm);
		munmap(p, (size_t)st.st_size);
		snprintf(err, errlen, "instance \"%s\": segment %s is not a "
			"wirelat layout version %u", instance, name,
			WL_SHM_VERSION);
		return NULL;
	}
	shm->base = p;
	shm->size = (size_t)st.st_size;
	shm->hdr = h;
	return shm;
}

int
wl_shm_read_hdr(const struct wl_shm *shm, struct wl_shm_hdr *hdr)
{
	int ret = seq_copy(&shm->hdr->seq, hdr, shm->hdr, sizeof(*hdr));

	if (ret == 0) {
		/* The layout as checked at attach, whatever it says now. */
		hdr->counters_off = shm->counters_off;
		hdr->series_off = shm->series_off;
		hdr->max_counters = shm->max_counters;
		hdr->max_series = shm->max_series;
		if (hdr->n_inputs > WL_SHM_MAX_INPUTS)
			hdr->n_inputs = WL_SHM_MAX_INPUTS;
		if (hdr->n_metrics > WL_SHM_MAX_METRICS)
			hdr->n_metrics = WL_SHM_MAX_METRICS;
		if (hdr->n_counters > shm->max_counters)
			hdr->n_counters = shm->max_counters;
		hdr->n_series = __atomic_load_n(&shm->hdr->n_series,
			__ATOMIC_ACQUIRE);
		if (hdr->n_series > shm->max_series)
			hdr->n_series = shm->max_series;
		hdr->instance[sizeof(hdr->instance) - 1] = '\0';
		hdr->wirelat_version[sizeof(hdr->wirelat_version) - 1] = '\0';
	}
	return ret;
}

int
wl_shm_read_series(const struct wl_shm *shm, unsigned int idx,
	struct wl_shm_series *out)
{
	const struct wl_shm_series *s;
	int ret;

	if (idx >= __atomic_load_n(&shm->hdr->n_series, __ATOMIC_ACQUIRE) ||
			idx >= shm->max_series)
		return -ERANGE;
	s = series_at(shm, idx);
	ret = seq_copy(&s->seq, out, s, sizeof(*out));
	if (ret == 0) {
		/* Strings from another process: terminate them. */
		out->key.metric[sizeof(out->key.metric) - 1] = '\0';
		out->key.proto[sizeof(out->key.proto) - 1] = '\0';
		out->key.method[sizeof(out->key.method) - 1] = '\0';
	}
	return ret;
}

int
wl_shm_fold_series(const struct wl_shm *shm, unsigned int idx,
	struct wl_shm_series *out,
	void (*fold)(void *arg, const struct wl_shm_series *head,
		const uint64_t *b),
	void *arg)
{
	const size_t head = offsetof(struct wl_shm_series, h.b);
	const struct wl_shm_series *s;
	uint32_t s1, s2;
	int i;

	if (idx >= __atomic_load_n(&shm->hdr->n_series, __ATOMIC_ACQUIRE) ||
			idx >= shm->max_series)
		return -ERANGE;
	s = series_at(shm, idx);
	for (i = 0; i < SHM_READ_TRIES; i++) {
		s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		memcpy(out, s, head);
		/* Terminated before fold reads them, torn or not. */
		out->key.metric[sizeof(out->key.metric) - 1] = '\0';
		out->key.proto[sizeof(out->key.proto) - 1] = '\0';
		out->key.method[sizeof(out->key.method) - 1] = '\0';
		fold(arg, out, s->h.b);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
		if (s1 == s2)
			return 0;
	}
	return -EAGAIN;
}

int
wl_shm_read_metrics(const struct wl_shm *shm, struct wl_shm_metric *out,
	unsigned int max)
{
	uint32_t i, n = __atomic_load_n(&shm->hdr->n_metrics, __ATOMIC_ACQUIRE);

	/* Written once before n_metrics grew past them: no retry. */
	n = WL_MIN(WL_MIN(n, (uint32_t)WL_SHM_MAX_METRICS), max);
	memcpy(out, shm->hdr->metrics, (size_t)n * sizeof(*out));
	for (i = 0; i < n; i++) {
		out[i].name[sizeof(out[i].name) - 1] = '\0';
		out[i].export_name[sizeof(out[i].export_name) - 1] = '\0';
		out[i].method_label[sizeof(out[i].method_label) - 1] = '\0';
		out[i].help[sizeof(out[i].help) - 1] = '\0';
	}
	return (int)n;
}

int
wl_shm_read_counters(const struct wl_shm *shm,
	char (*names)[WL_SHM_COUNTER_NAME], uint64_t *values, unsigned int max)
{
	const struct wl_shm_hdr *h = shm->hdr;
	uint32_t s1, s2, n;
	unsigned int i;
	int t;

	for (t = 0; t < SHM_READ_TRIES; t++) {
		s1 = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		n = WL_MIN(WL_MIN(h->n_counters, shm->max_counters), max);
		memcpy(names, counter_names(shm), (size_t)n * WL_SHM_COUNTER_NAME);
		memcpy(values, counter_values(shm), (size_t)n * sizeof(*values));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&h->seq, __ATOMIC_RELAXED);
		if (s1 == s2) {
			for (i = 0; i < n; i++)
				names[i][WL_SHM_COUNTER_NAME - 1] = '\0';
			return (int)n;
		}
	}
	return -EAGAIN;
}

int
wl_shm_remove(const char *instance)
{
	char name[80], lock[96];
	int fd;

	if (wl_shm_instance_check(instance) != 0)
		return -EINVAL;
	lock_name(instance, lock, sizeof(lock));
	fd = shm_open(lock, O_RDWR, 0);
	if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			close(fd);
			return -EBUSY;  /* its writer runs */
		}
		shm_unlink(lock);
		close(fd);
	}
	shm_name(instance, name, sizeof(name));
	return shm_unlink(name) == 0 ? 0 : -errno;
}
