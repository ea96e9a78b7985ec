/*
 * Access rules in the console: the ordered list with up/down moves, the form that adds a
 * rule, a rule's page (every member of the API's rule; save, delete) and the simulator
 * (`policy test`) with its verdict and reasons, all through admin_policy_*.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_policy.h"
#include "buf.h"
#include "console_int.h"
#include "xmalloc.h"

#define FIELD_MAX 8192		/* bytes of one list field of the form */

/* ---- a rule as the forms show it ---- */

/* list (items split by sep) as words separated by blanks, into item's name. */
static void
set_words(struct tmpl_vars *v, const char *name, const char *list)
{
	char *s = list ? xstrdup(list) : NULL;

	for (char *p = s; p && *p; p++)
		if (*p == '\n' || *p == ',')
			*p = ' ';
	tmpl_set(v, name, s && *s ? s : NULL);
	free(s);
}

static void
rule_vars(struct tmpl_vars *v, const struct rule_rec *r)
{
	static const char *const effects[] = { "allow", "deny", "device", "mfa" };

	tmpl_set(v, "rule_name", r->name);
	tmpl_set(v, "effect", r->effect);
	for (size_t i = 0; i < sizeof(effects) / sizeof(effects[0]); i++) {
		char key[24] = "effect_";
		strncat(key, effects[i], sizeof(key) - 8);
		tmpl_set(v, key, r->effect && !strcmp(r->effect, effects[i]) ? "1" : NULL);
	}
	set_words(v, "users", r->user_names);
	set_words(v, "groups", r->group_names);
	set_words(v, "apps", r->app_names);
	set_words(v, "from", r->from);
	set_words(v, "not_from", r->not_from);
	set_words(v, "days", r->days);
	tmpl_set(v, "hours", r->hours);
	tmpl_set(v, "enroll", r->mfa_enroll ? "1" : NULL);
	tmpl_set(v, "report_only", r->report_only ? "1" : NULL);
}

/* ---- a rule from the form ---- */

/* The words of field (blanks or commas between) joined with sep: new, or NULL when none. */
static char *
words(struct console_req *c, const char *field, char sep, int *bad)
{
	const char *s = console_field(c, field);
	struct buf b;

	if (s && strlen(s) > FIELD_MAX) {
		*bad = admin_fail(&c->adm, ADMIN_INVALID, field, "%s: at most %d characters",
		    field, FIELD_MAX);
		return NULL;
	}
	buf_init(&b, 0);
	for (const char *p = s ? s : ""; *p; ) {
		size_t n = strcspn(p, " \t\r\n,");
		if (n)
			buf_printf(&b, "%s%.*s", b.len ? (char[]){ sep, 0 } : "", (int)n, p);
		p += n;
		p += strspn(p, " \t\r\n,");
	}
	return b.len ? buf_steal(&b, NULL) : (buf_free(&b), NULL);
}

/*
 * The form's conditions and effect into r (a copy of name too; clear it with
 * store_rule_clear): 0, or -1 after admin_fail.
 */
static int
rule_from_form(struct console_req *c, const char *name, struct rule_rec *r)
{
	const char *effect = console_field(c, "effect"), *hours = console_field(c, "hours");
	int bad = 0;

	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->user_names = words(c, "users", '\n', &bad);
	r->group_names = words(c, "groups", '\n', &bad);
	r->app_names = words(c, "apps", '\n', &bad);
	r->from = words(c, "from", ' ', &bad);
	r->not_from = words(c, "not_from", ' ', &bad);
	r->days = words(c, "days", ',', &bad);
	if (bad)
		return -1;
	if (effect == NULL || !*effect)
		return admin_fail(&c->adm, ADMIN_INVALID, "effect", "a rule needs an effect");
	if (hours && strlen(hours) > 32)
		return admin_fail(&c->adm, ADMIN_INVALID, "hours", "hours: HH:MM-HH:MM");
	r->effect = xstrdup(effect);
	r->hours = hours && *hours ? xstrdup(hours) : NULL;
	r->mfa_enroll = console_field(c, "enroll") != NULL;
	r->report_only = console_field(c, "report_only") != NULL;
	return 0;
}

/* ---- the list ---- */

struct listing {
	struct console_req *c;
	struct tmpl_vars *v;
	char **names;
	struct tmpl_vars **items;
	size_t n;
};

static void
name_row(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;
	struct listing *l = arg;
	struct tmpl_vars *item = tmpl_add_item(l->v, "rules");
	char *named = console_named(l->c, "rule", r->name), *url = console_url(l->c, named);
	struct buf b;
	char *summary;

	l->names = xreallocarray(l->names, l->n + 1, sizeof(*l->names));
	l->items = xreallocarray(l->items, l->n + 1, sizeof(*l->items));
	l->items[l->n] = item;
	l->names[l->n++] = xstrdup(r->name);
	rule_vars(item, r);
	tmpl_set(item, "url", url);
	buf_init(&b, 0);
	rule_format(r, &b);
	summary = buf_steal(&b, NULL);
	tmpl_set(item, "summary", summary);
	free(summary);
	free(named);
	free(url);
}

/* Each row's moves: up goes before the one above; down before the one two below. */
static void
moves(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct tmpl_vars *item = l->items[i];
		char pos[24];
		snprintf(pos, sizeof(pos), "%zu", i + 1);
		tmpl_set(item, "pos", pos);
		if (i > 0) {
			tmpl_set(item, "may_up", "1");
			tmpl_set(item, "up_before", l->names[i - 1]);
		}
		if (i + 1 < l->n) {
			tmpl_set(item, "may_down", "1");
			tmpl_set(item, "down_before", i + 2 < l->n ? l->names[i + 2] : "");
		}
	}
}

void
console_rules_get(struct console_req *c)
{
	struct listing l = { c, tmpl_vars_new(), NULL, NULL, 0 };

	if (store_rule_list(c->idp->in.store, c->t->id, name_row, &l) < 0) {
		console_error(c, 503, "error_server", "");
	} else {
		moves(&l);
		tmpl_set(l.v, "title", page_msg(c->idp->pages, c->lang, "console_rules"));
		tmpl_set(l.v, "effect_allow", "1");
		console_render(c, 200, "console_rules.html", l.v);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	free(l.items);
	tmpl_vars_free(l.v);
}

void
console_rule_add(struct console_req *c)
{
	const char *name = console_field(c, "name"), *before = console_field(c, "before");
	struct rule_rec r;

	if (name == NULL || !*name) {
		admin_fail(&c->adm, ADMIN_INVALID, "name", "a rule needs a name");
		console_failed(c, "rules");
		return;
	}
	if (rule_from_form(c, name, &r) < 0 ||
	    admin_policy_add(&c->adm, &r, before && *before ? before : NULL) < 0)
		console_failed(c, "rules");
	else
		console_done_at(c, "rule", name, "console_done_rule_added");
	store_rule_clear(&r);
}

/* ---- one rule ---- */

void
console_rule_get(struct console_req *c)
{
	const char *name = console_name(c);
	struct tmpl_vars *v;
	struct rule_rec r;
	int pos;
	char n[24];

	memset(&r, 0, sizeof(r));
	if (name == NULL || admin_policy_get(&c->adm, name, &r, &pos) < 0) {
		store_rule_clear(&r);
		console_error(c, c->adm.status == ADMIN_FAILED ? 503 : 404, c->adm.status ==
		    ADMIN_FAILED ? "error_server" : "console_no_rule", "rules");
		return;
	}
	v = tmpl_vars_new();
	rule_vars(v, &r);
	snprintf(n, sizeof(n), "%d", pos);
	tmpl_set(v, "pos", n);
	tmpl_set(v, "title", name);
	tmpl_set(v, "name", name);
	console_render(c, 200, "console_rule.html", v);
	tmpl_vars_free(v);
	store_rule_clear(&r);
}

/* Fail for a form without a rule's name: -1. */
static int
no_rule(struct console_req *c)
{
	return admin_fail(&c->adm, ADMIN_NOT_FOUND, "name", "no such rule");
}

void
console_rule_edit(struct console_req *c)
{
	const char *name = console_name(c);
	struct rule_rec r;

	memset(&r, 0, sizeof(r));
	if (name == NULL ? no_rule(c) : rule_from_form(c, name, &r) < 0 ||
	    admin_policy_replace(&c->adm, &r) < 0)
		console_failed(c, "rules");
	else
		console_done_at(c, "rule", name, "console_done_rule_saved");
	store_rule_clear(&r);
}

void
console_rule_move(struct console_req *c)
{
	const char *name = console_name(c), *before = console_field(c, "before");

	if ((name == NULL ? no_rule(c) : admin_policy_move(&c->adm, name, before && *before ?
	    before : NULL)) < 0)
		console_failed(c, "rules");
	else
		console_done(c, "rules", "console_done_rule_moved");
}

void
console_rule_delete(struct console_req *c)
{
	const char *name = console_name(c);

	if ((name == NULL ? no_rule(c) : admin_policy_remove(&c->adm, name)) < 0)
		console_failed(c, "rules");
	else
		console_done(c, "rules", "console_done_rule_deleted");
}

/* ---- the simulator ---- */

/* The lines of text as items of list, each as "line". */
static void
lines(struct tmpl_vars *v, const char *list, const char *text, const char *seps)
{
	for (const char *p = text ? text : ""; *p; ) {
		size_t n = strcspn(p, seps);
		if (n) {
			char *s = xstrndup(p, n);
			tmpl_set(tmpl_add_item(v, list), "line", s);
			free(s);
		}
		p += n;
		p += strspn(p, seps);
	}
}

static void
verdict_vars(struct tmpl_vars *v, const struct admin_policy_verdict *vd)
{
	const struct rule_decision *d = &vd->d;

	tmpl_set(v, "tested", "1");
	tmpl_set(v, "denied", d->deny ? "1" : NULL);
	tmpl_set(v, "decided_by", d->rule ? d->rule : "default");
	lines(v, "requires", admin_policy_needs(d->requires), ",");
	lines(v, "missing", admin_policy_needs(vd->missing), ",");
	for (size_t i = 0; i < d->nreports; i++) {
		struct tmpl_vars *item = tmpl_add_item(v, "reports");
		tmpl_set(item, "report_rule", d->reports[i].rule);
		tmpl_set(item, "report_effect", d->reports[i].effect);
	}
	if (d->glass_skipped)
		tmpl_set(v, "break_glass", d->glass_rule ? d->glass_rule : "default");
	lines(v, "reasons", vd->explain, "\n");
}

/* "" means not given. */
static const char *
given(const char *s)
{
	return s && *s ? s : NULL;
}

void
console_rules_test(struct console_req *c)
{
	struct admin_policy_query q = { .user = console_param(c, "user"),
		.app = given(console_param(c, "app")), .ip = console_param(c, "ip"),
		.at = given(console_param(c, "time")) };
	struct tmpl_vars *v = tmpl_vars_new();
	struct admin_policy_verdict vd;
	int status = 200;

	memset(&vd, 0, sizeof(vd));
	q.proven = (console_param(c, "device") ? RULE_NEEDS_DEVICE : 0) |
	    (console_param(c, "mfa") ? RULE_NEEDS_MFA : 0);
	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_sim"));
	tmpl_set(v, "q_user", q.user);
	tmpl_set(v, "q_app", q.app);
	tmpl_set(v, "q_ip", q.ip);
	tmpl_set(v, "q_time", q.at);
	tmpl_set(v, "q_device", q.proven & RULE_NEEDS_DEVICE ? "1" : NULL);
	tmpl_set(v, "q_mfa", q.proven & RULE_NEEDS_MFA ? "1" : NULL);
	if (given(q.user) && given(q.ip) && strlen(q.user) <= STORE_NAME_MAX &&
	    (q.app == NULL || strlen(q.app) <= STORE_NAME_MAX) && strlen(q.ip) <= 64 &&
	    (q.at == NULL || strlen(q.at) <= 64)) {
		if (admin_policy_test(&c->adm, &q, &vd) < 0) {
			status = c->adm.status == ADMIN_FAILED ? 503 : 400;
			tmpl_set(v, "error", c->adm.msg);
		} else {
			verdict_vars(v, &vd);
		}
		admin_policy_verdict_free(&vd);
	} else if (q.user || q.ip) {
		status = 400;
		tmpl_set(v, "error", page_msg(c->idp->pages, c->lang, "console_sim_incomplete"));
	}
	console_render(c, status, "console_sim.html", v);
	tmpl_vars_free(v);
}
