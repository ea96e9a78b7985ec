/*
 * Unit tests for idp/factor.c on a real store: TOTP seeds sealed to their own record and
 * checked with codes made by lib/totp.c (replays, older steps, pending factors, a seed
 * moved to another user), recovery codes (form, single use, per user, replaced sets),
 * reset tokens (single use, voided by a newer one, per tenant, expiry) and the mails.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "factor.h"
#include "totp.h"
#include "xmalloc.h"

#include "store_fixture.h"

/* An instance around the fixture's store, with a fixed master key. */
static void
instance_of(struct fx *fx, struct instance *in)
{
	memset(in, 0, sizeof(*in));
	in->store = fx->st;
	memset(in->master, 0x42, sizeof(in->master));
	in->settings.url = "https://idp.example.jp";
	in->settings.smtp_relay = "mail.example.jp:587";
	in->settings.smtp_from = "sso@example.jp";
	in->settings.smtp_tls = "starttls";
	in->settings.smtp_timeout = 20;
}

static struct user
user_of(struct fx *fx, const char *name)
{
	struct user u;

	assert_int_equal(store_user_get(fx->st, T, name, &u), 1);
	return u;
}

/* The seed of the otpauth URI (base32 decoded by hand: 32 digits, 20 bytes). */
static void
seed_of(const char *uri, unsigned char seed[TOTP_SECRET_LEN])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	const char *p = strstr(uri, "secret=");
	uint64_t acc = 0;
	int bits = 0;
	size_t n = 0;

	assert_non_null(p);
	for (p += 7; *p && *p != '&'; p++) {
		const char *c = strchr(alphabet, *p);
		assert_non_null(c);
		acc = acc << 5 | (uint64_t)(c - alphabet);
		if ((bits += 5) >= 8) {
			assert_true(n < TOTP_SECRET_LEN);
			seed[n++] = (unsigned char)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	assert_int_equal(n, TOTP_SECRET_LEN);
}

struct collected {
	int n;
	struct factor f[8];
};

static void
collect(const void *rec, void *arg)
{
	const struct factor *f = rec;
	struct collected *c = arg;

	c->f[c->n].id = xstrdup(f->id);
	c->f[c->n].kind = f->kind;
	c->f[c->n].pending = f->pending;
	c->f[c->n].label = xstrdup(f->label ? f->label : "");
	c->f[c->n].secret = xmemdup(f->secret, f->secret_len);
	c->f[c->n++].secret_len = f->secret_len;
}

static void
collected_clear(struct collected *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->f[i].id);
		free(c->f[i].label);
		free(c->f[i].secret);
	}
	c->n = 0;
}

static void
list(struct fx *fx, const char *user_id, struct collected *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(store_factor_list(fx->st, T, user_id, collect, c), 0);
}

static int
check_at(struct instance *in, const char *uid, const char *id, const unsigned char *seed,
    int64_t at, int64_t now)
{
	char code[TOTP_DIGITS + 1];

	assert_int_equal(totp_code(seed, TOTP_SECRET_LEN, at, code), 0);
	return factor_totp_check(in, T, uid, id, code, now, NULL, NULL);
}

/* ---- TOTP ---- */

static void
test_factor_totp_create_sealed(void **state)
{
	struct fx *fx = *state;
	struct instance in;
	struct collected c;
	unsigned char seed[TOTP_SECRET_LEN];
	char *id = NULL, *uri = NULL, *b32 = NULL, *ad;
	const char *err = NULL;
	unsigned char *opened;
	size_t len;
	struct user u;

	instance_of(fx, &in);
	add_user(fx, T, "alice", "alice@example.jp");
	u = user_of(fx, "alice");
	assert_int_equal(factor_totp_create(&in, T, &u, "Phone", 1, NULL, &id, &uri, &b32, &err), 0);
	{
		const char *prefix = "otpauth://totp/Sekisho%20" T ":alice?secret=";
		assert_true(strncmp(uri, prefix, strlen(prefix)) == 0);
	}
	assert_non_null(strstr(uri, "&issuer=Sekisho%20" T "&algorithm=SHA1&digits=6&period=30"));
	assert_non_null(strstr(uri, b32));
	assert_int_equal(strlen(id), 16);
	seed_of(uri, seed);
	list(fx, u.id, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.f[0].id, id);
	assert_string_equal(c.f[0].label, "Phone");
	assert_true(c.f[0].kind == FACTOR_TOTP && c.f[0].pending == 1);
	/* Sealed: not the seed, and it opens only with the record's own identity. */
	assert_int_equal(c.f[0].secret_len, TOTP_SECRET_LEN + CRYPTO_SEAL_OVERHEAD);
	assert_null(memmem(c.f[0].secret, c.f[0].secret_len, seed, sizeof(seed)));
	ad = xasprintf("totp:%s:%s:%s", T, u.id, id);
	opened = crypto_open(in.master, ad, strlen(ad), c.f[0].secret, c.f[0].secret_len, &len);
	assert_non_null(opened);
	assert_memory_equal(opened, seed, sizeof(seed));
	free(opened);
	ad[strlen(ad) - 1] ^= 1;
	assert_null(crypto_open(in.master, ad, strlen(ad), c.f[0].secret, c.f[0].secret_len,
	    &len));
	free(ad);
	collected_clear(&c);
	free(id);
	free(uri);
	free(b32);
	/* Bad labels store nothing. */
	{
		const char *bad[] = { "", "tab\there", "line\n", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "\xff\xfe" };
		for (size_t i = 0; i < NELEM(bad); i++) {
			uri = NULL;
			assert_int_equal(factor_totp_create(&in, T, &u, bad[i], 0, NULL, NULL, &uri,
			    NULL, &err), -1);
			assert_null(uri);
		}
	}
	list(fx, u.id, &c);
	assert_int_equal(c.n, 1);
	collected_clear(&c);
	store_user_clear(&u);
}

static void
test_factor_totp_check(void **state)
{
	struct fx *fx = *state;
	struct instance in;
	unsigned char seed[TOTP_SECRET_LEN];
	const int64_t now = 1750000000;
	char *id = NULL, *uri = NULL, *got = NULL;
	const char *err;
	struct user u;

	instance_of(fx, &in);
	add_user(fx, T, "alice", NULL);
	u = user_of(fx, "alice");
	assert_int_equal(factor_totp_create(&in, T, &u, NULL, 0, NULL, &id, &uri, NULL, &err), 0);
	seed_of(uri, seed);
	/* Garbage is not a code. */
	assert_int_equal(factor_totp_check(&in, T, u.id, NULL, "12345", now, NULL, NULL), 0);
	assert_int_equal(factor_totp_check(&in, T, u.id, NULL, "1234567", now, NULL, NULL), 0);
	assert_int_equal(factor_totp_check(&in, T, u.id, NULL, "12a456", now, NULL, NULL), 0);
	assert_int_equal(factor_totp_check(&in, T, u.id, NULL, "", now, NULL, NULL), 0);
	/* One step of skew either way, not two. */
	assert_int_equal(check_at(&in, u.id, NULL, seed, now - 2 * TOTP_STEP, now), 0);
	assert_int_equal(check_at(&in, u.id, NULL, seed, now - TOTP_STEP, now), 1);
	/* The same code again, and the code of the same step again: replays. */
	assert_int_equal(check_at(&in, u.id, NULL, seed, now - TOTP_STEP, now), 0);
	{
		char code[TOTP_DIGITS + 1], spaced[TOTP_DIGITS + 2];

		assert_int_equal(totp_code(seed, sizeof(seed), now, code), 0);
		snprintf(spaced, sizeof(spaced), "%.3s %.3s", code, code + 3);
		assert_int_equal(factor_totp_check(&in, T, u.id, NULL, spaced, now, NULL, &got),
		    1);
		assert_string_equal(got, id);
		free(got);
		assert_int_equal(factor_totp_check(&in, T, u.id, NULL, code, now, NULL, NULL), 0);
	}
	/* After the newest step, an older one that is still in the window is refused. */
	assert_int_equal(check_at(&in, u.id, NULL, seed, now + TOTP_STEP, now), 1);
	assert_int_equal(check_at(&in, u.id, NULL, seed, now, now), 0);
	/* Another user's factor is not alice's. */
	add_user(fx, T, "bob", NULL);
	{
		struct user b = user_of(fx, "bob");
		assert_int_equal(check_at(&in, b.id, NULL, seed, now + 2 * TOTP_STEP, now + 60), 0);
		store_user_clear(&b);
	}
	free(id);
	free(uri);
	store_user_clear(&u);
}

static void
test_factor_totp_pending(void **state)
{
	struct fx *fx = *state;
	struct instance in;
	unsigned char seed[TOTP_SECRET_LEN];
	const int64_t now = 1750000000;
	char *id = NULL, *uri = NULL;
	struct collected c;
	const char *err;
	struct user u;

	instance_of(fx, &in);
	add_user(fx, T, "alice", NULL);
	u = user_of(fx, "alice");
	assert_int_equal(factor_totp_create(&in, T, &u, "App", 1, NULL, &id, &uri, NULL, &err), 0);
	seed_of(uri, seed);
	/* Pending: no login counts it; its confirmation names it. */
	assert_int_equal(check_at(&in, u.id, NULL, seed, now, now), 0);
	assert_int_equal(check_at(&in, u.id, "0000000000000000", seed, now, now), 0);
	assert_int_equal(check_at(&in, u.id, id, seed, now, now), 1);
	list(fx, u.id, &c);
	assert_true(c.n == 1 && c.f[0].pending == 0);
	collected_clear(&c);
	assert_int_equal(check_at(&in, u.id, NULL, seed, now + TOTP_STEP, now + TOTP_STEP), 1);
	free(id);
	free(uri);
	store_user_clear(&u);
}

/* A sealed seed copied into another user's record does not open there. */
static void
test_factor_totp_moved_seed(void **state)
{
	struct fx *fx = *state;
	struct instance in;
	unsigned char seed[TOTP_SECRET_LEN];
	const int64_t now = 1750000000;
	char *id = NULL, *uri = NULL;
	struct collected c;
	struct factor f = { 0 };
	const char *err;
	struct user a, b;

	instance_of(fx, &in);
	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "mallory", NULL);
	a = user_of(fx, "alice");
	b = user_of(fx, "mallory");
	assert_int_equal(factor_totp_create(&in, T, &a, NULL, 0, NULL, &id, &uri, NULL, &err), 0);
	seed_of(uri, seed);
	list(fx, a.id, &c);
	f.id = c.f[0].id;
	f.user = b.id;
	f.kind = FACTOR_TOTP;
	f.label = "copied";
	f.secret = c.f[0].secret;
	f.secret_len = c.f[0].secret_len;
	assert_int_equal(store_factor_add(fx->st, T, &f, NULL, NULL, &err), 0);
	assert_int_equal(check_at(&in, b.id, NULL, seed, now, now), 0);
	assert_int_equal(check_at(&in, a.id, NULL, seed, now, now), 1);
	collected_clear(&c);
	free(id);
	free(uri);
	store_user_clear(&a);
	store_user_clear(&b);
}

/* ---- recovery codes ---- */

static int
code_form_ok(const char *s)
{
	if (strlen(s) != RECOVERY_CODE_LEN)
		return 0;
	for (int i = 0; i < RECOVERY_CODE_LEN; i++)
		if (i % 5 == 4 ? s[i] != '-' : !strchr("abcdefghijklmnopqrstuvwxyz234567", s[i]))
			return 0;
	return 1;
}

static void
test_factor_recovery(void **state)
{
	struct fx *fx = *state;
	struct instance in;
	char codes[FACTOR_RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	char old[RECOVERY_CODE_LEN + 1], upper[RECOVERY_CODE_LEN + 8];
	const char *err;
	struct collected c;
	char *a, *b;
	int left = -1;

	instance_of(fx, &in);
	add_user(fx, T, "alice", NULL);
	add_user(fx, T, "bob", NULL);
	a = user_id(fx, T, "alice");
	b = user_id(fx, T, "bob");
	assert_int_equal(factor_recovery_new(&in, T, a, codes, NULL, &err), 0);
	for (int i = 0; i < FACTOR_RECOVERY_CODES; i++) {
		assert_true(code_form_ok(codes[i]));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
	}
	list(fx, a, &c);
	assert_true(c.n == 1 && c.f[0].kind == FACTOR_RECOVERY);
	assert_int_equal(c.f[0].secret_len, FACTOR_RECOVERY_CODES * 32);
	collected_clear(&c);
	/* Not a code, another user's code. */
	assert_int_equal(factor_recovery_use(&in, T, a, "not-a-code", T0, NULL, &left), 0);
	assert_int_equal(factor_recovery_use(&in, T, a, "", T0, NULL, &left), 0);
	assert_int_equal(factor_recovery_use(&in, T, b, codes[0], T0, NULL, &left), 0);
	/* Upper case, spaces for hyphens: the same code; used once. */
	snprintf(upper, sizeof(upper), "%s", codes[0]);
	for (char *p = upper; *p; p++)
		*p = *p == '-' ? ' ' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	assert_int_equal(factor_recovery_use(&in, T, a, upper, T0, NULL, &left), 1);
	assert_int_equal(left, FACTOR_RECOVERY_CODES - 1);
	assert_int_equal(factor_recovery_use(&in, T, a, codes[0], T0, NULL, &left), 0);
	assert_int_equal(factor_recovery_use(&in, T, a, codes[9], T0, NULL, &left), 1);
	assert_int_equal(left, FACTOR_RECOVERY_CODES - 2);
	/* A new set replaces the old one. */
	snprintf(old, sizeof(old), "%s", codes[5]);
	assert_int_equal(factor_recovery_new(&in, T, a, codes, NULL, &err), 0);
	assert_int_equal(factor_recovery_use(&in, T, a, old, T0, NULL, &left), 0);
	assert_int_equal(factor_recovery_use(&in, T, a, codes[5], T0, NULL, &left), 1);
	assert_int_equal(left, FACTOR_RECOVERY_CODES - 1);
	list(fx, a, &c);
	assert_int_equal(c.n, 1);
	collected_clear(&c);
	free(a);
	free(b);
}

/* ---- reset tokens ---- */

static void
test_factor_reset(void **state)
{
	struct fx *fx = *state;
	struct instance in;
	char *a, *t1, *t2, *got = NULL;
	const int64_t now = 1750000000;

	instance_of(fx, &in);
	clock_set_fixed(now);
	add_user(fx, T, "alice", NULL);
	a = user_id(fx, T, "alice");
	assert_int_equal(factor_reset_issue(&in, T, a, &t1), 0);
	assert_int_equal(strlen(t1), 43);
	assert_int_equal(factor_reset_issue(&in, T, a, &t2), 0);
	assert_string_not_equal(t1, t2);
	/* The newer link voids the older; the token works once, in its tenant only. */
	assert_int_equal(factor_reset_take(&in, T, t1, now, &got), 0);
	assert_null(got);
	assert_int_equal(factor_reset_take(&in, "other", t2, now, &got), 0);
	assert_int_equal(factor_reset_take(&in, T, t2, now + RESET_TOKEN_LIFETIME - 1, &got), 1);
	assert_string_equal(got, a);
	free(got);
	assert_int_equal(factor_reset_take(&in, T, t2, now, &got), 0);
	free(t1);
	free(t2);
	/* 30 minutes, not more. */
	assert_int_equal(factor_reset_issue(&in, T, a, &t1), 0);
	assert_int_equal(factor_reset_take(&in, T, t1, now + RESET_TOKEN_LIFETIME + 1, &got), 0);
	free(t1);
	assert_int_equal(factor_reset_take(&in, T, NULL, now, &got), 0);
	assert_int_equal(factor_reset_take(&in, T, "", now, &got), 0);
	clock_set_fixed(0);
	free(a);
}

static void
test_factor_reset_link_and_mail(void **state)
{
	struct fx *fx = *state;
	struct instance in;
	struct mail_msg m;
	struct mail_conf mc;
	char *link;

	instance_of(fx, &in);
	link = factor_reset_link(&in, "acme", "TOKEN_x-1");
	assert_string_equal(link, "https://idp.example.jp/t/acme/reset?token=TOKEN_x-1");
	free(link);
	in.settings.url = "https://idp.example.jp:8443/";
	link = factor_reset_link(&in, "acme", "T");
	assert_string_equal(link, "https://idp.example.jp:8443/t/acme/reset?token=T");
	factor_mail_reset("acme", link, "alice@example.jp", &m);
	assert_string_equal(m.to, "alice@example.jp");
	assert_string_equal(m.subject, "パスワードの再設定 / Password reset");
	assert_non_null(strstr(m.body, "\n" "https://idp.example.jp:8443/t/acme/reset?token=T\n"));
	assert_non_null(strstr(m.body, "30分"));
	assert_non_null(strstr(m.body, "30 minutes"));
	assert_true(strstr(m.body, "パスワード") < strstr(m.body, "password"));
	factor_mail_clear(&m);
	assert_null(m.body);
	free(link);
	factor_mail_recovery_used("acme", "alice", 7, "192.0.2.1", "alice@example.jp", &m);
	assert_non_null(strstr(m.body, "192.0.2.1"));
	assert_non_null(strstr(m.body, "7"));
	assert_non_null(strstr(m.subject, "recovery code"));
	factor_mail_clear(&m);
	factor_mail_conf(&in, &mc);
	assert_string_equal(mc.relay, "mail.example.jp:587");
	assert_string_equal(mc.from, "sso@example.jp");
	assert_string_equal(mc.tls, "starttls");
	assert_null(mc.ca_file);
	assert_int_equal(mc.timeout, 20);
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_factor_totp_create_sealed),
		TEST(test_factor_totp_check),
		TEST(test_factor_totp_pending),
		TEST(test_factor_totp_moved_seed),
		TEST(test_factor_recovery),
		TEST(test_factor_reset),
		TEST(test_factor_reset_link_and_mail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
