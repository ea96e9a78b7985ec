/*
 * The admin API's API keys (apikeys, apikeys/{name}): list, create (the key string is in
 * the creation's answer only), show with the month's use, suspend or resume (PATCH
 * {"suspended": bool}) and delete, through admin/apikey.c as `sekisho apikey` does.  A
 * key cannot create a key with a scope it does not have itself.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "apikey.h"
#include "clock.h"
#include "store.h"
#include "xmalloc.h"

static json_t *
scopes_json(uint64_t scopes)
{
	char *s = apikey_scopes_str(scopes), *p = s, *comma;
	json_t *a = json_array();

	while (*p) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma = '\0';
		json_array_append_new(a, json_string(p));
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	free(s);
	return a;
}

/* A key as GET shows it (never its hash). */
static json_t *
key_rep(const struct apikey *k, int64_t now)
{
	uint64_t calls = apikey_calls_this_month(k, now);

	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:b, s:I, s:I, s:I, s:o}",
	    "name", k->name, "id", k->id, "scopes", scopes_json(k->scopes),
	    "state", apikey_state(k, now), "created", api_time(k->created),
	    "created_by", k->created_by ? json_string(k->created_by) : json_null(),
	    "expires", api_time(k->expires), "trial", k->trial != 0,
	    "calls_this_month", (json_int_t)calls,
	    "remaining_this_month", (json_int_t)(APIKEY_PER_MONTH - calls),
	    "total_calls", (json_int_t)k->total_calls,
	    "last_call", api_time(k->last_ms / 1000));
}

/* The key named in the path as GET shows it, or NULL after answering 404 or 500. */
static json_t *
current(struct api_call *c)
{
	struct apikey k;
	json_t *rep = NULL;
	int rc = store_apikey_get(c->adm.in->store, c->adm.tenant, c->params[0], &k);

	if (rc == 1)
		rep = key_rep(&k, clock_now());
	else if (rc == 0)
		api_not_found(c, "API key");
	else
		api_error(c, 500, "internal", NULL, "storage error");
	store_apikey_clear(&k);
	return rep;
}

struct list_arg {
	struct api_page *pg;
	int64_t now;
};

static void
list_cb(const void *rec, void *arg)
{
	const struct apikey *k = rec;
	struct list_arg *l = arg;
	char *key = xstrdup(k->name);

	/* the name index's order: names without regard to ASCII case */
	for (char *p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	api_page_add(l->pg, key, key_rep(k, l->now));
	free(key);
}

static void
keys_list(struct api_call *c)
{
	struct api_page pg;
	struct list_arg l = { &pg, clock_now() };

	if (api_page_init(c, &pg) < 0)
		return;
	if (store_apikey_list(c->adm.in->store, c->adm.tenant, list_cb, &l) < 0) {
		api_page_free(&pg);
		api_error(c, 500, "internal", NULL, "storage error");
		return;
	}
	api_page_reply(c, &pg);
}

static void
keys_get(struct api_call *c)
{
	json_t *rep = current(c);

	if (rep == NULL)
		return;
	api_set_etag(c, rep);
	api_reply(c, 200, rep);
}

/* "scopes": ["read", ...] into bits: 0, or -1 after answering 400. */
static int
body_scopes(struct api_call *c, uint64_t *scopes_r)
{
	json_t *a = json_object_get(c->body, "scopes"), *v;
	const char *err = "scopes is an array of read, write, certs, scim";
	uint64_t bit;
	size_t i;

	*scopes_r = 0;
	if (!json_is_array(a) || json_array_size(a) == 0)
		goto bad;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || strchr(json_string_value(v), ',') ||
		    apikey_scopes_parse(json_string_value(v), &bit, &err) < 0)
			goto bad;
		*scopes_r |= bit;
	}
	return 0;
bad:
	api_error(c, 400, "invalid_request", "scopes", "%s", err);
	return -1;
}

/* "expires_in": "90d" or null (never): 0, or -1 after answering 400. */
static int
body_expires(struct api_call *c, int64_t *secs_r)
{
	json_t *v = json_object_get(c->body, "expires_in");

	*secs_r = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v) && apikey_duration_parse(json_string_value(v), secs_r) == 0)
		return 0;
	api_error(c, 400, "invalid_request", "expires_in",
	    "expires_in is a duration of 1 minute to 3650 days (\"90d\", \"12h\", \"30m\") or null");
	return -1;
}

static void
keys_create(struct api_call *c)
{
	static const char *const allowed[] = { "name", "scopes", "expires_in", "trial", NULL };
	struct apikey_in in = { .max_scopes = c->scopes };
	char *key, *loc;
	json_t *rep;

	if (api_only_fields(c, allowed) < 0 ||
	    api_get_str(c, "name", 1, STORE_NAME_MAX, &in.name) < 0 ||
	    body_scopes(c, &in.scopes) < 0 || body_expires(c, &in.expires_in) < 0 ||
	    api_get_bool(c, "trial", 0, &in.trial) < 0)
		return;
	if (apikey_create(&c->adm, &in, &key, NULL) < 0) {
		api_admin_error(c);
		return;
	}
	c->params[0] = in.name;
	if ((rep = current(c)) == NULL) {
		freezero_str(key);
		return;
	}
	api_audit_change(c, NULL, json_deep_copy(rep));
	json_object_set_new(rep, "api_key", json_string(key));
	freezero_str(key);
	loc = xasprintf("apikeys/%s", in.name);
	api_created(c, loc, rep);
	free(loc);
}

static void
keys_patch(struct api_call *c)
{
	static const char *const allowed[] = { "suspended", NULL };
	json_t *before;
	int suspended, rc;

	if (api_only_fields(c, allowed) < 0 ||
	    api_get_bool(c, "suspended", -1, &suspended) < 0 || (before = current(c)) == NULL)
		return;
	if (api_if_match(c, before) < 0) {
		json_decref(before);
		return;
	}
	rc = suspended != -1 ? apikey_set_suspended(&c->adm, c->params[0], suspended) : 0;
	api_updated(c, before, rc < 0 ? -1 : 0, rc < 0 ? NULL : current(c));
}

static void
keys_delete(struct api_call *c)
{
	json_t *before = current(c);

	if (before == NULL)
		return;
	if (api_if_match(c, before) < 0) {
		json_decref(before);
		return;
	}
	api_deleted(c, before, apikey_delete(&c->adm, c->params[0]));
}

const struct api_route api_key_routes[] = {
	{ "GET", "apikeys", APIKEY_SCOPE_READ, keys_list },
	{ "POST", "apikeys", APIKEY_SCOPE_WRITE, keys_create },
	{ "GET", "apikeys/{name}", APIKEY_SCOPE_READ, keys_get },
	{ "PATCH", "apikeys/{name}", APIKEY_SCOPE_WRITE, keys_patch },
	{ "DELETE", "apikeys/{name}", APIKEY_SCOPE_WRITE, keys_delete },
	{ NULL, NULL, 0, NULL }
};
