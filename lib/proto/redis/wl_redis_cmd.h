/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WL_REDIS_CMD_H
#define WL_REDIS_CMD_H

/*
 * The Redis commands wirelat knows something about, one list: what each
 * is (a container of subcommands, keyless, typed inline, a pub/sub or
 * replication switch) and the reply types the documentation fixes for
 * it. Looked up by wl_redis_cmd_lookup(), a perfect hash generated at
 * build time from this list (scripts/wl-kwgen): one hash, one compare,
 * instead of walking lists per command. Upper case; the lookup ignores
 * case. Keep one _(ENUM, "NAME", flags, reply types) entry per line.
 */

#include <stdint.h>

enum {
	WL_RC_CONT = 1 << 0,    /* the second word is a subcommand */
	WL_RC_NOKEY = 1 << 1,   /* the first argument is no key */
	WL_RC_INL = 1 << 2,     /* typed inline: detection knows it */
	WL_RC_PUSH = 1 << 3,    /* the server may speak unasked (HELLO) */
	WL_RC_SUB = 1 << 4,     /* (P|S)SUBSCRIBE */
	WL_RC_UNSUB = 1 << 5,   /* (P|S)UNSUBSCRIBE */
	WL_RC_MONITOR = 1 << 6,
	WL_RC_SYNC = 1 << 7,    /* PSYNC, SYNC: replication follows */
};

/*
 * Reply types: those a command can get besides errors ("_" is RESP3's
 * null, "$" also RESP2's null bulk), NULL for any.
 */
#define foreach_wl_redis_cmd \
	_(ACL, "ACL", WL_RC_CONT, NULL) \
	_(APPEND, "APPEND", WL_RC_INL, ":") \
	_(AUTH, "AUTH", WL_RC_NOKEY | WL_RC_INL, "+") \
	_(BGREWRITEAOF, "BGREWRITEAOF", WL_RC_NOKEY, NULL) \
	_(BGSAVE, "BGSAVE", WL_RC_NOKEY, NULL) \
	_(CLIENT, "CLIENT", WL_RC_CONT | WL_RC_INL, NULL) \
	_(CLUSTER, "CLUSTER", WL_RC_CONT, NULL) \
	_(COMMAND, "COMMAND", WL_RC_CONT, NULL) \
	_(CONFIG, "CONFIG", WL_RC_CONT | WL_RC_INL, NULL) \
	_(DBSIZE, "DBSIZE", WL_RC_NOKEY | WL_RC_INL, ":") \
	_(DEBUG, "DEBUG", WL_RC_CONT, NULL) \
	_(DECR, "DECR", WL_RC_INL, ":") \
	_(DECRBY, "DECRBY", 0, ":") \
	_(DEL, "DEL", WL_RC_INL, ":") \
	_(DISCARD, "DISCARD", WL_RC_NOKEY, NULL) \
	_(ECHO, "ECHO", WL_RC_NOKEY | WL_RC_INL, NULL) \
	_(EVAL, "EVAL", WL_RC_NOKEY, NULL) \
	_(EVALSHA, "EVALSHA", WL_RC_NOKEY, NULL) \
	_(EVALSHA_RO, "EVALSHA_RO", WL_RC_NOKEY, NULL) \
	_(EVAL_RO, "EVAL_RO", WL_RC_NOKEY, NULL) \
	_(EXEC, "EXEC", WL_RC_NOKEY, NULL) \
	_(EXISTS, "EXISTS", WL_RC_INL, ":") \
	_(EXPIRE, "EXPIRE", WL_RC_INL, ":") \
	_(FCALL, "FCALL", WL_RC_NOKEY, NULL) \
	_(FLUSHALL, "FLUSHALL", WL_RC_NOKEY | WL_RC_INL, "+") \
	_(FLUSHDB, "FLUSHDB", WL_RC_NOKEY | WL_RC_INL, "+") \
	_(FUNCTION, "FUNCTION", WL_RC_CONT, NULL) \
	_(GET, "GET", WL_RC_INL, "$_") \
	_(GETDEL, "GETDEL", 0, "$_") \
	_(GETEX, "GETEX", 0, "$_") \
	_(GETSET, "GETSET", 0, "$_") \
	_(HDEL, "HDEL", 0, ":") \
	_(HELLO, "HELLO", WL_RC_NOKEY | WL_RC_INL | WL_RC_PUSH, NULL) \
	_(HGET, "HGET", WL_RC_INL, "$_") \
	_(HGETALL, "HGETALL", WL_RC_INL, NULL) \
	_(HLEN, "HLEN", 0, ":") \
	_(HSET, "HSET", WL_RC_INL, ":") \
	_(INCR, "INCR", WL_RC_INL, ":") \
	_(INCRBY, "INCRBY", 0, ":") \
	_(INFO, "INFO", WL_RC_NOKEY | WL_RC_INL, NULL) \
	_(KEYS, "KEYS", WL_RC_NOKEY | WL_RC_INL, "*") \
	_(LASTSAVE, "LASTSAVE", WL_RC_NOKEY, NULL) \
	_(LATENCY, "LATENCY", WL_RC_CONT, NULL) \
	_(LINDEX, "LINDEX", 0, "$_") \
	_(LLEN, "LLEN", 0, ":") \
	_(LPUSH, "LPUSH", WL_RC_INL, ":") \
	_(LRANGE, "LRANGE", WL_RC_INL, "*") \
	_(MEMORY, "MEMORY", WL_RC_CONT, NULL) \
	_(MGET, "MGET", WL_RC_INL, "*") \
	_(MODULE, "MODULE", WL_RC_CONT, NULL) \
	_(MONITOR, "MONITOR", WL_RC_NOKEY | WL_RC_INL | WL_RC_MONITOR, NULL) \
	_(MSET, "MSET", WL_RC_INL, "+") \
	_(MULTI, "MULTI", WL_RC_NOKEY, NULL) \
	_(OBJECT, "OBJECT", WL_RC_CONT, NULL) \
	_(PEXPIRE, "PEXPIRE", 0, ":") \
	_(PING, "PING", WL_RC_NOKEY | WL_RC_INL, NULL) \
	_(PSETEX, "PSETEX", 0, "+") \
	_(PSUBSCRIBE, "PSUBSCRIBE", WL_RC_NOKEY | WL_RC_INL | WL_RC_SUB, NULL) \
	_(PSYNC, "PSYNC", WL_RC_NOKEY | WL_RC_SYNC, NULL) \
	_(PTTL, "PTTL", 0, ":") \
	_(PUBLISH, "PUBLISH", WL_RC_NOKEY | WL_RC_INL, ":") \
	_(PUBSUB, "PUBSUB", WL_RC_CONT, NULL) \
	_(PUNSUBSCRIBE, "PUNSUBSCRIBE", WL_RC_NOKEY | WL_RC_UNSUB, NULL) \
	_(QUIT, "QUIT", WL_RC_NOKEY | WL_RC_INL, NULL) \
	_(RANDOMKEY, "RANDOMKEY", WL_RC_NOKEY, NULL) \
	_(READONLY, "READONLY", WL_RC_NOKEY, NULL) \
	_(READWRITE, "READWRITE", WL_RC_NOKEY, NULL) \
	_(REPLCONF, "REPLCONF", WL_RC_NOKEY, NULL) \
	_(REPLICAOF, "REPLICAOF", WL_RC_NOKEY, NULL) \
	_(RESET, "RESET", WL_RC_NOKEY | WL_RC_INL, NULL) \
	_(ROLE, "ROLE", WL_RC_NOKEY, NULL) \
	_(RPUSH, "RPUSH", WL_RC_INL, ":") \
	_(SADD, "SADD", WL_RC_INL, ":") \
	_(SAVE, "SAVE", WL_RC_NOKEY, NULL) \
	_(SCAN, "SCAN", WL_RC_NOKEY | WL_RC_INL, NULL) \
	_(SCARD, "SCARD", 0, ":") \
	_(SCRIPT, "SCRIPT", WL_RC_CONT, NULL) \
	_(SELECT, "SELECT", WL_RC_NOKEY | WL_RC_INL, "+") \
	_(SET, "SET", WL_RC_INL, "+$_") \
	_(SETEX, "SETEX", 0, "+") \
	_(SHUTDOWN, "SHUTDOWN", WL_RC_NOKEY, NULL) \
	_(SLAVEOF, "SLAVEOF", WL_RC_NOKEY, NULL) \
	_(SLOWLOG, "SLOWLOG", WL_RC_CONT, NULL) \
	_(SMEMBERS, "SMEMBERS", WL_RC_INL, NULL) \
	_(SPUBLISH, "SPUBLISH", WL_RC_NOKEY, NULL) \
	_(SREM, "SREM", 0, ":") \
	_(SSUBSCRIBE, "SSUBSCRIBE", WL_RC_NOKEY | WL_RC_SUB, NULL) \
	_(STRLEN, "STRLEN", 0, ":") \
	_(SUBSCRIBE, "SUBSCRIBE", WL_RC_NOKEY | WL_RC_INL | WL_RC_SUB, NULL) \
	_(SUNSUBSCRIBE, "SUNSUBSCRIBE", WL_RC_NOKEY | WL_RC_UNSUB, NULL) \
	_(SWAPDB, "SWAPDB", WL_RC_NOKEY, NULL) \
	_(SYNC, "SYNC", WL_RC_NOKEY | WL_RC_SYNC, NULL) \
	_(TIME, "TIME", WL_RC_NOKEY, NULL) \
	_(TTL, "TTL", WL_RC_INL, ":") \
	_(TYPE, "TYPE", WL_RC_INL, NULL) \
	_(UNLINK, "UNLINK", 0, ":") \
	_(UNSUBSCRIBE, "UNSUBSCRIBE", WL_RC_NOKEY | WL_RC_UNSUB, NULL) \
	_(UNWATCH, "UNWATCH", WL_RC_NOKEY, NULL) \
	_(WAIT, "WAIT", WL_RC_NOKEY, NULL) \
	_(XADD, "XADD", WL_RC_INL, NULL) \
	_(XGROUP, "XGROUP", WL_RC_CONT, NULL) \
	_(XINFO, "XINFO", WL_RC_CONT, NULL) \
	_(XRANGE, "XRANGE", WL_RC_INL, NULL) \
	_(ZADD, "ZADD", WL_RC_INL, NULL) \
	_(ZRANGE, "ZRANGE", WL_RC_INL, NULL)

enum wl_redis_cmd {
#define _(e, n, f, t) WL_REDIS_CMD_ ## e,
	foreach_wl_redis_cmd
#undef _
	WL_REDIS_CMD_MAX
};

/**
 * The command named by the n bytes at s, any case.
 * @return its enum wl_redis_cmd, or -1 when it is none of the list.
 */
int wl_redis_cmd_lookup(const char *s, uint32_t n);

/** Flags (WL_RC_*) of each command. */
extern const uint8_t wl_redis_cmd_flags[WL_REDIS_CMD_MAX];
/** Reply types of each command (the list's fourth field). */
extern const char *const wl_redis_cmd_types[WL_REDIS_CMD_MAX];
/** Name of each command. */
extern const char *const wl_redis_cmd_names[WL_REDIS_CMD_MAX];

#endif /* WL_REDIS_CMD_H */
