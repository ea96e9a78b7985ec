/*
 * Building a tenant's rule set from the store (access_load.h): one reading of the tenant,
 * its rules, its assignments and its shorthand settings, shared by the server and the
 * command line.
 */
#include "config.h"

#include <string.h>

#include "access_load.h"
#include "log.h"
#include "rules.h"
#include "store.h"

struct load {
	struct ruleset *rs;
	const char *tenant;
	int bad;		/* a stored rule was refused */
};

static void
add_rule(const void *rec, void *arg)
{
	const struct rule_rec *r = rec;
	struct load *l = arg;
	char err[RULE_ERR_MAX];

	if (l->bad || ruleset_add(l->rs, r, err) == 0)
		return;
	log_error("tenant %s: stored rule %s: %s", l->tenant, r->name, err);
	l->bad = 1;
}

static void
add_assignment(const void *rec, void *arg)
{
	const struct assignment *a = rec;
	struct load *l = arg;

	ruleset_assign(l->rs, a->app, a->kind, a->target);
}

static void
add_shorthand(const void *rec, void *arg)
{
	const struct policy *p = rec;
	struct load *l = arg;

	if (strcmp(p->key, "device_required") == 0)
		ruleset_shorthand(l->rs, p->kind, p->target, strcmp(p->value, "on") == 0);
}

/* The empty set with the tenant's zone and default; NULL with *errstr. */
static struct ruleset *
tenant_set(struct store *st, const char *tenant, const char **errstr)
{
	struct tenant t;
	struct ruleset *rs = NULL;
	int rc = store_tenant_get(st, tenant, &t);

	if (rc != 1)
		*errstr = rc == 0 ? "no such tenant" : "storage error";
	else
		rs = ruleset_new(t.timezone, t.default_effect &&
		    strcmp(t.default_effect, "deny") == 0, errstr);
	store_tenant_clear(&t);
	return rs;
}

struct ruleset *
access_load(struct store *st, const char *tenant, const char **errstr)
{
	struct load l = { .tenant = tenant };

	if ((l.rs = tenant_set(st, tenant, errstr)) == NULL)
		return NULL;
	if (store_rule_list(st, tenant, add_rule, &l) < 0 ||
	    store_assignments(st, tenant, NULL, add_assignment, &l) < 0 ||
	    store_policy_list(st, tenant, add_shorthand, &l) < 0)
		*errstr = "storage error";
	else if (l.bad)
		*errstr = "a stored rule does not check (see the log)";
	else
		return l.rs;
	ruleset_free(l.rs);
	return NULL;
}
