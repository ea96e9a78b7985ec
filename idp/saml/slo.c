/*
 * SAML Single Logout: a LogoutRequest from one SP has the core end the session; then (as
 * for any logout the core started) each other SP of the session is asked in turn through
 * the browser, and the SP that started gets its LogoutResponse.  Each SP is handled with
 * its own part of the session only, so no SP can end what it does not own.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "log.h"
#include "logout.h"
#include "sso.h"
#include "xmalloc.h"

#define LOGOUT_LIFETIME 600

/* This SP's part of the session (its lasso session dump), to check its LogoutRequest. */
struct sp_find {
	const char *want;
	char *found;
};

static void
find_sp(const void *rec, void *arg)
{
	const struct session_sp *sp = rec;
	struct sp_find *f = arg;

	if (sp->state && f->found == NULL && !strcmp(sp->entity_id, f->want))
		f->found = xstrdup(sp->state);
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
		if (saml_slo_init(t->saml->idp, entity, state, id, &ans, &pending, &errstr) == 0) {
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
	if (l->origin == NULL) {
		logout_finish(idp, t, req, l->user, l->return_to, (int)l->partial);
		return;
	}
	logout_audit_end(idp, t, l->user, l->origin, (int)l->partial);
	if (saml_slo_answer(t->saml->idp, l->state, (int)l->partial, &ans, &errstr) == -1) {
		log_error("tenant %s: cannot answer %s: %s", t->id, l->origin, errstr);
		logout_finish(idp, t, req, l->user, NULL, 1);
		return;
	}
	sso_send(idp, req, &ans, l->relay_state);
	saml_answer_clear(&ans);
}

/* The SPs still to ask, as "entity TAB base64(state)" lines (the one that asked is not). */
static char *
remaining(const struct logout_apps *apps, const char *skip)
{
	struct buf out;

	buf_init(&out, 0);
	for (size_t i = 0; i < apps->n; i++) {
		const struct session_sp *sp = &apps->v[i];
		char *b64;
		if (sp->state == NULL || (skip && !strcmp(sp->entity_id, skip)))
			continue;
		b64 = b64_encode(sp->state, strlen(sp->state));
		buf_printf(&out, "%s\t%s\n", sp->entity_id, b64);
		free(b64);
	}
	return buf_steal(&out, NULL);
}

int
slo_front(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const struct logout_apps *apps,
    struct logout_origin *origin)
{
	int ours = origin->protocol && !strcmp(origin->protocol, "saml");
	struct logout_state l = { 0 };
	char *id;

	l.remaining = remaining(apps, ours ? origin->app : NULL);
	if (!ours && *l.remaining == '\0') {
		free(l.remaining);
		return 0;
	}
	id = crypto_random_token(32);
	l.return_to = origin->return_to ? xstrdup(origin->return_to) : NULL;
	if (ours) {
		l.origin = xstrdup(origin->app);
		l.state = origin->state;
		origin->state = NULL;
		l.relay_state = origin->relay_state ? xstrdup(origin->relay_state) : NULL;
	}
	l.user = xstrdup(ss->user.name);
	l.expires = (uint64_t)(clock_now() + LOGOUT_LIFETIME);
	advance(idp, t, req, id, &l);
	store_logout_clear(&l);
	free(id);
	return 1;
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
	struct sp_find f = { .want = in->m.issuer };
	struct saml_answer ans = { 0 };
	struct sso_session ss;
	char *origin_state = NULL;
	const char *errstr;
	int have, rc;

	have = session_current(idp, t, req, &ss);
	if (have == 1)
		store_session_sps(idp->in.store, t->id, ss.hash, find_sp, &f);
	rc = saml_slo_request(t->saml->idp, in->binding, in->msg, in->m.issuer, f.found,
	    &origin_state, &ans, &errstr);
	if (rc == 1) {
		struct logout_origin o = { "saml", in->m.issuer, origin_state,
			in->binding == SAML_BINDING_POST ? in->relay_state : NULL, NULL };
		audit_event(idp->in.store, t->id, "saml.slo", "user", ss.user.name, "sp",
		    in->m.issuer, "ip", http_client_ip(req), NULL);
		logout_session(idp, t, req, &ss, &o);
	} else if (rc == 0) {
		/* The SP gets its answer; nothing of ours ends unless the request was valid. */
		audit_event(idp->in.store, t->id, f.found ? "saml.slo.reject" : "saml.slo.nosession",
		    "sp", in->m.issuer, "ip", http_client_ip(req), "reason", errstr, NULL);
		sso_send(idp, req, &ans, in->binding == SAML_BINDING_POST ? in->relay_state : NULL);
	} else {
		slo_reject(idp, t, req, in->m.issuer, errstr);
	}
	saml_answer_clear(&ans);
	free(f.found);
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
	rc = saml_slo_response(t->saml->idp, l.current_state, in->binding, in->msg, in->m.issuer,
	    in->m.in_response_to, &errstr);
	if (rc == -1)
		audit_event(idp->in.store, t->id, "saml.slo.reject", "sp", l.current, "ip",
		    http_client_ip(req), "reason", errstr, NULL);
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

/*
 * "Sign out of all applications?" for the SP sp: the form posts to the core's logout
 * with the token that page checks (bound to this session), so the normal logout runs.
 */
static void
confirm_page(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const struct saml_sp *sp)
{
	const struct tenant_app *a = tenant_app_by_name(t, sp->app);
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();
	char binding[65], *csrf, *logout = xasprintf("%slogout", t->path);
	char *portal = xasprintf("%sportal", t->path);

	hex_encode(ss->hash, sizeof(ss->hash), binding);
	csrf = session_csrf_token(t, "logout", binding);
	tmpl_set(v, "title", page_msg(idp->pages, lang, "portal_slo_title"));
	tmpl_set(v, "app_name", a ? a->display_name : sp->entity_id);
	tmpl_set(v, "csrf", csrf);
	tmpl_set(v, "logout_url", logout);
	tmpl_set(v, "portal_url", portal);
	http_add_header(req, "Cache-Control", "no-store");
	page_render(idp->pages, req, 200, "slo_confirm.html", v);
	tmpl_vars_free(v);
	free(csrf);
	free(logout);
	free(portal);
}

/*
 * An unsigned LogoutRequest.  Anyone can make a browser send one, so it never ends a
 * session by itself.  An SP whose metadata has a signing key should have signed it:
 * refused.  An SP without one (SimpleSAMLphp's default) cannot: the user is asked, and
 * the normal logout runs when they confirm (a POST with the logout CSRF token).
 */
static void
unsigned_request(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct inbound *in)
{
	struct sso_session ss;
	char *url;
	int have;

	if (saml_keys_count(in->sp->keys) > 0) {
		slo_reject(idp, t, req, in->m.issuer,
		    "unsigned LogoutRequest from an SP that signs");
		return;
	}
	if ((have = session_current(idp, t, req, &ss)) < 0) {
		page_error(idp->pages, req, 503, "error_server", NULL);
		return;
	}
	audit_event(idp->in.store, t->id, "saml.slo.confirm", "user",
	    have == 1 ? ss.user.name : NULL, "sp", in->m.issuer, "ip", http_client_ip(req), NULL);
	if (have == 1) {
		confirm_page(idp, t, req, &ss, in->sp);
		session_clear(&ss);
		return;
	}
	/* Nothing to end here: the core's logout page says so. */
	url = xasprintf("%slogout", t->path);
	http_redirect(req, url);
	free(url);
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

	/*
	 * Logout messages are signed: they end sessions.  Responses must be; requests are
	 * checked here, and an unsigned one is refused or confirmed by the user.
	 */
	if (sso_inbound(idp, t, req, is_response ? "SAMLResponse" : "SAMLRequest",
	    is_response ? "LogoutResponse" : "LogoutRequest", endpoint, clock_now(),
	    is_response, &in, &errstr) == -1) {
		if (!is_response || !carry_on(idp, t, req, form_get(src, "RelayState"), errstr))
			slo_reject(idp, t, req, in.m.issuer, errstr);
	} else if (is_response)
		logout_response(idp, t, req, &in);
	else if (!in.signed_msg)
		unsigned_request(idp, t, req, &in);
	else
		logout_request(idp, t, req, &in);
	sso_inbound_clear(&in);
	free(endpoint);
}
