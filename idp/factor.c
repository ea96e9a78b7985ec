/*
 * Second factors and password resets as Sekisho keeps them: TOTP seeds sealed with the
 * master key and bound to their record, recovery codes stored only as hashes, reset
 * tokens that only the link holds (the store keeps their SHA-256), and the bilingual
 * mails that carry a link or report a recovery code's use.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "factor.h"
#include "log.h"
#include "pwquality.h"
#include "totp.h"
#include "xmalloc.h"

#define FACTOR_ID_BYTES 8
#define RECOVERY_DIGITS 16	/* base32 digits of a code: 80 bits */
#define RECOVERY_BYTES 10

/* ---- TOTP ---- */

/* A label: 1..FACTOR_LABEL_MAX characters of UTF-8 without control characters. */
static int
label_ok(const char *label)
{
	long n = pwquality_chars(label);

	if (n < 1 || n > FACTOR_LABEL_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)label; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* "totp:TENANT:USER-ID:FACTOR-ID": a sealed seed opens only in its own record. */
static char *
totp_aad(const char *tenant, const char *user_id, const char *id)
{
	return xasprintf("totp:%s:%s:%s", tenant, user_id, id);
}

static char *
new_factor_id(void)
{
	unsigned char r[FACTOR_ID_BYTES];
	char hex[2 * FACTOR_ID_BYTES + 1];

	crypto_random(r, sizeof(r));
	hex_encode(r, sizeof(r), hex);
	return xstrdup(hex);
}

/* Store the seed of a new factor; 0 or -1 *errstr. */
static int
totp_store(struct instance *in, const char *tenant, const char *user_id, const char *id,
    const char *label, int pending, const unsigned char *seed,
    const struct audit_entry *ae, const char **errstr)
{
	struct factor f = { 0 };
	char *ad = totp_aad(tenant, user_id, id);
	int rc;

	f.id = (char *)id;
	f.user = (char *)user_id;
	f.kind = FACTOR_TOTP;
	f.label = (char *)label;
	f.created = (uint64_t)clock_now();
	f.pending = pending != 0;
	f.secret = crypto_seal(in->master, ad, strlen(ad), seed, TOTP_SECRET_LEN,
	    &f.secret_len);
	rc = store_factor_add(in->store, tenant, &f, ae, NULL, errstr);
	free(f.secret);
	free(ad);
	return rc == 0 ? 0 : -1;
}

/* The otpauth URI of seed for u, and its base32 form when secret_b32_r is not NULL. */
static char *
seed_uri(const char *tenant, const struct user *u, const unsigned char *seed, size_t len,
    char **secret_b32_r)
{
	char *issuer = xasprintf("Sekisho %s", tenant), *uri;

	uri = totp_uri(issuer, u->name, seed, len);
	free(issuer);
	if (secret_b32_r)
		*secret_b32_r = totp_base32(seed, len);
	return uri;
}

char *
factor_totp_uri(struct instance *in, const char *tenant, const struct user *u, const char *id,
    char **secret_b32_r)
{
	struct factor f;
	unsigned char *seed = NULL;
	char *ad, *uri = NULL;
	size_t len = 0;

	if (store_factor_get(in->store, tenant, u->id, id, &f) != 1)
		return NULL;
	ad = totp_aad(tenant, u->id, id);
	if (f.kind == FACTOR_TOTP)
		seed = crypto_open(in->master, ad, strlen(ad), f.secret, f.secret_len, &len);
	if (seed)
		uri = seed_uri(tenant, u, seed, len, secret_b32_r);
	freezero(seed, len);
	free(ad);
	store_factor_clear(&f);
	return uri;
}

int
factor_totp_create(struct instance *in, const char *tenant, const struct user *u,
    const char *label, int pending, const struct audit_entry *ae, char **id_r, char **uri_r,
    char **secret_b32_r, const char **errstr)
{
	unsigned char seed[TOTP_SECRET_LEN];
	char *id;

	if (label == NULL)
		label = "TOTP";
	if (!label_ok(label)) {
		*errstr = "a label is 1-64 characters without control characters";
		return -1;
	}
	crypto_random(seed, sizeof(seed));
	id = new_factor_id();
	if (totp_store(in, tenant, u->id, id, label, pending, seed, ae, errstr) == -1) {
		explicit_bzero(seed, sizeof(seed));
		free(id);
		return -1;
	}
	*uri_r = seed_uri(tenant, u, seed, sizeof(seed), secret_b32_r);
	explicit_bzero(seed, sizeof(seed));
	if (id_r)
		*id_r = id;
	else
		free(id);
	return 0;
}

/* A code as typed: "123 456" and "123456" alike; 0 when it is not six digits. */
static int
totp_normalize(const char *code, char out[TOTP_DIGITS + 1])
{
	size_t n = 0;

	for (; *code; code++) {
		if (*code == ' ')
			continue;
		if (!isdigit((unsigned char)*code) || n == TOTP_DIGITS)
			return 0;
		out[n++] = *code;
	}
	out[n] = '\0';
	return n == TOTP_DIGITS;
}

/* The TOTP factors a check looks at: (id, sealed seed) pairs. */
struct totp_set {
	const char *only;	/* this factor, pending or not; NULL: every active one */
	size_t n;
	struct factor f[64];
};

static void
collect_totp(const void *rec, void *arg)
{
	const struct factor *f = rec;
	struct totp_set *s = arg;

	if (f->kind != FACTOR_TOTP || s->n == sizeof(s->f) / sizeof(s->f[0]))
		return;
	if (s->only ? strcmp(f->id, s->only) != 0 : f->pending != 0)
		return;
	s->f[s->n].id = xstrdup(f->id);
	s->f[s->n].secret = xmemdup(f->secret, f->secret_len);
	s->f[s->n++].secret_len = f->secret_len;
}

static void
totp_set_clear(struct totp_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->f[i].id);
		free(s->f[i].secret);
	}
	s->n = 0;
}

/* code against one factor: its matching time step; 1, 0 no match, -1 seed not opening. */
static int
totp_match(struct instance *in, const char *tenant, const char *user_id,
    const struct factor *f, const char *code, int64_t now, uint64_t *step_r)
{
	char *ad = totp_aad(tenant, user_id, f->id);
	unsigned char *seed;
	size_t len;
	int rc;

	seed = crypto_open(in->master, ad, strlen(ad), f->secret, f->secret_len, &len);
	free(ad);
	if (seed == NULL) {
		log_error("tenant %s: the seed of TOTP factor %s does not open", tenant, f->id);
		return -1;
	}
	rc = totp_verify(seed, len, now, code, step_r);
	freezero(seed, len);
	return rc;
}

int
factor_totp_check(struct instance *in, const char *tenant, const char *user_id,
    const char *id, const char *code, int64_t now, const struct audit_entry *ae, char **id_r)
{
	struct totp_set *s;
	char digits[TOTP_DIGITS + 1];
	uint64_t step;
	int rc = 0, m = 0;

	if (code == NULL || !totp_normalize(code, digits))
		return 0;
	s = xcalloc(1, sizeof(*s));
	s->only = id;
	if (store_factor_list(in->store, tenant, user_id, collect_totp, s) < 0)
		m = -1;
	for (size_t i = 0; m != -1 && i < s->n; i++) {
		/* A seed that does not open is logged; the others still count. */
		if (totp_match(in, tenant, user_id, &s->f[i], digits, now, &step) != 1)
			continue;
		/* Matched: the store refuses a replay or an older step in the same write. */
		rc = store_totp_accept(in->store, tenant, user_id, s->f[i].id, step, now, ae);
		if (rc == 1 && id_r)
			*id_r = xstrdup(s->f[i].id);
		break;
	}
	if (m == -1)
		rc = -1;
	explicit_bzero(digits, sizeof(digits));
	totp_set_clear(s);
	free(s);
	return rc;
}

/* ---- recovery codes ---- */

/* SHA-256 of "sekisho-recovery\0" USER-ID "\0" CODE: a code of one user is no other's. */
static void
recovery_hash(const char *user_id, const char *normal, unsigned char out[CRYPTO_SHA256_LEN])
{
	static const char prefix[] = "sekisho-recovery";
	struct buf b;

	buf_init(&b, 0);
	buf_append(&b, prefix, sizeof(prefix));
	buf_append(&b, user_id, strlen(user_id) + 1);
	buf_puts(&b, normal);
	crypto_sha256(b.data, b.len, out);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
}

/* One new code: as shown into text ("abcd-efgh-..."), normalized into normal. */
static void
recovery_make(char text[RECOVERY_CODE_LEN + 1], char normal[RECOVERY_DIGITS + 1])
{
	unsigned char r[RECOVERY_BYTES];
	char *b32;
	size_t k = 0;

	crypto_random(r, sizeof(r));
	b32 = totp_base32(r, sizeof(r));
	explicit_bzero(r, sizeof(r));
	memcpy(normal, b32, RECOVERY_DIGITS);
	normal[RECOVERY_DIGITS] = '\0';
	for (size_t i = 0; i < RECOVERY_DIGITS; i++) {
		if (i && i % 4 == 0)
			text[k++] = '-';
		text[k++] = (char)tolower((unsigned char)b32[i]);
	}
	text[k] = '\0';
	freezero_str(b32);
}

int
factor_recovery_new(struct instance *in, const char *tenant, const char *user_id,
    char codes[FACTOR_RECOVERY_CODES][RECOVERY_CODE_LEN + 1], const struct audit_entry *ae,
    const char **errstr)
{
	unsigned char hashes[FACTOR_RECOVERY_CODES * CRYPTO_SHA256_LEN];
	char normal[RECOVERY_DIGITS + 1];
	struct factor f = { 0 };
	int rc;

	for (int i = 0; i < FACTOR_RECOVERY_CODES; i++) {
		recovery_make(codes[i], normal);
		recovery_hash(user_id, normal, hashes + i * CRYPTO_SHA256_LEN);
	}
	explicit_bzero(normal, sizeof(normal));
	f.user = (char *)user_id;
	f.kind = FACTOR_RECOVERY;
	f.label = (char *)"recovery";
	f.created = (uint64_t)clock_now();
	f.secret = hashes;
	f.secret_len = sizeof(hashes);
	rc = store_factor_add(in->store, tenant, &f, ae, NULL, errstr);
	if (rc != 0)
		for (int i = 0; i < FACTOR_RECOVERY_CODES; i++)
			explicit_bzero(codes[i], RECOVERY_CODE_LEN + 1);
	return rc == 0 ? 0 : -1;
}

/* code without spaces and hyphens, upper case; 0 when it cannot be a recovery code. */
static int
recovery_normalize(const char *code, char out[RECOVERY_DIGITS + 1])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t n = 0;
	char ch;

	for (; *code; code++) {
		if (*code == ' ' || *code == '-')
			continue;
		ch = (char)toupper((unsigned char)*code);
		if (n == RECOVERY_DIGITS || ch == '\0' || strchr(alphabet, ch) == NULL)
			return 0;
		out[n++] = ch;
	}
	out[n] = '\0';
	return n == RECOVERY_DIGITS;
}

int
factor_recovery_use(struct instance *in, const char *tenant, const char *user_id,
    const char *code, int64_t now, const struct audit_entry *ae, int *left_r)
{
	char normal[RECOVERY_DIGITS + 1];
	unsigned char h[CRYPTO_SHA256_LEN];
	int ok;

	ok = code != NULL && recovery_normalize(code, normal);
	if (ok)
		recovery_hash(user_id, normal, h);
	explicit_bzero(normal, sizeof(normal));
	if (!ok)
		return 0;
	return store_recovery_use(in->store, tenant, user_id, h, now, ae, left_r);
}

/* ---- password reset ---- */

#define RESET_TOKEN_BYTES 32

int
factor_reset_issue(struct instance *in, const char *tenant, const char *user_id,
    char **token_r)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	int64_t now = clock_now();
	struct challenge ch = { .kind = (char *)"reset", .user = (char *)user_id,
		.created = (uint64_t)now, .expires = (uint64_t)(now + RESET_TOKEN_LIFETIME) };
	char *token;

	*token_r = NULL;
	if (store_challenge_drop_user(in->store, tenant, "reset", user_id) == -1)
		return -1;
	token = crypto_random_token(RESET_TOKEN_BYTES);
	factor_reset_hash(token, h);
	if (store_challenge_put(in->store, tenant, h, &ch) == -1) {
		freezero_str(token);
		return -1;
	}
	*token_r = token;
	return 0;
}

void
factor_reset_hash(const char *token, unsigned char h_r[CRYPTO_SHA256_LEN])
{
	crypto_sha256(token, strlen(token), h_r);
}

int
factor_reset_take(struct instance *in, const char *tenant, const char *token, int64_t now,
    char **user_id_r)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	struct challenge ch;
	int rc;

	*user_id_r = NULL;
	if (token == NULL || strlen(token) > 128)
		return 0;
	factor_reset_hash(token, h);
	rc = store_challenge_take(in->store, tenant, h, now, &ch);
	if (rc == 1 && (ch.kind == NULL || strcmp(ch.kind, "reset") || ch.user == NULL))
		rc = 0;	/* another kind of challenge: not a reset link */
	if (rc == 1)
		*user_id_r = xstrdup(ch.user);
	store_challenge_clear(&ch);
	return rc;
}

char *
factor_reset_link(const struct instance *in, const char *tenant, const char *token)
{
	const char *url = in->settings.url;
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xasprintf("%.*s/t/%s/reset?token=%s", (int)n, url, tenant, token);
}

/* ---- mails ---- */

void
factor_mail_reset(const char *tenant, const char *link, const char *to,
    struct mail_msg *m_r)
{
	m_r->to = xstrdup(to);
	m_r->subject = xstrdup("パスワードの再設定 / Password reset");
	m_r->body = xasprintf(
	    "パスワードの再設定が依頼されました（テナント %s）。\n"
	    "次のリンクから新しいパスワードを設定してください。\n"
	    "リンクは30分間有効で、一度だけ使えます。\n"
	    "\n"
	    "%s\n"
	    "\n"
	    "お心当たりがない場合は、このメールを破棄してください。パスワードは変更されません。\n"
	    "\n"
	    "A password reset was requested for your account (tenant %s).\n"
	    "Please set a new password with the link above.\n"
	    "The link is valid for 30 minutes and can be used once.\n"
	    "If you did not ask for this, please ignore this mail; your password stays as it is.\n",
	    tenant, link, tenant);
}

void
factor_mail_recovery_used(const char *tenant, const char *user, int left, const char *ip,
    const char *to, struct mail_msg *m_r)
{
	m_r->to = xstrdup(to);
	m_r->subject = xstrdup("回復コードが使用されました / A recovery code was used");
	m_r->body = xasprintf(
	    "アカウント %s（テナント %s）へのサインインに回復コードが使用されました。\n"
	    "接続元: %s\n"
	    "残りの回復コード: %d\n"
	    "\n"
	    "お心当たりがない場合は、すぐに管理者にご連絡ください。\n"
	    "\n"
	    "A recovery code was used to sign in to the account %s (tenant %s).\n"
	    "From: %s\n"
	    "Recovery codes left: %d\n"
	    "\n"
	    "If this was not you, please contact your administrator at once.\n",
	    user, tenant, ip ? ip : "-", left, user, tenant, ip ? ip : "-", left);
}

void
factor_mail_clear(struct mail_msg *m)
{
	free((char *)m->to);
	free((char *)m->subject);
	freezero_str((char *)m->body);	/* it may carry a reset link */
	m->to = m->subject = m->body = NULL;
}

void
factor_mail_conf(const struct instance *in, struct mail_conf *c_r)
{
	memset(c_r, 0, sizeof(*c_r));
	c_r->relay = in->settings.smtp_relay;
	c_r->from = in->settings.smtp_from;
	c_r->tls = in->settings.smtp_tls;
	c_r->ca_file = in->settings.smtp_ca_file;
	c_r->timeout = (long)in->settings.smtp_timeout;
}
