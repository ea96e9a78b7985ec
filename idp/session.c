/*
 * SSO sessions and CSRF tokens.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "session.h"
#include "xmalloc.h"

#define COOKIE_LEN 43		/* base64url of 32 bytes */
#define TOUCH_INTERVAL 60	/* at most this many seconds between last_seen updates */
#define CSRF_LIFETIME 3600
/*
 * A sign-in form's token: ample to type a name and password, but one fetched form cannot
 * carry attempts for an hour.  Not single-use: that would cost a store write per form
 * shown and stop nobody who can fetch another form; the failure counters limit bursts.
 */
#define CSRF_LOGIN_LIFETIME 600

static int
cookie_ok(const char *v)
{
	if (v == NULL || strlen(v) != COOKIE_LEN)
		return 0;
	for (; *v; v++)
		if (!((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z') ||
		    (*v >= '0' && *v <= '9') || *v == '-' || *v == '_'))
			return 0;
	return 1;
}

void
session_clear(struct sso_session *ss)
{
	/* Also keeps GCC 12 quiet under UBSan, whose recoverable nonnull check on the memset
	 * in session_current leaves a path with ss NULL that would reach explicit_bzero. */
	if (ss == NULL)
		return;
	store_session_clear(&ss->s);
	store_user_clear(&ss->user);
	explicit_bzero(ss->hash, sizeof(ss->hash));
}

int
session_current(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    struct sso_session *ss)
{
	const char *c = http_cookie(req, SESSION_COOKIE);
	const struct settings *set = &idp->in.settings;
	int64_t now = clock_now();
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (c == NULL)
		return 0;
	if (!cookie_ok(c))
		goto invalid;
	crypto_sha256(c, COOKIE_LEN, ss->hash);
	rc = store_session_get(idp->in.store, t->id, ss->hash, &ss->s);
	if (rc != 1) {
		if (rc < 0)
			return -1;
		goto invalid;
	}
	if ((int64_t)ss->s.expires < now || (int64_t)ss->s.last_seen + set->session_idle_timeout < now) {
		store_session_delete(idp->in.store, t->id, ss->hash);
		goto invalid;
	}
	rc = store_user_get_by_id(idp->in.store, t->id, ss->s.user, &ss->user);
	if (rc != 1 || ss->user.disabled) {
		if (rc < 0) {
			session_clear(ss);
			return -1;
		}
		store_session_delete(idp->in.store, t->id, ss->hash);
		goto invalid;
	}
	/* Touch often enough that a session in use never reaches its idle timeout. */
	if (now - (int64_t)ss->s.last_seen >
	    (set->session_idle_timeout / 10 < TOUCH_INTERVAL ? set->session_idle_timeout / 10 :
	    TOUCH_INTERVAL)) {
		store_session_touch(idp->in.store, t->id, ss->hash, now);
		ss->s.last_seen = (uint64_t)now;
	}
	return 1;
invalid:
	session_clear(ss);
	memset(ss, 0, sizeof(*ss));
	http_set_cookie(req, SESSION_COOKIE, "", t->path, -1);
	return 0;
}

/* What is kept of a User-Agent header: printable ASCII, at most 200 bytes. */
static char *
agent_text(const char *ua)
{
	size_t n = ua ? strlen(ua) : 0;
	char *out = xmalloc((n > 200 ? 200 : n) + 1), *o = out;

	for (size_t i = 0; i < n && i < 200; i++)
		*o++ = ua[i] >= 0x20 && ua[i] < 0x7f ? ua[i] : '?';
	*o = '\0';
	return out;
}

int
session_start(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *methods, struct sso_session *ss_r)
{
	const struct settings *set = &idp->in.settings;
	char *cookie = crypto_random_token(32);
	int64_t now = clock_now();
	int rc;

	memset(ss_r, 0, sizeof(*ss_r));
	crypto_sha256(cookie, strlen(cookie), ss_r->hash);
	ss_r->s.user = xstrdup(u->id);
	ss_r->s.methods = xstrdup(methods);
	ss_r->s.created = ss_r->s.last_seen = ss_r->s.authn_instant = (uint64_t)now;
	ss_r->s.expires = (uint64_t)(now + set->session_max_lifetime);
	ss_r->s.ip = xstrdup(http_client_ip(req));
	ss_r->s.agent = agent_text(http_header(req, "User-Agent"));
	ss_r->s.mfa_at = session_methods_has(methods, "mfa") ? (uint64_t)now : 0;
	rc = store_session_add(idp->in.store, t->id, ss_r->hash, &ss_r->s);
	if (rc < 0) {
		freezero_str(cookie);
		session_clear(ss_r);
		return rc;
	}
	ss_r->user.name = xstrdup(u->name);
	ss_r->user.id = xstrdup(u->id);
	ss_r->user.email = u->email ? xstrdup(u->email) : NULL;
	ss_r->user.display_name = u->display_name ? xstrdup(u->display_name) : NULL;
	http_set_cookie(req, SESSION_COOKIE, cookie, t->path, HTTP_COOKIE_SESSION);
	freezero_str(cookie);
	return 0;
}

int
session_methods_has(const char *methods, const char *m)
{
	size_t n = strlen(m);

	for (const char *p = methods; p && *p; p += strspn(p, " ")) {
		size_t w = strcspn(p, " ");
		if (w == n && !strncmp(p, m, n))
			return 1;
		p += w;
	}
	return 0;
}

/* Which kinds of proof methods hold: 1 known, 2 held, 4 being. */
static unsigned
proof_kinds(const char *methods)
{
	return (session_methods_has(methods, "pwd") ? 1u : 0) |
	    (session_methods_has(methods, "otp") || session_methods_has(methods, "hwk") ||
	    session_methods_has(methods, "x509") ? 2u : 0) |
	    (session_methods_has(methods, "user") ? 4u : 0);
}

char *
session_methods_add(const char *methods, const char *m)
{
	char *out = session_methods_has(methods, m) ? xstrdup(methods) :
	    *methods ? xasprintf("%s %s", methods, m) : xstrdup(m);
	unsigned k = proof_kinds(out);
	char *with;

	/* Two different kinds of proof make it multi-factor (RFC 8176 "mfa"). */
	if ((k & (k - 1)) == 0 || session_methods_has(out, "mfa"))
		return out;
	with = xasprintf("%s mfa", out);
	free(out);
	return with;
}

void
session_end(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const unsigned char hash[32])
{
	store_session_delete(idp->in.store, t->id, hash);
	http_set_cookie(req, SESSION_COOKIE, "", t->path, -1);
}

char *
session_pre_binding(struct tenant_ctx *t, struct http_req *req)
{
	const char *c = http_cookie(req, SESSION_PRE_COOKIE);
	char *v;

	if (cookie_ok(c))
		return xstrdup(c);
	v = crypto_random_token(32);
	http_set_cookie(req, SESSION_PRE_COOKIE, v, t->path, HTTP_COOKIE_SESSION);
	return v;
}

static char *
csrf_mac(struct tenant_ctx *t, const char *purpose, const char *binding, int64_t ts)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char *msg = xasprintf("%s|%s|%" PRId64, purpose, binding, ts), *b64;

	crypto_hmac_sha256(t->csrf_key, sizeof(t->csrf_key), msg, strlen(msg), mac);
	free(msg);
	b64 = b64url_encode(mac, sizeof(mac));
	return b64;
}

char *
session_csrf_token(struct tenant_ctx *t, const char *purpose, const char *binding)
{
	int64_t now = clock_now();
	char *mac = csrf_mac(t, purpose, binding, now);
	char *tok = xasprintf("%" PRId64 ".%s", now, mac);

	free(mac);
	return tok;
}

int
session_csrf_check(struct tenant_ctx *t, const char *purpose, const char *binding,
    const char *token)
{
	char *end, *mac;
	int64_t life = strcmp(purpose, "login") ? CSRF_LIFETIME : CSRF_LOGIN_LIFETIME;
	long long ts;
	int ok;

	if (token == NULL || binding == NULL || strlen(token) > 80)
		return 0;
	ts = strtoll(token, &end, 10);
	if (end == token || *end != '.' || ts <= 0)
		return 0;
	if (clock_now() - ts > life || ts > clock_now() + 60)
		return 0;
	mac = csrf_mac(t, purpose, binding, ts);
	ok = crypto_streq(mac, end + 1);
	free(mac);
	return ok;
}
