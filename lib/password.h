/*
 * Password hashing with argon2id (libargon2), encoded in the PHC string format so the
 * parameters travel with each hash and can be raised without invalidating old ones.
 */
#ifndef SEKISHO_PASSWORD_H
#define SEKISHO_PASSWORD_H

#include <stdint.h>

struct password_params {
	uint32_t t_cost;	/* iterations */
	uint32_t m_cost;	/* KiB */
	uint32_t parallelism;
};

#define PASSWORD_MAX_LEN 1024
#define PASSWORD_MIN_LEN 8

/* A new PHC string (caller frees), or NULL with *errstr set (e.g. password too long). */
char *password_hash(const struct password_params *pp, const char *password, const char **errstr);
/* 1 match, 0 mismatch, -1 malformed hash. */
int password_verify(const char *encoded, const char *password);
/* Spend the time a verification would, for unknown users, so timing reveals nothing. */
void password_dummy_verify(const struct password_params *pp, const char *password);
/* 1 when the hash was made with weaker parameters than pp (time to rehash). */
int password_needs_rehash(const char *encoded, const struct password_params *pp);
/*
 * Check length and content rules: valid UTF-8 without control characters, at least
 * PASSWORD_MIN_LEN characters (code points, not bytes), at most PASSWORD_MAX_LEN bytes.
 * 0 or -1 with *errstr.
 */
int password_check_policy(const char *password, const char **errstr);

#endif
