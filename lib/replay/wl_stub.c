#include <stdlib.h>
#include <string.h>
#include "wl_replay.h"
struct wl_dir_table { int x; };
struct wl_dir_table *wl_dir_table_create(uint32_t m) { (void)m; return calloc(1, sizeof(struct wl_dir_table)); }
void wl_dir_table_free(struct wl_dir_table *t) { free(t); }
int wl_dir_classify(struct wl_dir_table *t, const uint8_t *f, uint32_t c, enum wl_link l, struct wl_dir_info *o) { (void)t; (void)f; (void)c; (void)l; memset(o, 0, sizeof(*o)); return 0; }
void wl_dir_stats_get(const struct wl_dir_table *t, struct wl_dir_stats *st) { (void)t; st->flows = 0; }
int wl_rewrite_client(uint8_t *f, uint32_t c, const struct wl_dir_info *i, uint32_t l) { (void)f; (void)c; (void)i; (void)l; return 0; }
