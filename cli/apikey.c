/*
 * sekisho apikey: the tenant's API keys (create, list, show, suspend, resume, delete).
 * The rules are admin/apikey.c's; this file parses and prints.  A new key is printed
 * once, as the only line on standard output, so a script can capture it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "cli.h"
#include "clock.h"
#include "xmalloc.h"

int
cmd_apikey_create(struct cli *c)
{
	struct apikey_in in = { .name = arg(c, 0), .max_scopes = ~(uint64_t)0,
		.trial = flag(c, "--trial") };
	const char *exp = opt(c, "--expires"), *err;
	char *key;

	if (apikey_scopes_parse(opt(c, "--scope"), &in.scopes, &err) < 0)
		return usage_fail(c, "--scope: %s", err);
	if (exp && apikey_duration_parse(exp, &in.expires_in) < 0)
		return usage_fail(c, "--expires: %s is not a duration of 1 minute to 3650 days "
		    "(90d, 12h, 30m)", exp);
	if (apikey_create(&c->adm, &in, &key, NULL) < 0)
		return fail("%s", c->adm.msg);
	printf("api_key=%s\n", key);
	fflush(stdout);
	freezero_str(key);
	return 0;
}

static void
time_or(uint64_t t, const char *none, char out[21])
{
	if (t)
		clock_iso8601((int64_t)t, out);
	else
		snprintf(out, 21, "%s", none);
}

static void
print_key(const void *rec, void *arg)
{
	const struct apikey *k = rec;
	int64_t now = *(const int64_t *)arg;
	char *scopes = apikey_scopes_str(k->scopes), exp[21];

	time_or(k->expires, "never", exp);
	printf("%s\t%s\t%s\tcalls=%llu/%d this month\texpires=%s%s\n", k->name, scopes,
	    apikey_state(k, now), (unsigned long long)apikey_calls_this_month(k, now),
	    APIKEY_PER_MONTH, exp, k->trial ? "\ttrial" : "");
	free(scopes);
}

int
cmd_apikey_list(struct cli *c)
{
	int64_t now = clock_now();

	if (store_apikey_list(c->in.store, c->tenant, print_key, &now) < 0)
		return fail("storage error");
	return 0;
}

int
cmd_apikey_show(struct cli *c)
{
	const char *name = arg(c, 0);
	int64_t now = clock_now();
	char *scopes, created[21], exp[21], last[21];
	uint64_t calls;
	struct apikey k;
	int rc;

	if ((rc = store_apikey_get(c->in.store, c->tenant, name, &k)) != 1)
		return fail(rc == 0 ? "no API key %s" : "storage error", name);
	scopes = apikey_scopes_str(k.scopes);
	calls = apikey_calls_this_month(&k, now);
	time_or(k.created, "unknown", created);
	time_or(k.expires, "never", exp);
	time_or(k.last_ms / 1000, "never", last);
	printf("name: %s\nid: %s\nscopes: %s\nstate: %s\ncreated: %s\ncreated_by: %s\n"
	    "expires: %s\ntrial: %s\ncalls_this_month: %llu\nremaining_this_month: %llu\n"
	    "total_calls: %llu\nlast_call: %s\n", k.name, k.id, scopes, apikey_state(&k, now),
	    created, k.created_by ? k.created_by : "unknown", exp, k.trial ? "yes" : "no",
	    (unsigned long long)calls, (unsigned long long)(APIKEY_PER_MONTH - calls),
	    (unsigned long long)k.total_calls, last);
	free(scopes);
	store_apikey_clear(&k);
	return 0;
}

/* suspend and resume */
int
cmd_apikey_suspend(struct cli *c)
{
	const char *name = arg(c, 0);
	int on = !strcmp(c->spec->sub, "suspend");

	if (apikey_set_suspended(&c->adm, name, on) < 0)
		return fail("%s", c->adm.msg);
	printf("API key %s %s\n", name, on ? "suspended" : "resumed");
	return 0;
}

int
cmd_apikey_delete(struct cli *c)
{
	const char *name = arg(c, 0);

	if (apikey_delete(&c->adm, name) < 0)
		return fail("%s", c->adm.msg);
	printf("API key %s deleted\n", name);
	return 0;
}
