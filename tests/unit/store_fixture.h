/*
 * The store fixture shared by the store unit tests: a fresh LMDB store in its own temporary
 * directory, raw counts read with LMDB directly, and small helpers that add records.
 */
#ifndef SEKISHO_STORE_FIXTURE_H
#define SEKISHO_STORE_FIXTURE_H

#include <stdint.h>

#include "log.h"
#include "store.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define T "acme"
#define T0 1700000000		/* an arbitrary "now" for records */

struct fx {
	char dir[200];
	struct store *st;
	struct store_settings ss;
};

/* A log sink that drops everything (failures the tests provoke on purpose). */
void quiet_sink(enum log_level level, const char *line, void *arg);
struct fx *fx_new(int64_t map_size, int64_t map_size_max);
void fx_reopen(struct fx *fx);
/* cmocka group setup/teardown: a 1 MiB store growing up to 64 MiB, logs silenced. */
int setup(void **state);
int teardown(void **state);
/* Entries in one named database, read with LMDB directly (the store is reopened). */
size_t raw_count(struct fx *fx, const char *db);
void hash_of(const char *s, unsigned char h[32]);
void add_user(struct fx *fx, const char *tenant, const char *name, const char *email);
/* The id of the user called name (new string), or NULL. */
char *user_id(struct fx *fx, const char *tenant, const char *name);
/* A session of the user called user (its id is stored; the name itself when unknown). */
void add_session(struct fx *fx, const char *cookie, const char *user, int64_t now,
    int64_t expires);
int session_exists(struct fx *fx, const char *cookie);

#endif
