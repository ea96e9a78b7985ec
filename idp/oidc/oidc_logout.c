/*
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): with an id_token_hint of
 * ours for the current session, the core ends the session (and with it every app's part)
 * and the browser goes to the client's registered post_logout_redirect_uri; anything
 * else gets our confirmation page.  Never a redirect to an unregistered address.  When a
 * session ends, however it ends, its grants are revoked and its clients with a
 * back-channel logout URI are told (Back-Channel Logout 1.0).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "login.h"
#include "logout.h"
#include "oidc.h"
#include "xmalloc.h"

static int
registered(char *const *uris, size_t n, const char *uri)
{
	for (size_t i = 0; uri && i < n; i++)
		if (!strcmp(uris[i], uri))
			return 1;
	return 0;
}

static void
reject(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *client,
    const char *reason)
{
	audit_event(idp->in.store, t->id, "oidc.logout.reject", "client", client, "ip",
	    http_client_ip(req), "reason", reason, NULL);
	page_error(idp->pages, req, 400, "error_logout_request", NULL);
}

/* client and sid from an id_token_hint we issued (it may have expired). */
static int
read_hint(struct tenant_ctx *t, const char *hint, char **client_r, char **sid_r)
{
	const char *err, *aud, *sid;
	json_t *cl;

	*client_r = *sid_r = NULL;
	if ((cl = jose_verify_own(t->oidc->published, t->oidc->npublished, hint, &err)) == NULL)
		return -1;
	aud = json_string_value(json_object_get(cl, "aud"));
	if (aud == NULL && json_is_array(json_object_get(cl, "aud")))
		aud = json_string_value(json_array_get(json_object_get(cl, "aud"), 0));
	sid = json_string_value(json_object_get(cl, "sid"));
	if (aud == NULL || strcmp(json_string_value(json_object_get(cl, "iss")) ?: "", t->base)) {
		json_decref(cl);
		return -1;
	}
	*client_r = xstrdup(aud);
	*sid_r = sid ? xstrdup(sid) : NULL;
	json_decref(cl);
	return 0;
}

void
oidc_logout(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct form *f = !strcmp(http_method(req), "POST") ? http_form(req) : http_query(req);
	const char *hint = form_get(f, "id_token_hint"), *uri = form_get(f, "post_logout_redirect_uri");
	const char *state = form_get(f, "state"), *client_id = form_get(f, "client_id");
	const struct oidc_client *c = NULL;
	char *hint_client = NULL, *hint_sid = NULL, *target = NULL, *sid = NULL;
	struct sso_session ss;
	int have;

	if (hint && read_hint(t, hint, &hint_client, &hint_sid) == -1) {
		reject(idp, t, req, client_id, "id_token_hint not ours");
		goto done;
	}
	if (hint_client && client_id && strcmp(hint_client, client_id)) {
		reject(idp, t, req, client_id, "client_id differs from the id_token_hint");
		goto done;
	}
	c = oidc_client_find(t->oidc, hint_client ? hint_client : client_id);
	if (uri && (c == NULL || !registered(c->logout_uris, c->nlogout, uri))) {
		reject(idp, t, req, c ? c->client_id : client_id,
		    "post_logout_redirect_uri not registered");
		goto done;
	}
	if (uri) {
		char *e = state ? url_encode(state) : NULL;
		target = e ? xasprintf("%s%cstate=%s", uri, strchr(uri, '?') ? '&' : '?', e) :
		    xstrdup(uri);
		free(e);
	}
	if ((have = session_current(idp, t, req, &ss)) != 1) {
		/* Nothing to end here; the client may still be sent home. */
		if (target)
			http_redirect(req, target);
		else
			logout_page(idp, t, req);
		goto done;
	}
	sid = oidc_sid(t, ss.hash);
	if (hint_sid && !strcmp(hint_sid, sid)) {
		struct logout_origin o = { "oidc", c ? c->client_id : NULL, NULL, NULL, target };
		audit_event(idp->in.store, t->id, "oidc.logout", "user", ss.user.name, "client",
		    c ? c->client_id : NULL, "ip", http_client_ip(req), NULL);
		logout_session(idp, t, req, &ss, &o);
	} else {
		/* No proof the request comes from this session's client: the user decides. */
		logout_page(idp, t, req);
	}
	session_clear(&ss);
done:
	free(hint_client);
	free(hint_sid);
	free(target);
	free(sid);
}

/* One logout token for client c (signed like its ID tokens, Back-Channel Logout 2.4). */
static void
notify(struct idp *idp, struct tenant_ctx *t, const struct oidc_client *c, const char *sub,
    const char *sid)
{
	int64_t now = clock_now();
	char *jti = crypto_random_token(18), *tok;
	json_t *cl = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:{s:{}}}", "iss", t->base,
	    "aud", c->client_id, "sub", sub, "iat", (json_int_t)now, "exp", (json_int_t)(now + 120),
	    "jti", jti, "sid", sid, "events", "http://schemas.openid.net/event/backchannel-logout");

	if ((tok = jose_sign(oidc_signing_key(t->oidc, c->id_token_alg), "logout+jwt", cl)) != NULL)
		backchannel_send(c->backchannel_uri, tok, idp->in.settings.oidc_backchannel_timeout);
	freezero_str(tok);
	json_decref(cl);
	free(jti);
}

void
oidc_session_ended(struct idp *idp, struct tenant_ctx *t, const struct sso_session *ss,
    const struct logout_apps *apps)
{
	char *sid;

	/* Refresh and access tokens of the session die with it. */
	store_revoke_session_grants(idp->in.store, t->id, ss->hash);
	if (apps->n == 0)
		return;
	sid = oidc_sid(t, ss->hash);
	for (size_t i = 0; i < apps->n; i++) {
		const struct oidc_client *c = oidc_client_find(t->oidc, apps->v[i].entity_id);
		if (c && c->backchannel_uri)
			notify(idp, t, c, ss->user.id, sid);
	}
	free(sid);
}
