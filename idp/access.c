/*
 * Access decisions at login and at every SSO.  The rule set is the tenant context's (built
 * when the configuration generation changes), so a new rule counts from the next request;
 * the user's groups are read per request, so a removal from a group counts at once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "audit.h"
#include "clock.h"
#include "crypto.h"
#include "device.h"
#include "log.h"
#include "rules.h"
#include "tmpl.h"
#include "xmalloc.h"

struct check {
	struct idp *idp;
	struct tenant_ctx *t;
	struct http_req *req;
	const struct user *u;
	const char *app;	/* its name, or NULL */
	const char *stage;
	const char *methods;	/* what the session has proven; NULL: a password just now */
	int want_mfa;		/* the app asked for a second factor itself */
	struct rule_decision d;
};

static void
new_ref(char ref[ACCESS_REF_LEN])
{
	unsigned char b[4];

	crypto_random(b, sizeof(b));
	snprintf(ref, ACCESS_REF_LEN, "%02X%02X-%02X%02X", b[0], b[1], b[2], b[3]);
}

/* Evaluate c's request into c->d: 0, or -1 when the user's groups cannot be read. */
static int
decide(struct check *c)
{
	const struct tenant_app *a = c->app ? tenant_app_by_name(c->t, c->app) : NULL;
	char **groups = NULL;
	struct rule_query q = { .user = c->u->id, .app = a ? a->id : NULL,
		.ip = http_client_ip(c->req), .now = clock_now(),
		.break_glass = c->u->break_glass != 0 };

	if (ruleset_uses_groups(c->t->rules) &&
	    store_user_group_ids(c->idp->in.store, c->t->id, c->u->id, &groups) < 0)
		return -1;
	q.groups = groups;
	ruleset_evaluate(c->t->rules, &q, &c->d);
	store_strv_free(groups);
	return 0;
}

/* "deny,device,mfa": what break-glass passed ("none": nothing this time). */
static void
glass_skipped(unsigned skipped, char out[32])
{
	snprintf(out, 32, "%s%s%s%s", skipped & RULE_DENIED ? "deny," : "",
	    skipped & RULE_NEEDS_DEVICE ? "device," : "", skipped & RULE_NEEDS_MFA ? "mfa," : "",
	    skipped ? "" : "none");
	if (out[strlen(out) - 1] == ',')
		out[strlen(out) - 1] = '\0';
}

/* Every use of a break-glass account: an audit record of its own and a warning. */
static void
record_glass(const struct check *c)
{
	const char *ip = http_client_ip(c->req);
	char skipped[32];

	glass_skipped(c->d.glass_skipped, skipped);
	audit_event(c->idp->in.store, c->t->id, "access.break_glass", "user", c->u->name, "app",
	    c->app, "ip", ip, "stage", c->stage, "rule", c->d.glass_rule, "skipped", skipped,
	    NULL);
	log_warn("tenant %s: break-glass account %s used (%s, app %s, from %s; passed: %s)",
	    c->t->id, c->u->name, c->stage, c->app ? c->app : "-", ip, skipped);
}

static void
record_reports(const struct check *c)
{
	for (size_t i = 0; i < c->d.nreports && i < RULE_REPORTS_MAX; i++)
		audit_event(c->idp->in.store, c->t->id, "policy.report", "rule",
		    c->d.reports[i].rule, "effect", c->d.reports[i].effect, "user", c->u->name,
		    "app", c->app, "ip", http_client_ip(c->req), "stage", c->stage, NULL);
}

static void
record_refusal(const struct check *c, const char *event, struct access_result *r)
{
	new_ref(r->ref);
	audit_event(c->idp->in.store, c->t->id, event, "user", c->u->name, "app", c->app, "ip",
	    http_client_ip(c->req), "stage", c->stage, "rule", r->rule, "ref", r->ref, NULL);
}

/*
 * A second factor is wanted and not proven: to the factor page when the user has one,
 * to enrolment when every rule that asked allows it, else refused.
 */
static enum access_outcome
mfa_outcome(struct check *c, struct access_result *r)
{
	int n = 0;

	r->rule = c->d.mfa_rule ? c->d.mfa_rule : "requested";
	if (store_factor_count(c->idp->in.store, c->t->id, c->u->id, &n) < 0)
		return ACCESS_ERROR;
	if (n > 0)
		return ACCESS_MFA;
	return c->d.mfa_rule && c->d.mfa_enroll && !c->want_mfa ? ACCESS_ENROL : ACCESS_NO_MFA;
}

/* The outcome of c->d for a session that proved device (serial) and c->methods. */
static enum access_outcome
outcome(struct check *c, struct access_result *r)
{
	int need_mfa = (c->d.requires & RULE_NEEDS_MFA) || c->want_mfa;

	r->rule = c->d.rule;
	if (c->d.deny)
		return ACCESS_DENY;
	if (c->methods == NULL) {
		/* After the password: an enrolled factor is always asked for (break-glass too). */
		enum access_outcome o = mfa_outcome(c, r);
		if (o == ACCESS_MFA || o == ACCESS_ERROR || need_mfa)
			return o;
		r->rule = c->d.rule;
	} else if (need_mfa && !session_methods_has(c->methods, "mfa")) {
		return mfa_outcome(c, r);
	}
	if ((c->d.requires & RULE_NEEDS_DEVICE) && r->serial == NULL)
		return ACCESS_DEVICE;
	return ACCESS_PASS;
}

static enum access_outcome
run(struct check *c, struct access_result *r)
{
	if (decide(c) == -1)
		return r->outcome = ACCESS_ERROR;
	if ((r->outcome = outcome(c, r)) == ACCESS_ERROR)
		return r->outcome;
	record_reports(c);
	if (c->u->break_glass)
		record_glass(c);
	if (r->outcome == ACCESS_DENY)
		record_refusal(c, "access.deny", r);
	else if (r->outcome == ACCESS_NO_MFA)
		record_refusal(c, "access.mfa_missing", r);
	return r->outcome;
}

enum access_outcome
access_check(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const char *app, const char *stage, struct access_result *r)
{
	struct check c = { .idp = idp, .t = t, .req = req, .u = &ss->user, .app = app,
		.stage = stage, .methods = ss->s.methods ? ss->s.methods : "" };

	memset(r, 0, sizeof(*r));
	if (device_checked(idp, t, ss, &r->serial) == -1)
		return r->outcome = ACCESS_ERROR;
	return run(&c, r);
}

enum access_outcome
access_check_mfa(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, const char *app, int want_mfa, struct access_result *r)
{
	struct check c = { .idp = idp, .t = t, .req = req, .u = &ss->user, .app = app,
		.stage = "sso", .methods = ss->s.methods ? ss->s.methods : "",
		.want_mfa = want_mfa };

	memset(r, 0, sizeof(*r));
	if (device_checked(idp, t, ss, &r->serial) == -1)
		return r->outcome = ACCESS_ERROR;
	return run(&c, r);
}

enum access_outcome
access_check_login(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *app, const char *methods, struct access_result *r)
{
	struct check c = { .idp = idp, .t = t, .req = req, .u = u, .app = app,
		.stage = "login", .methods = methods };

	memset(r, 0, sizeof(*r));
	return run(&c, r);
}

enum access_outcome
access_check_user(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct user *u, const char *app, struct access_result *r)
{
	return access_check_login(idp, t, req, u, app, NULL, r);
}

int
access_reachable(struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    const struct sso_session *ss, unsigned char *reach)
{
	struct rule_query q = { .user = ss->user.id, .ip = http_client_ip(req),
		.now = clock_now(), .break_glass = ss->user.break_glass != 0 };
	struct rule_decision d;
	char **groups = NULL;

	/* The groups once for every app: the portal asks about all of them. */
	if (ruleset_uses_groups(t->rules) &&
	    store_user_group_ids(idp->in.store, t->id, ss->user.id, &groups) < 0)
		return -1;
	q.groups = groups;
	for (size_t i = 0; i < t->napps; i++) {
		q.app = t->apps[i].id;
		ruleset_evaluate(t->rules, &q, &d);
		/* A device or a second factor can still be proven on the way: refusals hide. */
		reach[i] = !d.deny;
	}
	store_strv_free(groups);
	return 0;
}

void
access_refuse_page(struct idp *idp, struct http_req *req, const struct access_result *r)
{
	const char *lang = page_lang(req);
	struct tmpl_vars *v = tmpl_vars_new();

	tmpl_set(v, "title", page_msg(idp->pages, lang, "access_title"));
	tmpl_set(v, "message", page_msg(idp->pages, lang, r->outcome == ACCESS_NO_MFA ?
	    "access_no_mfa" : "access_denied"));
	tmpl_set(v, "ref", r->ref);
	http_add_header(req, "Cache-Control", "no-store");
	page_render(idp->pages, req, 403, "refused.html", v);
	tmpl_vars_free(v);
}
