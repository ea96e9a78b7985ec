/*
 * API keys of a tenant (apikey.h): the key string's form, scopes and durations as people
 * write them, and creating, suspending and deleting keys for `sekisho apikey` and the
 * admin API.  The key string exists only in the creation's answer: the store keeps its
 * SHA-256.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "xmalloc.h"

#define PREFIX "sks_"
#define SECRET_BYTES 32
#define SECRET_LEN 43		/* base64url of SECRET_BYTES, unpadded */
#define DURATION_MAX (3650LL * 86400)

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const struct {
	const char *name;
	uint64_t bit;
} scope_names[] = {
	{ "read", APIKEY_SCOPE_READ },
	{ "write", APIKEY_SCOPE_WRITE },
	{ "certs", APIKEY_SCOPE_CERTS },
	{ "scim", APIKEY_SCOPE_SCIM },
};

#define NSCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

int
apikey_parse(const char *key, char id[APIKEY_ID_LEN + 1], unsigned char hash[32])
{
	const char *p, *secret;

	if (key == NULL || strlen(key) != APIKEY_STR_MAX || strncmp(key, PREFIX, strlen(PREFIX)))
		return -1;
	p = key + strlen(PREFIX);
	secret = p + APIKEY_ID_LEN + 1;
	if (strspn(p, "0123456789abcdef") != APIKEY_ID_LEN || p[APIKEY_ID_LEN] != '_' ||
	    strspn(secret, b64url_chars) != SECRET_LEN)
		return -1;
	memcpy(id, p, APIKEY_ID_LEN);
	id[APIKEY_ID_LEN] = '\0';
	crypto_sha256(key, strlen(key), hash);
	return 0;
}

static uint64_t
scope_bit(const char *word, size_t n)
{
	for (size_t i = 0; i < NSCOPES; i++)
		if (strlen(scope_names[i].name) == n && !strncmp(word, scope_names[i].name, n))
			return scope_names[i].bit;
	return 0;
}

int
apikey_scopes_parse(const char *s, uint64_t *scopes_r, const char **errstr)
{
	static __thread char msg[96];
	uint64_t scopes = 0, bit;
	size_t n;

	*scopes_r = 0;
	if (s == NULL || *s == '\0') {
		*errstr = "no scope (read, write, certs, scim)";
		return -1;
	}
	for (const char *p = s;; p += n + 1) {
		n = strcspn(p, ",");
		if ((bit = scope_bit(p, n)) == 0) {
			snprintf(msg, sizeof(msg), "unknown scope \"%.*s\" (read, write, certs, "
			    "scim)", (int)(n > 32 ? 32 : n), p);
			*errstr = msg;
			return -1;
		}
		scopes |= bit;
		if (p[n] == '\0')
			break;
	}
	*scopes_r = scopes;
	return 0;
}

char *
apikey_scopes_str(uint64_t scopes)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < NSCOPES; i++)
		if (scopes & scope_names[i].bit)
			buf_printf(&b, "%s%s", b.len ? "," : "", scope_names[i].name);
	return buf_steal(&b, NULL);
}

int
apikey_duration_parse(const char *s, int64_t *secs_r)
{
	size_t digits = s ? strspn(s, "0123456789") : 0;
	int64_t n = 0, unit;

	*secs_r = 0;
	if (digits == 0 || digits > 7 || strlen(s) != digits + 1)
		return -1;
	for (size_t i = 0; i < digits; i++)
		n = n * 10 + (s[i] - '0');
	switch (s[digits]) {
	case 'd': unit = 86400; break;
	case 'h': unit = 3600; break;
	case 'm': unit = 60; break;
	default: return -1;
	}
	if (n * unit < 60 || n * unit > DURATION_MAX)
		return -1;
	*secs_r = n * unit;
	return 0;
}

/* A new key string and its id; the caller wipes the key. */
static char *
new_key(char id[APIKEY_ID_LEN + 1])
{
	unsigned char raw[APIKEY_ID_LEN / 2], secret[SECRET_BYTES];
	char *s, *key;

	crypto_random(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), id);
	crypto_random(secret, sizeof(secret));
	s = b64url_encode(secret, sizeof(secret));
	key = xasprintf(PREFIX "%s_%s", id, s);
	freezero_str(s);
	explicit_bzero(secret, sizeof(secret));
	return key;
}

static int
check_input(struct admin *a, const struct apikey_in *in)
{
	if (in->name == NULL || !store_valid_name(in->name, STORE_NAME_MAX))
		return admin_fail(a, ADMIN_INVALID, "name", "invalid API key name (1 to %d of "
		    "A-Z a-z 0-9 . _ @ + -)", STORE_NAME_MAX);
	if (in->scopes == 0 || (in->scopes & ~(uint64_t)APIKEY_SCOPE_ALL))
		return admin_fail(a, ADMIN_INVALID, "scopes", "scopes are read, write, certs, "
		    "scim (at least one)");
	if (in->scopes & ~in->max_scopes)
		return admin_fail(a, ADMIN_FORBIDDEN, "scopes", "a key cannot have scopes its "
		    "creator does not have");
	if (in->expires_in < 0 || (in->expires_in && in->expires_in < 60) ||
	    in->expires_in > DURATION_MAX)
		return admin_fail(a, ADMIN_INVALID, "expires_in", "a key expires in 1 minute to "
		    "3650 days");
	return 0;
}

/* The record of a new key k (borrowing from in and id) and its audit entry. */
static int
store_new(struct admin *a, const struct apikey_in *in, struct apikey *k)
{
	struct audit_entry ae;
	const char *err = NULL;
	char *scopes = apikey_scopes_str(in->scopes), exp[21] = "never";
	int rc;

	if (k->expires)
		clock_iso8601((int64_t)k->expires, exp);
	admin_audit(a, &ae, "admin.apikey.create", "name", in->name, "id", k->id, "scopes",
	    scopes, "expires", exp, "trial", in->trial ? "yes" : "no", NULL);
	free(scopes);
	if ((rc = store_apikey_add(a->in->store, a->tenant, k, &ae, &err)) == 0)
		return 0;
	if (err && strstr(err, "name exists"))
		return admin_fail(a, ADMIN_CONFLICT, "name", "API key %s exists", in->name);
	return admin_fail(a, ADMIN_FAILED, NULL, "%s", err ? err : "storage error");
}

int
apikey_create(struct admin *a, const struct apikey_in *in, char **key_r, char **id_r)
{
	char id[APIKEY_ID_LEN + 1], *key;
	struct apikey k = { 0 };
	int64_t now = clock_now();

	*key_r = NULL;
	if (id_r)
		*id_r = NULL;
	if (check_input(a, in) < 0)
		return -1;
	key = new_key(id);
	k.id = id;
	k.name = (char *)in->name;
	crypto_sha256(key, strlen(key), k.hash);
	k.scopes = in->scopes;
	k.created = (uint64_t)now;
	k.expires = in->expires_in ? (uint64_t)(now + in->expires_in) : 0;
	k.trial = in->trial != 0;
	k.created_by = (char *)a->actor;
	if (store_new(a, in, &k) < 0) {
		freezero_str(key);
		return -1;
	}
	*key_r = key;
	if (id_r)
		*id_r = xstrdup(id);
	return 0;
}

int
apikey_set_suspended(struct admin *a, const char *name, int suspended)
{
	struct audit_entry ae;
	int rc;

	admin_audit(a, &ae, suspended ? "admin.apikey.suspend" : "admin.apikey.resume", "name",
	    name, NULL);
	rc = store_apikey_set_suspended(a->in->store, a->tenant, name, suspended, &ae);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "name", "no API key %s", name);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	return 0;
}

int
apikey_delete(struct admin *a, const char *name)
{
	struct audit_entry ae;
	int rc;

	admin_audit(a, &ae, "admin.apikey.delete", "name", name, NULL);
	rc = store_apikey_remove(a->in->store, a->tenant, name, &ae);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "name", "no API key %s", name);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	return 0;
}

uint64_t
apikey_calls_this_month(const struct apikey *k, int64_t now)
{
	return k->month == store_apikey_month(now * 1000) ? k->month_calls : 0;
}

const char *
apikey_state(const struct apikey *k, int64_t now)
{
	if (k->suspended)
		return "suspended";
	if (k->expires && now >= (int64_t)k->expires)
		return "expired";
	/* a clock stepped back keeps the month that ran out */
	if (k->quota_month && k->quota_month >= store_apikey_month(now * 1000))
		return "quota";
	return "active";
}
