/*
 * sekisho policy: the tenant's ordered access rules (add, list, remove, move), what they
 * decide for one request (test, built by access_load as the server builds it), and the
 * device-required shorthand settings (set).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_policy.h"
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
	struct rule_rec r;
	int rc;

	rule_from_options(c, &r);
	rc = admin_policy_add(&c->adm, &r, opt(c, "--before"));
	rule_free(&r);
	if (rc == -1)
		return fail("%s", c->adm.msg);
	printf("policy %s added at position %d\n", name, admin_policy_position(&c->adm, name));
	return 0;
}

int
cmd_policy_remove(struct cli *c)
{
	const char *name = arg(c, 0);

	if (admin_policy_remove(&c->adm, name) == -1)
		return fail("%s", c->adm.msg);
	printf("policy %s removed\n", name);
	return 0;
}

int
cmd_policy_move(struct cli *c)
{
	const char *name = arg(c, 0);

	if (admin_policy_move(&c->adm, name, opt(c, "--before")) == -1)
		return fail("%s", c->adm.msg);
	printf("policy %s moved to position %d\n", name, admin_policy_position(&c->adm, name));
	return 0;
}

/* ---- test ---- */

static void
print_verdict(const struct admin_policy_verdict *v)
{
	const struct rule_decision *d = &v->d;
	size_t n = strlen(v->explain);

	printf("decision=%s\nrule=%s\n", d->deny ? "deny" : "allow", d->rule ? d->rule : "default");
	printf("requires=%s\n", admin_policy_needs(d->requires));
	printf("missing=%s\n", admin_policy_needs(v->missing));
	for (size_t i = 0; i < d->nreports; i++)
		printf("report=%s:%s\n", d->reports[i].rule, d->reports[i].effect);
	if (d->glass_skipped)
		printf("break_glass=%s\n", d->glass_rule ? d->glass_rule : "default");
	printf("\n%s%s", v->explain, n && v->explain[n - 1] != '\n' ? "\n" : "");
}

int
cmd_policy_test(struct cli *c)
{
	struct admin_policy_query q = { .user = opt(c, "--user"), .app = opt(c, "--app"),
		.ip = opt(c, "--ip"), .at = opt(c, "--at"),
		.proven = (flag(c, "--device") ? RULE_NEEDS_DEVICE : 0) |
		    (flag(c, "--mfa") ? RULE_NEEDS_MFA : 0) };
	struct admin_policy_verdict v;
	int rc = 0;

	if (admin_policy_test(&c->adm, &q, &v) == -1)
		rc = fail("%s", c->adm.msg);
	else
		print_verdict(&v);
	admin_policy_verdict_free(&v);
	return rc;
}

/* ---- the device-required shorthand ---- */

int
cmd_policy_set(struct cli *c)
{
	const char *key = arg(c, 0), *val = arg(c, 1);
	const char *u = opt(c, "--user"), *g = opt(c, "--group"), *a = opt(c, "--app");
	const char *kind = u ? "user" : g ? "group" : a ? "app" : "tenant", *name = u ? u : g ? g : a;
	int n = (u != NULL) + (g != NULL) + (a != NULL) + flag(c, "--tenant");

	if (n != 1)
		return usage_fail(c, "policy set needs exactly one of --user U, --group G, --app A, "
		    "--tenant");
	if (strcmp(key, "device-required"))
		return usage_fail(c, "unknown policy %s (known: device-required)", key);
	if (strcmp(val, "on") && strcmp(val, "off") && strcmp(val, "inherit"))
		return usage_fail(c, "device-required takes on, off or inherit, not \"%s\"", val);
	if (admin_policy_set(&c->adm, kind, name, strcmp(val, "inherit") ? val : NULL) == -1)
		return fail("%s", c->adm.msg);
	if (name)
		printf("policy device-required of %s:%s set to %s\n", kind, name, val);
	else
		printf("policy device-required of tenant set to %s\n", val);
	return 0;
}
