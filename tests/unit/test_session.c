/*
 * Unit tests for idp/session.c on a real store (the store fixture), with a stand-in for the
 * HTTP request (the cookies it sends, the cookies set on the answer) and the injected clock:
 * which cookies give a session (expired, idle, disabled or removed user, malformed or
 * unknown), starting one, and CSRF tokens (purpose, binding, age, future, tampering).
 */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "session.h"
#include "store.h"
#include "xmalloc.h"

#include "store_fixture.h"

#define NOW (T0 + 100000)
#define IDLE 600
#define LIFE 3600
#define COOKIE "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"	/* 43 base64url characters */
#define PRE "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

/* ---- the request: the two cookies session.c reads, the last cookie it sets ---- */

struct http_req {
	const char *sid, *pre;
	int nset;
	char set_name[32], set_value[64], set_path[32];
	int64_t set_max_age;
};

const char *
http_cookie(const struct http_req *req, const char *name)
{
	if (!strcmp(name, SESSION_COOKIE))
		return req->sid;
	if (!strcmp(name, SESSION_PRE_COOKIE))
		return req->pre;
	return NULL;
}

void
http_set_cookie(struct http_req *req, const char *name, const char *value, const char *path,
    int64_t max_age)
{
	snprintf(req->set_name, sizeof(req->set_name), "%s", name);
	snprintf(req->set_value, sizeof(req->set_value), "%s", value);
	snprintf(req->set_path, sizeof(req->set_path), "%s", path);
	req->set_max_age = max_age;
	req->nset++;
}

/* What a new session records of the client. */
const char *
http_client_ip(const struct http_req *req)
{
	(void)req;
	return "192.0.2.7";
}

const char *
http_header(const struct http_req *req, const char *name)
{
	(void)req;
	return strcmp(name, "User-Agent") ? NULL : "Mozilla/5.0 (\x01test)";
}

/* ---- fixture: a store, an idp and a tenant context around it, a fixed clock ---- */

struct env {
	struct fx *fx;
	struct idp idp;
	struct tenant_ctx t;
};

static int
env_setup(void **state)
{
	struct env *e = xcalloc(1, sizeof(*e));
	void *fx;

	setup(&fx);
	e->fx = fx;
	e->idp.in.store = e->fx->st;
	e->idp.in.settings.session_idle_timeout = IDLE;
	e->idp.in.settings.session_max_lifetime = LIFE;
	e->t.id = T;
	e->t.path = "/t/" T "/";
	memset(e->t.csrf_key, 0x5a, sizeof(e->t.csrf_key));
	add_user(e->fx, T, "alice", "alice@example.com");
	clock_set_fixed(NOW);
	*state = e;
	return 0;
}

static int
env_teardown(void **state)
{
	struct env *e = *state;
	void *fx = e->fx;

	clock_set_fixed(0);
	teardown(&fx);
	free(e);
	return 0;
}

/* The i-th well-formed cookie (42 'C' and a letter): a session per case. */
static const char *
cookie_n(size_t i, char out[44])
{
	memset(out, 'C', 42);
	out[42] = (char)('a' + i);
	out[43] = '\0';
	return out;
}

/* session_current for a request sending cookie; the cookie it cleared is in req. */
static int
current(struct env *e, struct http_req *req, const char *cookie)
{
	struct sso_session ss;
	int rc;

	memset(req, 0, sizeof(*req));
	req->sid = cookie;
	rc = session_current(&e->idp, &e->t, req, &ss);
	if (rc == 1) {
		char *id = user_id(e->fx, T, "alice");

		assert_string_equal(ss.user.name, "alice");
		assert_string_equal(ss.s.user, id);	/* sessions name the user by id */
		free(id);
	}
	session_clear(&ss);
	return rc;
}

static void
assert_cleared(const struct http_req *req)
{
	assert_int_equal(req->nset, 1);
	assert_string_equal(req->set_name, SESSION_COOKIE);
	assert_string_equal(req->set_value, "");
	assert_true(req->set_max_age < 0);
}

/* ---- session_current ---- */

static void
test_session_current_cookies(void **state)
{
	static const char *const bad[] = {
		"AAAA",						/* too short */
		COOKIE "A",					/* too long */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",	/* not base64url */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"",
	};
	struct env *e = *state;
	struct http_req req;

	assert_int_equal(current(e, &req, NULL), 0);
	assert_int_equal(req.nset, 0);		/* no cookie: nothing to clear */
	for (size_t i = 0; i < NELEM(bad); i++) {
		assert_int_equal(current(e, &req, bad[i]), 0);
		assert_cleared(&req);
	}
	/* Well formed but unknown. */
	assert_int_equal(current(e, &req, COOKIE), 0);
	assert_cleared(&req);
	add_session(e->fx, COOKIE, "alice", NOW, NOW + LIFE);
	assert_int_equal(current(e, &req, COOKIE), 1);
	assert_int_equal(req.nset, 0);
}

/* Idle and absolute limits, each on its last valid second and the second after. */
static void
test_session_current_limits(void **state)
{
	static const struct {
		int64_t last_seen, expires;
		int want;
	} cases[] = {
		{ NOW, NOW + LIFE, 1 },
		{ NOW - IDLE, NOW + LIFE, 1 },		/* idle exactly as long as allowed */
		{ NOW - IDLE - 1, NOW + LIFE, 0 },	/* a second longer */
		{ NOW, NOW, 1 },			/* expires this second */
		{ NOW, NOW - 1, 0 },			/* expired */
	};
	struct env *e = *state;
	struct http_req req;
	char c[44];

	for (size_t i = 0; i < NELEM(cases); i++) {
		add_session(e->fx, cookie_n(i, c), "alice", cases[i].last_seen, cases[i].expires);
		assert_int_equal(current(e, &req, c), cases[i].want);
		/* An ended session is deleted and its cookie cleared. */
		assert_int_equal(session_exists(e->fx, c), cases[i].want);
		if (!cases[i].want)
			assert_cleared(&req);
	}
}

static void
test_session_current_user_gone(void **state)
{
	struct env *e = *state;
	struct http_req req;

	add_session(e->fx, COOKIE, "alice", NOW, NOW + LIFE);
	assert_int_equal(store_user_set_disabled(e->fx->st, T, "alice", 1, NULL), 1);
	/* Disabling ended the session already; one made afterwards is refused too. */
	add_session(e->fx, COOKIE, "alice", NOW, NOW + LIFE);
	assert_int_equal(current(e, &req, COOKIE), 0);
	assert_cleared(&req);
	assert_int_equal(session_exists(e->fx, COOKIE), 0);
	add_session(e->fx, COOKIE, "nobody", NOW, NOW + LIFE);
	assert_int_equal(current(e, &req, COOKIE), 0);
	assert_int_equal(session_exists(e->fx, COOKIE), 0);
}

/* last_seen is written at most once a minute (a tenth of the idle timeout when shorter). */
static void
test_session_current_touch(void **state)
{
	static const struct {
		int64_t last_seen, after;
	} cases[] = {
		{ NOW - 60, NOW - 60 },
		{ NOW - 61, NOW },
	};
	struct env *e = *state;
	struct http_req req;
	struct session s;
	unsigned char h[32];
	char c[44];

	for (size_t i = 0; i < NELEM(cases); i++) {
		add_session(e->fx, cookie_n(i, c), "alice", cases[i].last_seen, NOW + LIFE);
		assert_int_equal(current(e, &req, c), 1);
		hash_of(c, h);
		assert_int_equal(store_session_get(e->fx->st, T, h, &s), 1);
		assert_int_equal(s.last_seen, cases[i].after);
		store_session_clear(&s);
	}
}

/* ---- session_start ---- */

static void
test_session_start(void **state)
{
	struct env *e = *state;
	char *id = user_id(e->fx, T, "alice");
	struct user u = { .id = id, .name = "alice", .email = "alice@example.com" };
	struct http_req req = { 0 }, again;
	struct sso_session ss;
	struct session s;
	unsigned char h[32];
	char cookie[64];

	assert_int_equal(session_start(&e->idp, &e->t, &req, &u, "pwd", &ss), 0);
	assert_int_equal(req.nset, 1);
	assert_string_equal(req.set_name, SESSION_COOKIE);
	assert_string_equal(req.set_path, "/t/" T "/");
	assert_int_equal(req.set_max_age, HTTP_COOKIE_SESSION);
	assert_int_equal(strlen(req.set_value), 43);
	snprintf(cookie, sizeof(cookie), "%s", req.set_value);
	/* The store keeps the cookie's SHA-256, never the cookie. */
	hash_of(cookie, h);
	assert_memory_equal(ss.hash, h, 32);
	assert_int_equal(store_session_get(e->fx->st, T, h, &s), 1);
	assert_string_equal(s.user, id);
	assert_string_equal(s.methods, "pwd");
	/* The client as the session list shows it: address, and a User-Agent kept printable. */
	assert_string_equal(s.ip, "192.0.2.7");
	assert_string_equal(s.agent, "Mozilla/5.0 (?test)");
	assert_int_equal(s.created, NOW);
	assert_int_equal(s.authn_instant, NOW);
	assert_int_equal(s.expires, NOW + LIFE);
	store_session_clear(&s);
	session_clear(&ss);
	assert_int_equal(current(e, &again, cookie), 1);
	/* Every session gets its own cookie. */
	memset(&req, 0, sizeof(req));
	assert_int_equal(session_start(&e->idp, &e->t, &req, &u, "pwd", &ss), 0);
	assert_string_not_equal(req.set_value, cookie);
	session_clear(&ss);
	free(id);
}

static void
test_session_pre_binding(void **state)
{
	struct env *e = *state;
	struct http_req req = { .pre = PRE };
	char *b = session_pre_binding(&e->t, &req);

	assert_string_equal(b, PRE);
	assert_int_equal(req.nset, 0);
	free(b);
	memset(&req, 0, sizeof(req));
	req.pre = "short";
	b = session_pre_binding(&e->t, &req);
	assert_int_equal(strlen(b), 43);
	assert_int_equal(req.nset, 1);
	assert_string_equal(req.set_name, SESSION_PRE_COOKIE);
	assert_string_equal(req.set_value, b);
	free(b);
}

/* ---- CSRF tokens ---- */

/* A token for purpose and binding made at time at. */
static char *
token_at(struct env *e, const char *purpose, const char *binding, int64_t at)
{
	char *tok;

	clock_set_fixed(at);
	tok = session_csrf_token(&e->t, purpose, binding);
	clock_set_fixed(NOW);
	return tok;
}

static void
test_session_csrf_binding(void **state)
{
	struct env *e = *state;
	struct tenant_ctx other = e->t;
	char *tok = session_csrf_token(&e->t, "login", PRE);

	assert_true(session_csrf_check(&e->t, "login", PRE, tok));
	assert_false(session_csrf_check(&e->t, "logout", PRE, tok));
	assert_false(session_csrf_check(&e->t, "login", COOKIE, tok));
	assert_false(session_csrf_check(&e->t, "login", NULL, tok));
	assert_false(session_csrf_check(&e->t, "login", PRE, NULL));
	/* Another tenant's key. */
	other.csrf_key[0] ^= 1;
	assert_false(session_csrf_check(&other, "login", PRE, tok));
	free(tok);
}

/* A sign-in form's token lives 10 minutes, others an hour; none comes from the future. */
static void
test_session_csrf_age(void **state)
{
	static const struct {
		const char *purpose;
		int64_t age;
		int ok;
	} cases[] = {
		{ "login", 0, 1 },
		{ "login", 600, 1 },
		{ "login", 601, 0 },
		{ "login", 3600, 0 },
		{ "logout", 600, 1 },
		{ "logout", 3600, 1 },
		{ "logout", 3601, 0 },
		{ "login", -60, 1 },	/* a clock a minute ahead is tolerated */
		{ "login", -61, 0 },
		{ "logout", -3600, 0 },
	};
	struct env *e = *state;

	for (size_t i = 0; i < NELEM(cases); i++) {
		char *tok = token_at(e, cases[i].purpose, PRE, NOW - cases[i].age);

		if (session_csrf_check(&e->t, cases[i].purpose, PRE, tok) != cases[i].ok)
			fail_msg("%s token %" PRId64 " s old: want %s", cases[i].purpose,
			    cases[i].age, cases[i].ok ? "accepted" : "refused");
		free(tok);
	}
}

static void
test_session_csrf_tampering(void **state)
{
	static const char *const malformed[] = {
		"", ".", "abc", ".AAAA", "0.AAAA", "-5.AAAA", "1700100000", "1700100000.",
		"1700100000x.AAAA", " 1700100000.AAAA",
		"1700100000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	struct env *e = *state;
	char *tok = session_csrf_token(&e->t, "login", PRE), *dot = strchr(tok, '.');
	char *older = token_at(e, "login", PRE, NOW - 5), buf[128];

	assert_non_null(dot);
	/* One character of the MAC changed. */
	snprintf(buf, sizeof(buf), "%s", tok);
	buf[dot - tok + 1] = buf[dot - tok + 1] == 'A' ? 'B' : 'A';
	assert_false(session_csrf_check(&e->t, "login", PRE, buf));
	/* A fresher timestamp on an older token's MAC. */
	snprintf(buf, sizeof(buf), "%" PRId64 "%s", (int64_t)NOW, strchr(older, '.'));
	assert_false(session_csrf_check(&e->t, "login", PRE, buf));
	assert_true(session_csrf_check(&e->t, "login", PRE, older));
	/* Extra bytes after the MAC. */
	snprintf(buf, sizeof(buf), "%sA", tok);
	assert_false(session_csrf_check(&e->t, "login", PRE, buf));
	for (size_t i = 0; i < NELEM(malformed); i++)
		if (session_csrf_check(&e->t, "login", PRE, malformed[i]))
			fail_msg("accepted \"%s\"", malformed[i]);
	free(tok);
	free(older);
}

/* Methods are whole words; two kinds of proof (known, held, being) make "mfa". */
static void
test_session_methods(void **state)
{
	static const struct {
		const char *have, *add, *want;
	} cases[] = {
		{ "", "pwd", "pwd" },
		{ "pwd", "pwd", "pwd" },
		{ "pwd", "otp", "pwd otp mfa" },
		{ "pwd", "hwk", "pwd hwk mfa" },
		{ "hwk", "user", "hwk user mfa" },
		{ "pwd x509", "otp", "pwd x509 otp mfa" },
		{ "otp", "hwk", "otp hwk" },	/* two things held: one kind */
		{ "pwd otp mfa", "otp", "pwd otp mfa" },
		{ "pwdx", "otp", "pwdx otp" },	/* not "pwd" */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = session_methods_add(cases[i].have, cases[i].add);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
	assert_true(session_methods_has("pwd otp mfa", "otp"));
	assert_false(session_methods_has("pwd otpx", "otp"));
	assert_false(session_methods_has(NULL, "otp"));
	assert_false(session_methods_has("", "otp"));
}

int
main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, env_setup, env_teardown)
	const struct CMUnitTest tests[] = {
		TEST(test_session_current_cookies),
		TEST(test_session_current_limits),
		TEST(test_session_current_user_gone),
		TEST(test_session_current_touch),
		TEST(test_session_start),
		TEST(test_session_pre_binding),
		TEST(test_session_csrf_binding),
		TEST(test_session_csrf_age),
		TEST(test_session_csrf_tampering),
		cmocka_unit_test(test_session_methods),
	};
#undef TEST

	return cmocka_run_group_tests(tests, NULL, NULL);
}
