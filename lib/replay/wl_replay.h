/* TEMP stub: replaced by the flowdir branch */
#ifndef WL_REPLAY_H
#define WL_REPLAY_H
#include <stdint.h>
#include "wl_pkt.h"
enum wl_dir { WL_DIR_C2S = 0, WL_DIR_S2C = 1 };
struct wl_dir_info { uint8_t dir, how, is_flow, ip_version, l4proto; uint16_t l3_off, l4_off; };
#define foreach_wl_dir_counter _(flows, "flows", "x")
struct wl_dir_stats { uint64_t flows; };
struct wl_dir_table;
struct wl_dir_table *wl_dir_table_create(uint32_t max_flows);
void wl_dir_table_free(struct wl_dir_table *t);
int wl_dir_classify(struct wl_dir_table *t, const uint8_t *frame, uint32_t caplen, enum wl_link link, struct wl_dir_info *out);
void wl_dir_stats_get(const struct wl_dir_table *t, struct wl_dir_stats *st);
int wl_rewrite_client(uint8_t *frame, uint32_t caplen, const struct wl_dir_info *info, uint32_t loop);
#endif
