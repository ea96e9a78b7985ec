/*
 * The admin API's access rules (policies/rules, in order, with move), the device-required
 * settings (policies/settings) and the simulator (policies/test): JSON in and out around
 * admin/policy.c, which `sekisho policy` calls too.  Members are the CLI's options.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_policy.h"
#include "api.h"
#include "buf.h"
#include "xmalloc.h"

#define LIST_MAX 100		/* items in one condition */
#define ITEM_MAX 128		/* bytes of one name, network or day */

/* ---- a rule as JSON ---- */

/* A list kept with sep between items, as a JSON array of strings. */
static json_t *
split(const char *list, const char *seps)
{
	json_t *a = json_array();

	for (const char *p = list ? list : ""; *p; ) {
		size_t n = strcspn(p, seps);
		if (n)
			json_array_append_new(a, json_stringn(p, n));
		p += n;
		p += strspn(p, seps);
	}
	return a;
}

static json_t *
rule_json(const struct rule_rec *r, int pos)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(r->name));
	json_object_set_new(o, "position", json_integer(pos));
	json_object_set_new(o, "effect", json_string(r->effect ? r->effect : ""));
	json_object_set_new(o, "users", split(r->user_names, "\n"));
	json_object_set_new(o, "groups", split(r->group_names, "\n"));
	json_object_set_new(o, "apps", split(r->app_names, "\n"));
	json_object_set_new(o, "from", split(r->from, " "));
	json_object_set_new(o, "not_from", split(r->not_from, " "));
	json_object_set_new(o, "days", split(r->days, ","));
	json_object_set_new(o, "hours", r->hours ? json_string(r->hours) : json_null());
	json_object_set_new(o, "enroll", json_boolean(r->mfa_enroll));
	json_object_set_new(o, "report_only", json_boolean(r->report_only));
	json_object_set_new(o, "created", api_time(r->created));
	return o;
}

/* The rule called name as GET shows it, or NULL after answering (404 ...). */
static json_t *
current_rule(struct api_call *c, const char *name)
{
	struct rule_rec r;
	json_t *o = NULL;
	int pos;

	if (admin_policy_get(&c->adm, name, &r, &pos) == 0)
		o = rule_json(&r, pos);
	else if (c->adm.status == ADMIN_NOT_FOUND)
		api_not_found(c, "rule");
	else
		api_admin_error(c);
	store_rule_clear(&r);
	return o;
}

/* ---- a rule from JSON ---- */

/* One item of a list: a string without sep, control bytes or blanks, 1..ITEM_MAX bytes. */
static int
item_ok(const json_t *v, char sep)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;

	if (s == NULL || n == 0 || n > ITEM_MAX || strchr(s, sep))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

/* The array member field joined with sep (new; NULL when absent or empty); -1 after 400. */
static int
get_list(struct api_call *c, const char *field, char sep, char **out)
{
	json_t *a = json_object_get(c->body, field), *v;
	struct buf b;
	size_t i;

	*out = NULL;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > LIST_MAX) {
		api_error(c, 400, "invalid_request", field, "%s: an array of at most %d strings",
		    field, LIST_MAX);
		return -1;
	}
	buf_init(&b, 0);
	json_array_foreach(a, i, v) {
		if (!item_ok(v, sep)) {
			buf_free(&b);
			api_error(c, 400, "invalid_request", field, "%s: item %zu is not a name, "
			    "network or day (1-%d characters, no blanks)", field, i + 1, ITEM_MAX);
			return -1;
		}
		buf_printf(&b, "%s%s", b.len ? (char[]){ sep, 0 } : "", json_string_value(v));
	}
	*out = b.len ? buf_steal(&b, NULL) : NULL;
	buf_free(&b);
	return 0;
}

static void
rule_free(struct rule_rec *r)
{
	char **fields[] = { &r->effect, &r->user_names, &r->group_names, &r->app_names,
		&r->from, &r->not_from, &r->days, &r->hours };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(*fields[i]);
	memset(r, 0, sizeof(*r));
}

/* The conditions and effect of the body into r (name borrowed); -1 after answering 400. */
static int
rule_from_body(struct api_call *c, const char *name, struct rule_rec *r)
{
	const char *effect, *hours;
	int enroll, report_only;

	memset(r, 0, sizeof(*r));
	r->name = (char *)name;
	hours = NULL;
	if (api_get_str(c, "effect", 1, 16, &effect) == -1 ||
	    (!json_is_null(json_object_get(c->body, "hours")) &&
	    api_get_str(c, "hours", 0, 32, &hours) == -1) ||
	    api_get_bool(c, "enroll", 0, &enroll) == -1 ||
	    api_get_bool(c, "report_only", 0, &report_only) == -1 ||
	    get_list(c, "users", '\n', &r->user_names) == -1 ||
	    get_list(c, "groups", '\n', &r->group_names) == -1 ||
	    get_list(c, "apps", '\n', &r->app_names) == -1 ||
	    get_list(c, "from", ' ', &r->from) == -1 ||
	    get_list(c, "not_from", ' ', &r->not_from) == -1 ||
	    get_list(c, "days", ',', &r->days) == -1)
		return -1;
	r->effect = xstrdup(effect);
	r->hours = hours && *hours ? xstrdup(hours) : NULL;
	r->mfa_enroll = enroll != 0;
	r->report_only = report_only != 0;
	return 0;
}

#define RULE_MEMBERS "effect", "users", "groups", "apps", "from", "not_from", "days", \
	"hours", "enroll", "report_only"

/* ---- rules ---- */

static void
list_rule(const void *rec, void *arg)
{
	json_array_append_new(arg, rule_json(rec, (int)json_array_size(arg) + 1));
}

static void
rules_list(struct api_call *c)
{
	json_t *all = json_array(), *item;
	struct api_page pg;
	char key[24];
	size_t i;

	/* read first: a page that has begun cannot be abandoned for an error answer */
	if (store_rule_list(c->adm.in->store, c->adm.tenant, list_rule, all) < 0) {
		json_decref(all);
		api_error(c, 500, "internal", NULL, "storage error");
		return;
	}
	if (api_page_init(c, &pg) == 0) {
		json_array_foreach(all, i, item) {
			snprintf(key, sizeof(key), "%010zu", i + 1);
			api_page_add(&pg, key, json_incref(item));
		}
		api_page_reply(c, &pg);
	}
	json_decref(all);
}

static void
rule_get(struct api_call *c)
{
	json_t *o = current_rule(c, c->params[0]);

	if (o == NULL)
		return;
	api_set_etag(c, o);
	api_reply(c, 200, o);
}

/* Answer a write with the rule as it is now (201 with Location, or 200 with its ETag). */
static void
answer_rule(struct api_call *c, const char *name, json_t *before, int created)
{
	json_t *after = current_rule(c, name);
	char *loc;

	if (after == NULL) {
		json_decref(before);
		return;
	}
	api_audit_change(c, before, json_deep_copy(after));
	api_set_etag(c, after);
	if (!created) {
		api_reply(c, 200, after);
		return;
	}
	loc = xasprintf("policies/rules/%s", name);
	api_created(c, loc, after);
	free(loc);
}

static void
rule_create(struct api_call *c)
{
	static const char *const allowed[] = { "name", "before", RULE_MEMBERS, NULL };
	const char *name, *before = NULL;
	struct rule_rec r = { 0 };

	if (api_only_fields(c, allowed) == -1 ||
	    api_get_str(c, "name", 1, STORE_NAME_MAX + 1, &name) == -1 ||
	    (!json_is_null(json_object_get(c->body, "before")) &&
	    api_get_str(c, "before", 0, STORE_NAME_MAX + 1, &before) == -1) ||
	    rule_from_body(c, name, &r) == -1)
		goto done;
	r.created = 0;
	if (admin_policy_add(&c->adm, &r, before) == -1)
		api_admin_error(c);
	else
		answer_rule(c, name, NULL, 1);
done:
	rule_free(&r);
}

static void
rule_replace(struct api_call *c)
{
	static const char *const allowed[] = { RULE_MEMBERS, NULL };
	json_t *before = NULL;
	struct rule_rec r = { 0 };

	if (api_only_fields(c, allowed) == -1 ||
	    (before = current_rule(c, c->params[0])) == NULL ||
	    api_if_match(c, before) == -1 ||
	    rule_from_body(c, c->params[0], &r) == -1) {
		json_decref(before);
		goto done;
	}
	if (admin_policy_replace(&c->adm, &r) == -1) {
		json_decref(before);
		api_admin_error(c);
	} else {
		answer_rule(c, c->params[0], before, 0);
	}
done:
	rule_free(&r);
}

static void
rule_delete(struct api_call *c)
{
	json_t *before = current_rule(c, c->params[0]);

	if (before == NULL)
		return;
	if (api_if_match(c, before) == -1) {
		json_decref(before);
		return;
	}
	api_deleted(c, before, admin_policy_remove(&c->adm, c->params[0]));
}

static void
rule_move(struct api_call *c)
{
	static const char *const allowed[] = { "before", NULL };
	json_t *b = json_object_get(c->body, "before"), *before;

	if (api_only_fields(c, allowed) == -1)
		return;
	if (b == NULL || !(json_is_null(b) || json_is_string(b))) {
		api_error(c, 400, "invalid_request", "before", "before: the name of the rule to "
		    "put it before, or null for the end of the list");
		return;
	}
	if ((before = current_rule(c, c->params[0])) == NULL)
		return;
	if (admin_policy_move(&c->adm, c->params[0], json_string_value(b)) == -1) {
		json_decref(before);
		api_admin_error(c);
		return;
	}
	answer_rule(c, c->params[0], before, 0);
}

/* ---- device-required settings ---- */

static const char *const kinds[][2] = {
	{ "user", "users" }, { "group", "groups" }, { "app", "apps" },
};

static void
add_setting(const void *rec, void *arg)
{
	const struct policy *p = rec;
	json_t *dr = arg;

	if (strcmp(p->key, "device_required"))
		return;
	if (!strcmp(p->kind, "tenant")) {
		json_object_set_new(dr, "tenant", json_string(p->value));
		return;
	}
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(p->kind, kinds[i][0]) && p->name)
			json_object_set_new(json_object_get(dr, kinds[i][1]), p->name,
			    json_string(p->value));
}

/* {"device_required": {"tenant": on|off|null, "users": {...}, ...}}, or NULL after 500. */
static json_t *
settings_json(struct api_call *c)
{
	json_t *dr = json_pack("{s:n, s:{}, s:{}, s:{}}", "tenant", "users", "groups", "apps");

	if (store_policy_list(c->adm.in->store, c->adm.tenant, add_setting, dr) < 0) {
		json_decref(dr);
		api_error(c, 500, "internal", NULL, "storage error");
		return NULL;
	}
	return json_pack("{s:o}", "device_required", dr);
}

static void
settings_get(struct api_call *c)
{
	json_t *o = settings_json(c);

	if (o == NULL)
		return;
	api_set_etag(c, o);
	api_reply(c, 200, o);
}

static int
setting_value(const json_t *v)
{
	const char *s = json_string_value(v);

	return json_is_null(v) || (s && (!strcmp(s, "on") || !strcmp(s, "off")));
}

/*
 * Every member of the patch has the right shape (whether the users, groups and apps
 * exist is the store's to say, in the transaction that applies it); -1 after answering
 * 400.
 */
static int
settings_check(struct api_call *c, const json_t *dr)
{
	static const char *const allowed[] = { "tenant", "users", "groups", "apps", NULL };
	const char *key, *name;
	json_t *v, *w;

	json_object_foreach((json_t *)dr, key, v) {
		size_t i;
		for (i = 0; allowed[i] && strcmp(allowed[i], key); i++)
			;
		if (allowed[i] == NULL || (i == 0 && !setting_value(v)) ||
		    (i > 0 && !json_is_object(v)))
			goto bad;
		if (i == 0)
			continue;
		json_object_foreach(v, name, w)
			if (!setting_value(w)) {
				api_error(c, 400, "invalid_request", "device_required",
				    "device_required.%s.%s: on, off or null (inherit)", key, name);
				return -1;
			}
	}
	return 0;
bad:
	api_error(c, 400, "invalid_request", "device_required", "device_required.%s: the "
	    "tenant's on, off or null, or users, groups and apps as objects", key);
	return -1;
}

/* Every setting of the patch in one commit, or none; -1 after admin_fail. */
static int
settings_apply(struct api_call *c, const json_t *dr)
{
	struct admin_setting *set = xcalloc(json_object_size(dr) + 1, sizeof(*set));
	size_t n = 0, cap = json_object_size(dr) + 1;
	const char *name;
	json_t *v, *group;
	int rc;

	if ((v = json_object_get(dr, "tenant")))
		set[n++] = (struct admin_setting){ "tenant", NULL, json_string_value(v) };
	for (size_t i = 0; i < 3; i++) {
		if ((group = json_object_get(dr, kinds[i][1])) == NULL)
			continue;
		set = xreallocarray(set, cap += json_object_size(group), sizeof(*set));
		json_object_foreach(group, name, v)
			set[n++] = (struct admin_setting){ kinds[i][0], name, json_string_value(v) };
	}
	rc = n ? admin_policy_set_all(&c->adm, set, n) : 0;
	free(set);
	return rc;
}

static void
settings_patch(struct api_call *c)
{
	static const char *const allowed[] = { "device_required", NULL };
	json_t *dr = json_object_get(c->body, "device_required"), *before;
	int rc;

	if (api_only_fields(c, allowed) == -1 || (before = settings_json(c)) == NULL)
		return;
	if (api_if_match(c, before) == -1)
		goto fail;
	if (dr && !json_is_object(dr)) {
		api_error(c, 400, "invalid_request", "device_required", "device_required: an "
		    "object");
		goto fail;
	}
	if (dr && (settings_check(c, dr) == -1))
		goto fail;
	rc = dr ? settings_apply(c, dr) : 0;
	api_updated(c, before, rc, rc == 0 ? settings_json(c) : NULL);
	return;
fail:
	json_decref(before);
}

/* ---- the simulator ---- */

static json_t *
needs_json(unsigned needs)
{
	return split(admin_policy_needs(needs), ",");
}

static json_t *
verdict_json(const struct admin_policy_verdict *v)
{
	const struct rule_decision *d = &v->d;
	json_t *o = json_object(), *reports = json_array();

	json_object_set_new(o, "decision", json_string(d->deny ? "deny" : "allow"));
	json_object_set_new(o, "rule", json_string(d->rule ? d->rule : "default"));
	json_object_set_new(o, "requires", needs_json(d->requires));
	json_object_set_new(o, "missing", needs_json(v->missing));
	for (size_t i = 0; i < d->nreports; i++)
		json_array_append_new(reports, json_pack("{s:s, s:s}", "rule", d->reports[i].rule,
		    "effect", d->reports[i].effect));
	json_object_set_new(o, "reports", reports);
	json_object_set_new(o, "break_glass", d->glass_skipped ?
	    json_string(d->glass_rule ? d->glass_rule : "default") : json_null());
	json_object_set_new(o, "reasons", split(v->explain, "\n"));
	return o;
}

static void
policy_test(struct api_call *c)
{
	static const char *const allowed[] = { "user", "app", "ip", "time", "device", "mfa",
		NULL };
	struct admin_policy_query q = { 0 };
	struct admin_policy_verdict v;
	int device, mfa;

	if (api_only_fields(c, allowed) == -1 ||
	    api_get_str(c, "user", 1, STORE_NAME_MAX + 1, &q.user) == -1 ||
	    api_get_str(c, "app", 0, STORE_NAME_MAX + 1, &q.app) == -1 ||
	    api_get_str(c, "ip", 1, 64, &q.ip) == -1 ||
	    api_get_str(c, "time", 0, 64, &q.at) == -1 ||
	    api_get_bool(c, "device", 0, &device) == -1 ||
	    api_get_bool(c, "mfa", 0, &mfa) == -1)
		return;
	q.proven = (device ? RULE_NEEDS_DEVICE : 0) | (mfa ? RULE_NEEDS_MFA : 0);
	if (admin_policy_test(&c->adm, &q, &v) == -1)
		api_admin_error(c);
	else
		api_reply(c, 200, verdict_json(&v));
	admin_policy_verdict_free(&v);
}

const struct api_route api_policy_routes[] = {
	{ "GET", "policies/rules", APIKEY_SCOPE_READ, rules_list },
	{ "POST", "policies/rules", APIKEY_SCOPE_WRITE, rule_create },
	{ "GET", "policies/rules/{name}", APIKEY_SCOPE_READ, rule_get },
	{ "PUT", "policies/rules/{name}", APIKEY_SCOPE_WRITE, rule_replace },
	{ "DELETE", "policies/rules/{name}", APIKEY_SCOPE_WRITE, rule_delete },
	{ "POST", "policies/rules/{name}/move", APIKEY_SCOPE_WRITE, rule_move },
	{ "GET", "policies/settings", APIKEY_SCOPE_READ, settings_get },
	{ "PATCH", "policies/settings", APIKEY_SCOPE_WRITE, settings_patch },
	{ "POST", "policies/test", APIKEY_SCOPE_READ, policy_test },
	{ NULL, NULL, 0, NULL }
};
