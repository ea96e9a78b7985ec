/*
 * Logout across protocols: the session ends here, each protocol hears about its own apps
 * of that session only (so none can end what it does not own), and the browser finishes
 * where the request asked or on our page.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "login.h"
#include "logout.h"
#include "xmalloc.h"

#define NPROTOCOLS_MAX 8

struct by_protocol {
	const struct tenant_ctx *t;
	struct logout_apps apps[NPROTOCOLS_MAX];
};

/* File each app of the session under its protocol; apps removed since are dropped. */
static void
collect(const void *rec, void *arg)
{
	const struct session_sp *sp = rec;
	struct by_protocol *bp = arg;
	const struct tenant_app *a = tenant_app_by_key(bp->t, sp->entity_id);
	struct logout_apps *la;
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; protocols[i] && strcmp(protocols[i]->name, a->type); i++)
		;
	if (protocols[i] == NULL || i >= NPROTOCOLS_MAX)
		return;
	la = &bp->apps[i];
	la->v = xreallocarray(la->v, la->n + 1, sizeof(*la->v));
	la->v[la->n].entity_id = xstrdup(sp->entity_id);
	la->v[la->n].state = sp->state ? xstrdup(sp->state) : NULL;
	la->v[la->n].when = sp->when;
	la->n++;
}

static void
apps_clear(struct by_protocol *bp)
{
	for (size_t i = 0; i < NPROTOCOLS_MAX; i++) {
		for (size_t j = 0; j < bp->apps[i].n; j++)
			store_session_sp_clear(&bp->apps[i].v[j]);
		free(bp->apps[i].v);
	}
}

void
logout_audit_end(struct idp *idp, struct tenant_ctx *t, const char *user, const char *origin,
    int partial)
{
	audit_event(idp->in.store, t->id, "logout", "user", user, "origin", origin,
	    "partial", partial ? "yes" : "no", NULL);
}

void
logout_finish(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *user,
    const char *return_to, int partial)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v;
	char *url;

	logout_audit_end(idp, t, user, NULL, partial);
	if (return_to) {
		http_redirect(req, return_to);
		return;
	}
	v = tmpl_vars_new();
	url = login_url(t, NULL);
	tmpl_set(v, "title", page_msg(idp->pages, lang, "logged_out_title"));
	tmpl_set(v, "login_url", url);
	if (partial)
		tmpl_set(v, "partial", "1");
	page_render(idp->pages, req, 200, "logged_out.html", v);
	tmpl_vars_free(v);
	free(url);
}

void
logout_session(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    struct sso_session *ss, struct logout_origin *origin)
{
	struct logout_origin none = { 0 };
	struct by_protocol bp = { .t = t };
	int answered = 0;

	if (origin == NULL)
		origin = &none;
	store_session_sps(idp->in.store, t->id, ss->hash, collect, &bp);
	session_end(idp, t, req, ss->hash);
	/* Recorded now: an app that never answers must not hide that the session ended. */
	audit_event(idp->in.store, t->id, "logout.start", "user", ss->user.name, "origin",
	    origin->app, "ip", http_client_ip(req), NULL);
	for (size_t i = 0; protocols[i] && i < NPROTOCOLS_MAX; i++)
		if (protocols[i]->ended)
			protocols[i]->ended(idp, t, ss, &bp.apps[i]);
	for (size_t i = 0; protocols[i] && i < NPROTOCOLS_MAX && !answered; i++)
		if (protocols[i]->front_logout)
			answered = protocols[i]->front_logout(idp, t, req, ss, &bp.apps[i], origin);
	if (!answered)
		logout_finish(idp, t, req, ss->user.name, origin->return_to, 0);
	free(origin->state);	/* not taken by its protocol */
	origin->state = NULL;
	apps_clear(&bp);
}

int
logout_other(struct idp *idp, struct tenant_ctx *t, const struct user *u,
    const unsigned char hash[32], const struct audit_entry *ae)
{
	struct by_protocol bp = { .t = t };
	struct sso_session other = { .user = *u };	/* borrowed: not cleared below */
	int rc;

	memcpy(other.hash, hash, sizeof(other.hash));
	rc = store_session_get(idp->in.store, t->id, hash, &other.s);
	if (rc == 1 && (other.s.user == NULL || strcmp(other.s.user, u->id)))
		rc = 0;
	if (rc == 1)
		store_session_sps(idp->in.store, t->id, hash, collect, &bp);
	/* The store checks the owner again in the write that ends it. */
	if (rc == 1)
		rc = store_session_end_user(idp->in.store, t->id, u->id, hash, ae);
	for (size_t i = 0; rc == 1 && protocols[i] && i < NPROTOCOLS_MAX; i++)
		if (protocols[i]->ended)
			protocols[i]->ended(idp, t, &other, &bp.apps[i]);
	store_session_clear(&other.s);
	apps_clear(&bp);
	return rc;
}
