/*
 * sekisho tenant add|set --seats ..., tenant show and tenant list: a tenant's licence and
 * its use.  The checks and the counting are admin/licence.c's (shared with the APIs); here
 * are the options and the output.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_licence.h"
#include "admin_tenant.h"
#include "cli.h"
#include "store.h"

/* A count option as decimal digits; -1 (which admin refuses) when it is not one. */
static int64_t
parse_count(const char *s)
{
	char *end;
	long long n;

	if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 9)
		return -1;
	n = strtoll(s, &end, 10);
	return *end == '\0' ? n : -1;
}

int
cli_licence_given(struct cli *c)
{
	return opt(c, "--seats") || opt(c, "--device-seats") || opt(c, "--trial-until") ||
	    flag(c, "--no-trial") || flag(c, "--unlicensed") || flag(c, "--force");
}

/* "licence=unlicensed" or "licence=20 seats ...": one line of the licence and its use. */
static void
print_licence(const char *id, const struct admin_licence *l)
{
	if (!l->licensed) {
		printf("tenant %s licence=unlicensed users=%llu operators=%llu cert_holders=%llu\n",
		    id, (unsigned long long)l->use.users, (unsigned long long)l->use.operators,
		    (unsigned long long)l->use.cert_holders);
		return;
	}
	printf("tenant %s licence=licensed seats=%llu/%llu device_seats=%llu/%llu "
	    "operators=%llu/%d trial_until=%s%s\n", id, (unsigned long long)l->use.users,
	    (unsigned long long)l->seats, (unsigned long long)l->use.cert_holders,
	    (unsigned long long)l->device_seats, (unsigned long long)l->use.operators,
	    STORE_OPERATORS_MAX, *l->trial_date ? l->trial_date : "-",
	    l->use.users > l->seats || l->use.cert_holders > l->device_seats ?
	    " over=yes" : "");
}

static int
show_licence(struct cli *c, const char *id)
{
	struct admin_licence l;

	if (admin_licence_get(&c->adm, id, &l) == -1)
		return fail("%s", c->adm.msg);
	print_licence(id, &l);
	return 0;
}

/* A refused value, named as its option. */
static int
licence_fail(struct cli *c)
{
	static const char *const opts[][2] = { { "seats", "--seats" },
		{ "device_seats", "--device-seats" }, { "trial_until", "--trial-until" } };

	for (size_t i = 0; c->adm.field && i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(c->adm.field, opts[i][0]) && opt(c, opts[i][1]))
			return fail("%s %s: %s", opts[i][1], opt(c, opts[i][1]), c->adm.msg);
	return fail("%s", c->adm.msg);
}

static void
licence_options(struct cli *c, struct admin_licence_set *s)
{
	*s = (struct admin_licence_set){ .unlicensed = flag(c, "--unlicensed"),
		.seats_given = opt(c, "--seats") != NULL, .seats = parse_count(opt(c, "--seats")),
		.device_given = opt(c, "--device-seats") != NULL,
		.device_seats = parse_count(opt(c, "--device-seats")),
		.trial_until = opt(c, "--trial-until"), .no_trial = flag(c, "--no-trial"),
		.force = flag(c, "--force") };
}

int
cli_licence_check(struct cli *c)
{
	struct admin_licence_set s;

	licence_options(c, &s);
	if (cli_licence_given(c) && admin_licence_check(&c->adm, &s) == -1)
		return licence_fail(c);
	return 0;
}

int
cli_licence_set(struct cli *c, const char *id)
{
	struct admin_licence_set s;

	licence_options(c, &s);
	if (admin_tenant_licence_set(&c->adm, id, &s) == -1)
		return licence_fail(c);
	return show_licence(c, id);
}

/* tenant add: a licence when --seats is given, else the tenant says it is unlicensed. */
int
cli_licence_add(struct cli *c, const char *id)
{
	if (!cli_licence_given(c)) {
		printf("tenant %s is unlicensed: no limit on users or device certificates "
		    "(set one with sekisho tenant set %s --seats N)\n", id, id);
		return 0;
	}
	if (!opt(c, "--seats"))
		return usage_fail(c, "--device-seats and --trial-until need --seats");
	return cli_licence_set(c, id);
}

int
cmd_tenant_show(struct cli *c)
{
	const char *id = arg(c, 0);
	struct admin_tenant t;

	if (admin_tenant_get(&c->adm, id, &t) == -1)
		return fail("%s", c->adm.msg);
	printf("tenant %s name=%s timezone=%s default=%s password_min_length=%llu\n", id,
	    t.name, t.timezone, t.default_effect, (unsigned long long)t.password_min_length);
	printf("tenant %s display_name=%s logo=%s color=%s help_url=%s\n", id,
	    t.display_name ? t.display_name : "-", t.logo_type ? t.logo_type : "-",
	    t.color ? t.color : "-", t.help_url ? t.help_url : "-");
	admin_tenant_clear(&t);
	return show_licence(c, id);
}

static void
list_one(const void *rec, void *arg)
{
	const struct tenant *t = rec;
	struct cli *c = arg;
	struct admin_licence l;
	char seats[48], dev[48];

	if (admin_licence_get(&c->adm, t->id, &l) == -1) {
		printf("%s\t%s\t?\n", t->id, t->name ? t->name : "");
		return;
	}
	/* Unlicensed: the use alone, there is no limit to set it against. */
	snprintf(seats, sizeof(seats), l.licensed ? "%llu/%llu" : "%llu",
	    (unsigned long long)l.use.users, (unsigned long long)l.seats);
	snprintf(dev, sizeof(dev), l.licensed ? "%llu/%llu" : "%llu",
	    (unsigned long long)l.use.cert_holders, (unsigned long long)l.device_seats);
	printf("%s\t%s\t%s\tusers=%s\tdevices=%s\toperators=%llu\ttrial_until=%s\n", t->id,
	    t->name ? t->name : "", l.licensed ? "licensed" : "unlicensed", seats, dev,
	    (unsigned long long)l.use.operators, *l.trial_date ? l.trial_date : "-");
}

int
cmd_tenant_list(struct cli *c)
{
	return store_tenant_list(c->in.store, list_one, c) < 0;
}
