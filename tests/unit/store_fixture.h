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
/* Write the schema version ("1", "2"...) with LMDB directly; the store is left closed. */
void fx_set_schema(struct fx *fx, const char *version);
/* The schema version as stored (the store is reopened). */
char fx_schema(struct fx *fx);
/* A tenant called id (its name too), made at T0. */
void fx_add_tenant(struct fx *fx, const char *id);
void add_user(struct fx *fx, const char *tenant, const char *name, const char *email);
/* A user whose immutable id is chosen (records in tests can then name it directly). */
void add_user_with_id(struct fx *fx, const char *tenant, const char *name, const char *id);
/* The id of the user called name (new string), or NULL. */
char *user_id(struct fx *fx, const char *tenant, const char *name);
/* The device_required policy of the tenant (name NULL) or of kind's object called name. */
void set_policy(struct fx *fx, const char *kind, const char *name, const char *value);
/* The tenant's configuration generation now. */
uint64_t fx_generation(struct fx *fx, const char *tenant);
/* The tenant's audit records, "event fields" lines (a new string). */
char *fx_audit_text(struct fx *fx, const char *tenant);
/* A session of the user called user (its id is stored; the name itself when unknown). */
void add_session(struct fx *fx, const char *cookie, const char *user, int64_t now,
    int64_t expires);
int session_exists(struct fx *fx, const char *cookie);

/*
 * Hold the store's committer inside a write transaction until n write transactions are
 * queued behind it, so that those n share the next commit (group commit, store.c).
 * fx_hold_start returns once the committer is held; fx_hold_end waits for the holder.
 */
struct fx_hold;
struct fx_hold *fx_hold_start(struct fx *fx, uint64_t n);
void fx_hold_end(struct fx_hold *h);

#endif
