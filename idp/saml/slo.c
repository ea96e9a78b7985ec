/*
 * SAML Single Logout: a LogoutRequest from one SP (or the logout button here) ends the
 * session, then each other SP of the session is asked in turn through the browser, and
 * the SP that started gets its LogoutResponse.  Each SP is handled with its own part of
 * the session only, so no SP can end what it does not own.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "oidc.h"
#include "routes.h"
#include "xmalloc.h"

#define LOGOUT_LIFETIME 600

struct sp_list {
	struct buf out;
	const char *skip;	/* the SP that started (not asked again) */
	const char *want;	/* find this SP's state */
	char *found;
	char **clients;		/* OIDC clients of the session */
	size_t nclients;
};

static void
collect_sp(const struct session_sp *sp, void *arg)
{
	struct sp_list *l = arg;
	char *b64;

	if (sp->state == NULL) {	/* an OIDC client: no SAML state */
		l->clients = xreallocarray(l->clients, l->nclients + 1, sizeof(char *));
		l->clients[l->nclients++] = xstrdup(sp->entity_id);
		return;
	}

	if (l->want && !strcmp(sp->entity_id, l->want) && sp->state && l->found == NULL)
		l->found = xstrdup(sp->state);
	if (sp->state == NULL || (l->skip && !strcmp(sp->entity_id, l->skip)))
		return;
	b64 = b64_encode(sp->state, strlen(sp->state));
	buf_printf(&l->out, "%s\t%s\n", sp->entity_id, b64);
	free(b64);
}

static void
logged_out_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req, int partial)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();
	char *url = login_url(t, NULL);

	tmpl_set(v, "title", page_msg(idp->pages, lang, "logged_out_title"));
	tmpl_set(v, "login_url", url);
	if (partial)
		tmpl_set(v, "partial", "1");
	page_render(idp->pages, req, 200, "logged_out.html", v);
	tmpl_vars_free(v);
	free(url);
}

/* Pop the first "entity TAB state" line from l->remaining into entity and state. */
static int
next_sp(struct logout_state *l, char **entity, char **state)
{
	char *line = l->remaining, *nl, *tab, *rest;
	unsigned char *raw;
	size_t n;

	if (line == NULL || *line == '\0')
		return 0;
	nl = strchr(line, '\n');
	tab = strchr(line, '\t');
	if (nl == NULL || tab == NULL || tab > nl)
		return -1;
	*entity = xstrndup(line, (size_t)(tab - line));
	raw = b64_decode(tab + 1, (size_t)(nl - tab - 1), 0, 1 << 20, &n);
	*state = (char *)raw;
	rest = xstrdup(nl + 1);
	free(l->remaining);
	l->remaining = rest;
	if (raw == NULL) {
		free(*entity);
		return -1;
	}
	return 1;
}

/* Ask the next SP, or finish: answer the SP that started, or show the page. */
static void
advance(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *id,
    struct logout_state *l)
{
	struct saml_answer ans = { 0 };
	char *entity, *state, *pending;
	const char *errstr;
	int rc;

	while ((rc = next_sp(l, &entity, &state)) == 1) {
		if (saml_slo_init(t->saml, entity, state, id, &ans, &pending, &errstr) == 0) {
			free(l->current);
			free(l->current_state);
			l->current = entity;
			l->current_state = pending;
			free(state);
			if (store_logout_put(idp->in.store, t->id, id, l) < 0) {
				saml_answer_clear(&ans);
				break;
			}
			sso_send(idp, req, &ans, ans.field ? id : NULL);
			saml_answer_clear(&ans);
			return;
		}
		log_info("tenant %s: cannot ask %s to log out: %s", t->id, entity, errstr);
		audit_event(idp->in.store, t->id, "saml.slo.partial", "user", l->user, "sp", entity,
		    "reason", errstr, NULL);
		l->partial = 1;
		free(entity);
		free(state);
	}
	if (rc < 0)
		l->partial = 1;
	store_logout_delete(idp->in.store, t->id, id);
	audit_event(idp->in.store, t->id, "logout", "user", l->user, "origin", l->origin,
	    "partial", l->partial ? "yes" : "no", NULL);
	if (l->origin == NULL && l->return_to) {
		http_redirect(req, l->return_to);
		return;
	}
	if (l->origin == NULL) {
		logged_out_page(idp, t, req, (int)l->partial);
		return;
	}
	if (saml_slo_answer(t->saml, l->state, (int)l->partial, &ans, &errstr) == -1) {
		log_error("tenant %s: cannot answer %s: %s", t->id, l->origin, errstr);
		logged_out_page(idp, t, req, 1);
		return;
	}
	sso_send(idp, req, &ans, l->relay_state);
	saml_answer_clear(&ans);
}

/* OIDC clients of the ended session: back-channel logout tokens (RFC-style, OIDC BCL). */
static void
notify_clients(struct idp *idp, struct tenant_ctx *t, struct sso_session *ss, char **clients,
    size_t n)
{
	char *sid = oidc_sid(t, ss->hash);
	int64_t now = clock_now();

	for (size_t i = 0; i < n; i++) {
		const struct oidc_client *c = oidc_client_find(t->oidc, clients[i]);
		char *jti, *tok;
		json_t *cl;
		if (c == NULL || c->backchannel_uri == NULL)
			continue;
		jti = crypto_random_token(18);
		cl = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:{s:{}}}", "iss", t->base,
		    "aud", c->client_id, "sub", ss->user.id, "iat", (json_int_t)now,
		    "exp", (json_int_t)(now + 120), "jti", jti, "sid", sid, "events",
		    "http://schemas.openid.net/event/backchannel-logout");
		/* Signed like the client's ID tokens (Back-Channel Logout 1.0, 2.4). */
		if ((tok = jose_sign(oidc_signing_key(t->oidc, c->id_token_alg), "logout+jwt",
		    cl)) != NULL)
			backchannel_send(c->backchannel_uri, tok,
			    idp->in.settings.oidc_backchannel_timeout);
		freezero_str(tok);
		json_decref(cl);
		free(jti);
	}
	free(sid);
}

/* Start propagation with the session already known; origin may be NULL. */
static void
begin(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct sso_session *ss,
    const char *origin, char *origin_state, const char *relay, const char *return_to)
{
	struct sp_list sl = { .skip = origin };
	struct logout_state l = { 0 };
	char *id = crypto_random_token(32);

	buf_init(&sl.out, 0);
	store_session_sps(idp->in.store, t->id, ss->hash, collect_sp, &sl);
	session_end(idp, t, req, ss->hash);
	/* Refresh tokens of the session die with it; its OIDC clients hear of it. */
	store_revoke_session_grants(idp->in.store, t->id, ss->hash);
	notify_clients(idp, t, ss, sl.clients, sl.nclients);
	for (size_t i = 0; i < sl.nclients; i++)
		free(sl.clients[i]);
	free(sl.clients);
	/* Recorded now: an SP that never answers must not hide that the session ended. */
	audit_event(idp->in.store, t->id, "logout.start", "user", ss->user.name, "origin", origin,
	    "ip", http_client_ip(req), NULL);
	l.return_to = return_to ? xstrdup(return_to) : NULL;
	l.origin = origin ? xstrdup(origin) : NULL;
	l.state = origin_state;
	l.remaining = buf_steal(&sl.out, NULL);
	l.relay_state = relay ? xstrdup(relay) : NULL;
	l.user = xstrdup(ss->user.name);
	l.expires = (uint64_t)(clock_now() + LOGOUT_LIFETIME);
	advance(idp, t, req, id, &l);
	store_logout_clear(&l);
	free(id);
}

void
slo_start(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct sso_session *ss,
    const char *return_to)
{
	begin(idp, t, req, ss, NULL, NULL, NULL, return_to);
}

static void
slo_reject(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *sp,
    const char *reason)
{
	audit_event(idp->in.store, t->id, "saml.slo.reject", "sp", sp, "ip", http_client_ip(req),
	    "reason", reason, NULL);
	page_error(idp->pages, req, 400, "error_logout_request", "hint_contact_admin");
}

static void
logout_request(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct inbound *in)
{
	struct sp_list sl = { .want = in->m.issuer };
	struct saml_answer ans = { 0 };
	struct sso_session ss;
	char *origin_state = NULL;
	const char *errstr;
	int have, rc;

	have = session_current(idp, t, req, &ss);
	buf_init(&sl.out, 0);
	if (have == 1)
		store_session_sps(idp->in.store, t->id, ss.hash, collect_sp, &sl);
	buf_free(&sl.out);
	for (size_t i = 0; i < sl.nclients; i++)
		free(sl.clients[i]);
	free(sl.clients);
	rc = saml_slo_request(t->saml, in->binding, in->msg, sl.found, &origin_state, &ans, &errstr);
	if (rc == 1) {
		audit_event(idp->in.store, t->id, "saml.slo", "user", ss.user.name, "sp",
		    in->m.issuer, "ip", http_client_ip(req), NULL);
		begin(idp, t, req, &ss, in->m.issuer, origin_state,
		    in->binding == SAML_BINDING_POST ? in->relay_state : NULL, NULL);
	} else if (rc == 0) {
		/* The SP gets its answer; nothing of ours ends unless the request was valid. */
		audit_event(idp->in.store, t->id, sl.found ? "saml.slo.reject" : "saml.slo.nosession",
		    "sp", in->m.issuer, "ip", http_client_ip(req), "reason", errstr, NULL);
		sso_send(idp, req, &ans, in->binding == SAML_BINDING_POST ? in->relay_state : NULL);
	} else {
		slo_reject(idp, t, req, in->m.issuer, errstr);
	}
	saml_answer_clear(&ans);
	free(sl.found);
	if (have == 1)
		session_clear(&ss);
}

/* The SP being asked has answered (failed: why is set); go on with the next.  Frees l. */
static void
current_done(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *id,
    struct logout_state *l, const char *why)
{
	if (why) {
		audit_event(idp->in.store, t->id, "saml.slo.partial", "user", l->user, "sp",
		    l->current, "reason", why, NULL);
		l->partial = 1;
	}
	free(l->current);
	free(l->current_state);
	l->current = l->current_state = NULL;
	advance(idp, t, req, id, l);
	store_logout_clear(l);
}

static void
logout_response(struct idp *idp, struct tenant_ctx *t, struct http_req *req, struct inbound *in)
{
	struct logout_state l;
	const char *id = in->relay_state, *errstr;
	int rc;

	if (id == NULL || store_logout_get(idp->in.store, t->id, id, &l) != 1) {
		slo_reject(idp, t, req, in->m.issuer, "no logout in progress");
		return;
	}
	if ((int64_t)l.expires < clock_now() || l.current == NULL ||
	    strcmp(l.current, in->m.issuer)) {
		slo_reject(idp, t, req, in->m.issuer, "unexpected LogoutResponse");
		store_logout_clear(&l);
		return;
	}
	rc = saml_slo_response(t->saml, l.current_state, in->binding, in->msg, &errstr);
	current_done(idp, t, req, id, &l, rc == 1 ? NULL : errstr);
}

/*
 * A LogoutResponse we refuse still belongs to a logout in progress: count that SP as not
 * confirmed and go on with the others, so one SP cannot stop the logout of the rest.
 * 1 when there was such a logout.
 */
static int
carry_on(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *id,
    const char *why)
{
	struct logout_state l;

	if (id == NULL || strlen(id) > 80 || store_logout_get(idp->in.store, t->id, id, &l) != 1)
		return 0;
	if ((int64_t)l.expires < clock_now() || l.current == NULL) {
		store_logout_clear(&l);
		return 0;
	}
	audit_event(idp->in.store, t->id, "saml.slo.reject", "sp", l.current, "ip",
	    http_client_ip(req), "reason", why, NULL);
	current_done(idp, t, req, id, &l, "LogoutResponse refused");
	return 1;
}

void
slo_endpoint(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	int post = !strcmp(http_method(req), "POST");
	const struct form *src = post ? http_form(req) : http_query(req);
	int is_response = form_get(src, "SAMLResponse") != NULL;
	char *endpoint = xasprintf("%s/saml/slo", t->base);
	struct inbound in;
	const char *errstr;

	/* Logout messages are signed: they end sessions. */
	if (sso_inbound(idp, t, req, is_response ? "SAMLResponse" : "SAMLRequest",
	    is_response ? "LogoutResponse" : "LogoutRequest", endpoint, clock_now(), 1, &in,
	    &errstr) == -1) {
		if (!is_response || !carry_on(idp, t, req, form_get(src, "RelayState"), errstr))
			slo_reject(idp, t, req, in.m.issuer, errstr);
	} else if (is_response)
		logout_response(idp, t, req, &in);
	else
		logout_request(idp, t, req, &in);
	sso_inbound_clear(&in);
	free(endpoint);
}
