/*
 * sekisho policy: the tenant's ordered access rules (add, list, remove, move), what they
 * decide for one request (test, built by access_load as the server builds it), and the
 * device-required shorthand settings (set).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access_load.h"
#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "rules.h"
#include "store.h"
#include "xmalloc.h"

/* ---- listing ---- */

static void
print_policy(const void *rec, void *arg)
{
	const struct policy *p = rec;

	if (!strcmp(p->kind, "tenant"))
		printf("tenant\t%s\t%s\n", p->key, p->value);
	else
		printf("%s:%s\t%s\t%s\n", p->kind, p->name ? p->name : "?", p->key, p->value);
}

static void
print_rule(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;
	int *n = arg;
	struct buf b;

	buf_init(&b, 0);
	rule_format(r, &b);
	printf("%d\t%s\t%s\n", ++*n, r->name, b.data);
	buf_free(&b);
}

/* "default=allow timezone=Asia/Tokyo": what decides when no rule does, and when. */
static int
print_tenant_line(struct cli *c)
{
	struct tenant t;
	int rc = store_tenant_get(c->in.store, c->tenant, &t);

	if (rc == 1)
		printf("default=%s timezone=%s\n", t.default_effect ? t.default_effect : "allow",
		    t.timezone ? t.timezone : RULE_DEFAULT_TIMEZONE);
	store_tenant_clear(&t);
	return rc == 1 ? 0 : -1;
}

int
cmd_policy_list(struct cli *c)
{
	int n = 0;

	if (print_tenant_line(c) == -1 ||
	    store_rule_list(c->in.store, c->tenant, print_rule, &n) < 0 ||
	    store_policy_list(c->in.store, c->tenant, print_policy, NULL) < 0)
		return fail("storage error");
	return 0;
}

struct position {
	const char *name;
	int seen;
	int pos;
};

static void
count_rule(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;
	struct position *p = arg;

	p->seen++;
	if (strcmp(r->name, p->name) == 0)
		p->pos = p->seen;
}

/* The 1-based position of the rule called name, 0 if there is none. */
static int
rule_position(struct cli *c, const char *name)
{
	struct position p = { .name = name };

	if (store_rule_list(c->in.store, c->tenant, count_rule, &p) < 0)
		return 0;
	return p.pos;
}

/* ---- add, remove, move ---- */

/* Every value of a repeatable option, separated by sep (new), or NULL. */
static char *
opt_joined(const struct cli *c, const char *name, char sep)
{
	char *v = opt_all(c, name);

	for (char *p = v; p && *p; p++)
		if (*p == '\n')
			*p = sep;
	return v;
}

static char *
opt_dup(const struct cli *c, const char *name)
{
	return opt(c, name) ? xstrdup(opt(c, name)) : NULL;
}

/* The rule the options of policy add describe, every string owned (rule_free). */
static void
rule_from_options(const struct cli *c, struct rule_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(arg(c, 0));
	r->effect = opt_dup(c, "--effect");
	r->user_names = opt_all(c, "--user");
	r->group_names = opt_all(c, "--group");
	r->app_names = opt_all(c, "--app");
	r->from = opt_joined(c, "--from", ' ');
	r->not_from = opt_joined(c, "--not-from", ' ');
	r->days = opt_dup(c, "--days");
	r->hours = opt_dup(c, "--hours");
	r->report_only = flag(c, "--report-only");
	r->mfa_enroll = flag(c, "--enroll");
	r->created = (uint64_t)clock_now();
}

static void
rule_free(struct rule_rec *r)
{
	char **fields[] = { &r->name, &r->effect, &r->user_names, &r->group_names,
		&r->app_names, &r->from, &r->not_from, &r->days, &r->hours };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(*fields[i]);
}

int
cmd_policy_add(struct cli *c)
{
	const char *name = arg(c, 0);
	char err[STORE_ERR_MAX];
	struct audit_entry ae;
	struct rule_rec r;
	int rc;

	if (!store_valid_name(name, STORE_NAME_MAX))
		return fail("policy name %s: 1-%d characters of a-z A-Z 0-9 . _ @ + -", name,
		    STORE_NAME_MAX);
	rule_from_options(c, &r);
	cli_audit(&ae, "admin.policy.add", "rule", name, NULL);
	if (rule_canonical(&r, err) == -1 ||
	    store_rule_add(c->in.store, c->tenant, &r, opt(c, "--before"), &ae, err) == -1)
		rc = fail("%s", err);
	else
		rc = 0;
	rule_free(&r);
	if (rc == 0)
		printf("policy %s added at position %d\n", name, rule_position(c, name));
	return rc;
}

int
cmd_policy_remove(struct cli *c)
{
	const char *name = arg(c, 0);
	char err[STORE_ERR_MAX];
	struct audit_entry ae;
	int rc;

	cli_audit(&ae, "admin.policy.remove", "rule", name, NULL);
	if ((rc = store_rule_remove(c->in.store, c->tenant, name, &ae, err)) != 1)
		return rc == 0 ? fail("no policy called %s", name) : fail("%s", err);
	printf("policy %s removed\n", name);
	return 0;
}

int
cmd_policy_move(struct cli *c)
{
	const char *name = arg(c, 0), *before = opt(c, "--before");
	char err[STORE_ERR_MAX];
	struct audit_entry ae;
	int rc;

	cli_audit(&ae, "admin.policy.move", "rule", name, "to_before", before, NULL);
	if ((rc = store_rule_move(c->in.store, c->tenant, name, before, &ae, err)) != 1)
		return rc == 0 ? fail("no policy called %s", name) : fail("%s", err);
	printf("policy %s moved to position %d\n", name, rule_position(c, name));
	return 0;
}

/* ---- test ---- */

/* Who asks for what in policy test, read from the store. */
struct subject {
	struct user u;
	struct app a;
	char **groups;
};

static void
subject_clear(struct subject *s)
{
	store_user_clear(&s->u);
	store_app_clear(&s->a);
	store_strv_free(s->groups);
}

static int
numeric_ip(const char *ip)
{
	unsigned char a[16];

	return inet_pton(AF_INET, ip, a) == 1 || inet_pton(AF_INET6, ip, a) == 1;
}

/* The user (with groups) and the app of the options; 0, or an exit status after a message. */
static int
read_subject(struct cli *c, struct subject *s)
{
	const char *user = opt(c, "--user"), *app = opt(c, "--app");
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = store_user_get(c->in.store, c->tenant, user, &s->u)) != 1)
		return rc == 0 ? fail("no such user %s", user) : fail("storage error");
	if (app && (rc = store_app_get(c->in.store, c->tenant, app, &s->a)) != 1)
		return rc == 0 ? fail("no such app %s", app) : fail("storage error");
	if (store_user_group_ids(c->in.store, c->tenant, s->u.id, &s->groups) < 0)
		return fail("storage error");
	return 0;
}

/* "device,mfa" of RULE_NEEDS_* bits after key=. */
static void
print_needs(const char *key, unsigned needs)
{
	int device = (needs & RULE_NEEDS_DEVICE) != 0, mfa = (needs & RULE_NEEDS_MFA) != 0;

	printf("%s=%s%s%s\n", key, device ? "device" : "", device && mfa ? "," : "",
	    mfa ? "mfa" : "");
}

static void
print_decision(const struct rule_decision *d, unsigned proven)
{
	printf("decision=%s\nrule=%s\n", d->deny ? "deny" : "allow", d->rule ? d->rule : "default");
	print_needs("requires", d->requires);
	print_needs("missing", d->requires & ~proven);
	for (size_t i = 0; i < d->nreports; i++)
		printf("report=%s:%s\n", d->reports[i].rule, d->reports[i].effect);
	if (d->glass_skipped)
		printf("break_glass=%s\n", d->glass_rule ? d->glass_rule : "default");
}

static void
evaluate(const struct ruleset *rs, const struct rule_query *q, unsigned proven)
{
	struct rule_decision d;
	struct buf b;

	ruleset_evaluate(rs, q, &d);
	print_decision(&d, proven);
	buf_init(&b, 0);
	ruleset_explain(rs, q, &b);
	printf("\n%s%s", b.len ? b.data : "", b.len && b.data[b.len - 1] != '\n' ? "\n" : "");
	buf_free(&b);
}

int
cmd_policy_test(struct cli *c)
{
	const char *ip = opt(c, "--ip"), *at = opt(c, "--at"), *err;
	struct rule_query q = { .ip = ip, .now = clock_now() };
	unsigned proven = (flag(c, "--device") ? RULE_NEEDS_DEVICE : 0) |
	    (flag(c, "--mfa") ? RULE_NEEDS_MFA : 0);
	struct ruleset *rs;
	struct subject s;
	int rc;

	if (at && clock_parse_iso8601_offset(at, &q.now) == -1)
		return fail("--at %s: not a time such as 2024-04-01T09:00:00+09:00 or "
		    "2024-04-01T00:00:00Z", at);
	if (!numeric_ip(ip))
		return fail("--ip %s: not an address", ip);
	if ((rc = read_subject(c, &s)) != 0) {
		subject_clear(&s);
		return rc;
	}
	if ((rs = access_load(c->in.store, c->tenant, &err)) == NULL) {
		subject_clear(&s);
		return fail("tenant %s: %s", c->tenant, err);
	}
	q.user = s.u.id;
	q.groups = s.groups;
	q.app = opt(c, "--app") ? s.a.id : NULL;
	q.break_glass = s.u.break_glass != 0;
	evaluate(rs, &q, proven);
	ruleset_free(rs);
	subject_clear(&s);
	return 0;
}

/* ---- the device-required shorthand ---- */

int
cmd_policy_set(struct cli *c)
{
	const char *key = arg(c, 0), *val = arg(c, 1), *err;
	const char *u = opt(c, "--user"), *g = opt(c, "--group"), *a = opt(c, "--app");
	const char *kind = u ? "user" : g ? "group" : a ? "app" : "tenant", *name = u ? u : g ? g : a;
	int n = (u != NULL) + (g != NULL) + (a != NULL) + flag(c, "--tenant");
	struct audit_entry ae;

	if (n != 1)
		return usage_fail(c, "policy set needs exactly one of --user U, --group G, --app A, "
		    "--tenant");
	if (strcmp(key, "device-required"))
		return usage_fail(c, "unknown policy %s (known: device-required)", key);
	if (strcmp(val, "on") && strcmp(val, "off") && strcmp(val, "inherit"))
		return usage_fail(c, "device-required takes on, off or inherit, not \"%s\"", val);
	cli_audit(&ae, "admin.policy.set", "scope", kind, kind, name, "key", "device_required",
	    "value", val, NULL);
	if (store_policy_set(c->in.store, c->tenant, kind, name, "device_required",
	    strcmp(val, "inherit") ? val : NULL, &ae, &err) == -1)
		return fail("%s%s%s", name ? name : "", name ? ": " : "", err);
	if (name)
		printf("policy device-required of %s:%s set to %s\n", kind, name, val);
	else
		printf("policy device-required of tenant set to %s\n", val);
	return 0;
}
