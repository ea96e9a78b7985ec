/*
 * API keys in the console: the list with this month's use against the monthly quota and
 * each key's state, suspend and resume, delete, and the form that creates a key (after a
 * recent password proof) showing the key once, through admin/apikey.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "buf.h"
#include "clock.h"
#include "console_int.h"
#include "xmalloc.h"

static const char *const scope_fields[] = { "read", "write", "certs", "scim" };
#define NSCOPES (sizeof(scope_fields) / sizeof(scope_fields[0]))

struct listing {
	struct tmpl_vars *v;
	int64_t now;
	const char *zone;
};

static void
key_row(const void *rec, void *arg)
{
	const struct apikey *k = rec;
	struct listing *l = arg;
	struct tmpl_vars *item = tmpl_add_item(l->v, "keys");
	char *scopes = apikey_scopes_str(k->scopes), n[24], when[TZ_TIME_LEN];

	tmpl_set(item, "key_name", k->name);
	tmpl_set(item, "key_id", k->id);
	tmpl_set(item, "scopes", scopes);
	tmpl_set(item, "state", apikey_state(k, l->now));
	tmpl_set(item, "suspended", k->suspended ? "1" : NULL);
	snprintf(n, sizeof(n), "%llu", (unsigned long long)apikey_calls_this_month(k, l->now));
	tmpl_set(item, "calls", n);
	if (k->expires) {
		tz_format(l->zone, (int64_t)k->expires, when);
		tmpl_set(item, "expires", when);
	}
	free(scopes);
}

/* The list with v's other values (a new key's string, an error) at status. */
static void
keys_page(struct console_req *c, int status, struct tmpl_vars *v)
{
	struct listing l = { v, clock_now(), c->zone };
	char quota[24];

	if (store_apikey_list(c->idp->in.store, c->t->id, key_row, &l) < 0) {
		console_error(c, 503, "error_server", "");
		return;
	}
	snprintf(quota, sizeof(quota), "%d", APIKEY_PER_MONTH);
	tmpl_set(v, "quota", quota);
	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_keys"));
	console_render(c, status, "console_keys.html", v);
}

void
console_keys_get(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();

	keys_page(c, 200, v);
	tmpl_vars_free(v);
}

/* The ticked scopes as "read,write" (new). */
static char *
form_scopes(struct console_req *c)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < NSCOPES; i++)
		if (console_field(c, scope_fields[i]))
			buf_printf(&b, "%s%s", b.len ? "," : "", scope_fields[i]);
	return b.len ? buf_steal(&b, NULL) : (buf_free(&b), xstrdup(""));
}

/* The form into in: 0, or -1 after admin_fail. */
static int
key_from_form(struct console_req *c, struct apikey_in *in)
{
	const char *expires = console_field(c, "expires_in"), *err = NULL;
	char *scopes = form_scopes(c);
	int rc = 0;

	in->name = console_field(c, "name");
	in->max_scopes = APIKEY_SCOPE_ALL;
	if (in->name == NULL || !*in->name)
		rc = admin_fail(&c->adm, ADMIN_INVALID, "name", "a key needs a name");
	else if (!*scopes || apikey_scopes_parse(scopes, &in->scopes, &err) < 0)
		rc = admin_fail(&c->adm, ADMIN_INVALID, "scopes", "scopes: tick at least one");
	else if (expires && *expires && apikey_duration_parse(expires, &in->expires_in) < 0)
		rc = admin_fail(&c->adm, ADMIN_INVALID, "expires_in", "expires_in: a duration "
		    "such as 90d, 12h or 30m, or empty for never");
	free(scopes);
	return rc;
}

void
console_key_add(struct console_req *c)
{
	struct apikey_in in = { 0 };
	struct tmpl_vars *v;
	char *key = NULL;

	if (key_from_form(c, &in) < 0 || apikey_create(&c->adm, &in, &key, NULL) < 0) {
		console_failed(c, "keys");
		return;
	}
	/* shown once, on this answer (no-store), never in a redirect or the audit record */
	v = tmpl_vars_new();
	tmpl_set(v, "new_key", key);
	tmpl_set(v, "new_key_name", in.name);
	tmpl_set(v, "key_notice", page_msg(c->idp->pages, c->lang, "console_done_key_added"));
	keys_page(c, 200, v);
	tmpl_vars_free(v);
	freezero_str(key);
}

void
console_key_suspend(struct console_req *c)
{
	const char *name = console_field(c, "name"), *on = console_field(c, "suspended");
	int suspend = on && !strcmp(on, "1");

	if (name == NULL || apikey_set_suspended(&c->adm, name, suspend) < 0) {
		if (name == NULL)
			admin_fail(&c->adm, ADMIN_NOT_FOUND, "name", "no such API key");
		console_failed(c, "keys");
		return;
	}
	console_done(c, "keys", suspend ? "console_done_key_suspended" :
	    "console_done_key_resumed");
}

void
console_key_delete(struct console_req *c)
{
	const char *name = console_field(c, "name");

	if (name == NULL || apikey_delete(&c->adm, name) < 0) {
		if (name == NULL)
			admin_fail(&c->adm, ADMIN_NOT_FOUND, "name", "no such API key");
		console_failed(c, "keys");
		return;
	}
	console_done(c, "keys", "console_done_key_deleted");
}
