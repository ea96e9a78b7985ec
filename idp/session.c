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
	long long ts;
	int ok;

	if (token == NULL || binding == NULL || strlen(token) > 80)
		return 0;
	ts = strtoll(token, &end, 10);
	if (end == token || *end != '.' || ts <= 0)
		return 0;
	if (clock_now() - ts > CSRF_LIFETIME || ts > clock_now() + 60)
		return 0;
	mac = csrf_mac(t, purpose, binding, ts);
	ok = crypto_streq(mac, end + 1);
	free(mac);
	return ok;
}
