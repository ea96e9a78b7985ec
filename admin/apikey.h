/*
 * API keys of a tenant: what a key looks like, its scopes, and creating, listing,
 * suspending and deleting keys (shared by `sekisho apikey` and /api/v1/apikeys).
 * A key is "sks_" + its id (16 hex digits, the public part, stored in the clear) + "_" +
 * 43 base64url characters (32 random bytes); only the SHA-256 of the whole string is
 * stored.  Use is counted by store_apikey_hit (store.h).
 */
#ifndef SEKISHO_APIKEY_H
#define SEKISHO_APIKEY_H

#include <stddef.h>
#include <stdint.h>

#include "admin.h"
#include "store.h"

#define APIKEY_ID_LEN 16	/* hex digits */
#define APIKEY_STR_MAX 64	/* "sks_" + id + "_" + 43 */

/*
 * Parse a key string as sent (Authorization: Bearer KEY): its id into id (NUL-terminated)
 * and the SHA-256 of the whole string into hash.  0, or -1 when it is not of that form.
 */
int apikey_parse(const char *key, char id[APIKEY_ID_LEN + 1], unsigned char hash[32]);
/* "read,write" -> bits (APIKEY_SCOPE_*): 0, or -1 naming the bad word in *errstr. */
int apikey_scopes_parse(const char *s, uint64_t *scopes_r, const char **errstr);
/* Bits -> "read,write" (new string). */
char *apikey_scopes_str(uint64_t scopes);
/* "90d", "12h", "30m" -> seconds: 0, or -1. */
int apikey_duration_parse(const char *s, int64_t *secs_r);

struct apikey_in {
	const char *name;
	uint64_t scopes;
	int64_t expires_in;	/* seconds from now, 0: never */
	int trial;
	uint64_t max_scopes;	/* the creator's own scopes (a key cannot grant more); ~0 for the CLI */
};
/*
 * Create a key: the key string in *key_r (new; shown once, then wiped by the caller) and
 * its id in *id_r (new, may be NULL).  0, or -1 after admin_fail.
 */
int apikey_create(struct admin *a, const struct apikey_in *in, char **key_r, char **id_r);
int apikey_set_suspended(struct admin *a, const char *name, int suspended);
int apikey_delete(struct admin *a, const char *name);
/* Allowed calls of k in the month of now (seconds): its count, or 0 when it counted another. */
uint64_t apikey_calls_this_month(const struct apikey *k, int64_t now);
/* A key's state for people: "active", "suspended", "expired", "quota" (over its month). */
const char *apikey_state(const struct apikey *k, int64_t now);

#endif
