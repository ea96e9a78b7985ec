/*
 * Access rules and device-required settings for the command line and the admin API: one
 * set of checks and store writes (with their audit records), and the simulator built by
 * access_load exactly as the server builds its rule set.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "access_load.h"
#include "admin_policy.h"
#include "audit.h"
#include "buf.h"
#include "clock.h"
#include "xmalloc.h"

/* ---- failures: the input at fault, from the store's and rule_validate's messages ---- */

static const struct {
	const char *prefix;
	const char *field;
	enum admin_status status;
} rule_errors[] = {
	{ "--effect", "effect", ADMIN_INVALID },
	{ "--from", "from", ADMIN_INVALID },
	{ "--not-from", "not_from", ADMIN_INVALID },
	{ "--days", "days", ADMIN_INVALID },
	{ "--hours", "hours", ADMIN_INVALID },
	{ "--enroll", "enroll", ADMIN_INVALID },
	{ "rule name", "name", ADMIN_INVALID },
	{ "no such user", "users", ADMIN_INVALID },
	{ "no such group", "groups", ADMIN_INVALID },
	{ "no such app", "apps", ADMIN_INVALID },
	{ "no rule called", "before", ADMIN_INVALID },
	{ "a rule cannot be put before", "before", ADMIN_INVALID },
	{ "a rule called", "name", ADMIN_CONFLICT },
};

/* Record err (a store or rule message) as a's failure, with its field and kind; -1. */
static int
rule_fail(struct admin *a, const char *err)
{
	for (size_t i = 0; i < sizeof(rule_errors) / sizeof(rule_errors[0]); i++)
		if (!strncmp(err, rule_errors[i].prefix, strlen(rule_errors[i].prefix)))
			return admin_fail(a, rule_errors[i].status, rule_errors[i].field, "%s", err);
	return admin_fail(a, ADMIN_FAILED, NULL, "%s", err);
}

/* ---- rules ---- */

static char *
strdup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* A copy of in's name, effect, names and texts that out owns (store_rule_clear). */
static void
rule_dup(const struct rule_rec *in, struct rule_rec *out)
{
	*out = *in;
	out->users = out->groups = out->apps = NULL;
	out->name = strdup_or_null(in->name);
	out->effect = strdup_or_null(in->effect);
	out->user_names = strdup_or_null(in->user_names);
	out->group_names = strdup_or_null(in->group_names);
	out->app_names = strdup_or_null(in->app_names);
	out->from = strdup_or_null(in->from);
	out->not_from = strdup_or_null(in->not_from);
	out->days = strdup_or_null(in->days);
	out->hours = strdup_or_null(in->hours);
}

/* A copy of r in the form the store keeps (checked), or -1 after admin_fail. */
static int
canonical_copy(struct admin *a, const struct rule_rec *in, struct rule_rec *r)
{
	char err[RULE_ERR_MAX];

	rule_dup(in, r);
	r->pos = 0;
	if (r->created == 0)
		r->created = (uint64_t)clock_now();
	if (rule_canonical(r, err) == -1)
		return rule_fail(a, err);
	return 0;
}

int
admin_policy_add(struct admin *a, const struct rule_rec *in, const char *before)
{
	char err[STORE_ERR_MAX];
	struct audit_entry ae;
	struct rule_rec r;
	int rc = 0;

	if (!store_valid_name(in->name, STORE_NAME_MAX))
		return admin_fail(a, ADMIN_INVALID, "name", "policy name %s: 1-%d characters of "
		    "a-z A-Z 0-9 . _ @ + -", in->name, STORE_NAME_MAX);
	if (canonical_copy(a, in, &r) == -1)
		rc = -1;
	admin_audit(a, &ae, "admin.policy.add", "rule", in->name, NULL);
	if (rc == 0 && store_rule_add(a->in->store, a->tenant, &r, before, &ae, err) == -1)
		rc = rule_fail(a, err);
	store_rule_clear(&r);
	return rc;
}

int
admin_policy_replace(struct admin *a, const struct rule_rec *in)
{
	char err[STORE_ERR_MAX];
	struct audit_entry ae;
	struct rule_rec r;
	int rc = 0;

	if (canonical_copy(a, in, &r) == -1)
		rc = -1;
	admin_audit(a, &ae, "admin.policy.replace", "rule", in->name, NULL);
	if (rc == 0 && (rc = store_rule_replace(a->in->store, a->tenant, &r, &ae, err)) != 1)
		rc = rc == 0 ? admin_fail(a, ADMIN_NOT_FOUND, "name", "no policy called %s",
		    in->name) : rule_fail(a, err);
	store_rule_clear(&r);
	return rc < 0 ? -1 : 0;
}

int
admin_policy_remove(struct admin *a, const char *name)
{
	char err[STORE_ERR_MAX];
	struct audit_entry ae;
	int rc;

	admin_audit(a, &ae, "admin.policy.remove", "rule", name, NULL);
	if ((rc = store_rule_remove(a->in->store, a->tenant, name, &ae, err)) == 1)
		return 0;
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "name", "no policy called %s", name);
	return rule_fail(a, err);
}

int
admin_policy_move(struct admin *a, const char *name, const char *before)
{
	char err[STORE_ERR_MAX];
	struct audit_entry ae;
	int rc;

	admin_audit(a, &ae, "admin.policy.move", "rule", name, "to_before", before, NULL);
	if ((rc = store_rule_move(a->in->store, a->tenant, name, before, &ae, err)) == 1)
		return 0;
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "name", "no policy called %s", name);
	return rule_fail(a, err);
}

struct finding {
	const char *name;
	int seen;
	int pos;
	struct rule_rec *out;
};

static void
find_rule(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;
	struct finding *f = arg;

	f->seen++;
	if (f->pos || strcmp(r->name, f->name))
		return;
	f->pos = f->seen;
	if (f->out == NULL)
		return;
	rule_dup(r, f->out);
}

int
admin_policy_get(struct admin *a, const char *name, struct rule_rec *r, int *pos_r)
{
	struct finding f = { .name = name, .out = r };

	memset(r, 0, sizeof(*r));
	if (store_rule_list(a->in->store, a->tenant, find_rule, &f) < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	if (f.pos == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, "name", "no policy called %s", name);
	if (pos_r)
		*pos_r = f.pos;
	return 0;
}

int
admin_policy_position(struct admin *a, const char *name)
{
	struct finding f = { .name = name };

	if (store_rule_list(a->in->store, a->tenant, find_rule, &f) < 0)
		return 0;
	return f.pos;
}

/* ---- the device-required shorthand ---- */

int
admin_policy_set_all(struct admin *a, const struct admin_setting *set, size_t n)
{
	struct audit_entry *ae = xcalloc(n ? n : 1, sizeof(*ae));
	struct policy_change *ch = xcalloc(n ? n : 1, sizeof(*ch));
	const char *err = NULL;
	size_t bad = 0;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *v = set[i].value;
		if (v && strcmp(v, "on") && strcmp(v, "off"))
			rc = admin_fail(a, ADMIN_INVALID, "device_required", "device-required takes "
			    "on, off or inherit, not \"%s\"", v);
		admin_audit(a, &ae[i], "admin.policy.set", "scope", set[i].kind, set[i].kind,
		    set[i].name, "key", "device_required", "value", v ? v : "inherit", NULL);
		ch[i] = (struct policy_change){ set[i].kind, set[i].name, "device_required", v,
			&ae[i] };
	}
	if (rc == 0 && store_policy_set_all(a->in->store, a->tenant, ch, n, &bad, &err) == -1)
		rc = admin_fail(a, strncmp(err, "no such", 7) ? ADMIN_FAILED : ADMIN_INVALID,
		    "device_required", "%s%s%s", set[bad].name ? set[bad].name : "",
		    set[bad].name ? ": " : "", err);
	free(ae);
	free(ch);
	return rc;
}

int
admin_policy_set(struct admin *a, const char *kind, const char *name, const char *value)
{
	struct admin_setting s = { kind, name, value };

	return admin_policy_set_all(a, &s, 1);
}

/* ---- the simulator ---- */

/* Who asks for what, read from the store. */
struct subject {
	struct user u;
	struct app app;
	char **groups;
};

static void
subject_clear(struct subject *s)
{
	store_user_clear(&s->u);
	store_app_clear(&s->app);
	store_strv_free(s->groups);
}

static int
numeric_ip(const char *ip)
{
	unsigned char a[16];

	return ip && (inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1);
}

/* The user (with groups) and the app of q; 0, or -1 after admin_fail. */
static int
read_subject(struct admin *a, const struct admin_policy_query *q, struct subject *s)
{
	struct store *st = a->in->store;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = store_user_get(st, a->tenant, q->user, &s->u)) != 1)
		return rc == 0 ? admin_fail(a, ADMIN_INVALID, "user", "no such user %s", q->user) :
		    admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	if (q->app && (rc = store_app_get(st, a->tenant, q->app, &s->app)) != 1)
		return rc == 0 ? admin_fail(a, ADMIN_INVALID, "app", "no such app %s", q->app) :
		    admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	if (store_user_group_ids(st, a->tenant, s->u.id, &s->groups) < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	return 0;
}

static void
decide(struct admin_policy_verdict *v, const struct rule_query *rq, unsigned proven)
{
	struct buf b;

	ruleset_evaluate(v->rs, rq, &v->d);
	v->missing = v->d.requires & ~proven;
	buf_init(&b, 0);
	ruleset_explain(v->rs, rq, &b);
	v->explain = xstrdup(b.len ? b.data : "");
	buf_free(&b);
}

int
admin_policy_test(struct admin *a, const struct admin_policy_query *q,
    struct admin_policy_verdict *v)
{
	struct rule_query rq = { .ip = q->ip, .now = clock_now() };
	struct subject s;
	const char *err;
	int rc = -1;

	memset(v, 0, sizeof(*v));
	if (q->at && clock_parse_iso8601_offset(q->at, &rq.now) == -1)
		return admin_fail(a, ADMIN_INVALID, "time", "--at %s: not a time such as "
		    "2024-04-01T09:00:00+09:00 or 2024-04-01T00:00:00Z", q->at);
	if (!numeric_ip(q->ip))
		return admin_fail(a, ADMIN_INVALID, "ip", "--ip %s: not an address",
		    q->ip ? q->ip : "");
	if (read_subject(a, q, &s) == -1)
		goto done;
	if ((v->rs = access_load(a->in->store, a->tenant, &err)) == NULL) {
		admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: %s", a->tenant, err);
		goto done;
	}
	rq.user = s.u.id;
	rq.groups = s.groups;
	rq.app = q->app ? s.app.id : NULL;
	rq.break_glass = s.u.break_glass != 0;
	decide(v, &rq, q->proven);
	rc = 0;
done:
	subject_clear(&s);
	return rc;
}

void
admin_policy_verdict_free(struct admin_policy_verdict *v)
{
	ruleset_free(v->rs);
	free(v->explain);
	memset(v, 0, sizeof(*v));
}

const char *
admin_policy_needs(unsigned needs)
{
	static const char *const words[] = { "", "device", "mfa", "device,mfa" };

	return words[needs & (RULE_NEEDS_DEVICE | RULE_NEEDS_MFA)];
}
