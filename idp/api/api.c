/*
 * The admin API: authentication by API key, the per-key limits, dispatch over the
 * resource files' route tables, JSON bodies, and one audit record per call.  The pieces
 * handlers use (answers, ETags, paging, body members) are in api_util.c; the OpenAPI
 * document in api_doc.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_int.h"
#include "apikey.h"
#include "audit.h"
#include "clock.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

/* Wrong keys from one address: this many per minute, then 429 until the minute ends. */
#define API_BAD_KEYS_PER_MINUTE 20
#define API_BODY_MAX (1024 * 1024)

static const struct api_route *const tables[] = {
	api_user_routes, api_app_routes, api_catalog_routes, api_policy_routes,
	api_cert_routes, api_audit_routes, api_key_routes, api_tenant_routes,
	api_factor_routes, api_stats_routes, NULL
};

const struct api_route *const *
api_tables(void)
{
	return tables;
}

/* ---- matching a path against the route patterns ---- */

/* Does path match pattern ("users/{name}")?  The {...} segments go to params. */
int
api_match(const char *pattern, const char *path, char params[][API_SEGMENT_MAX + 1])
{
	int np = 0;

	while (*pattern && *path) {
		const char *pe = strchrnul(pattern, '/'), *se = strchrnul(path, '/');
		size_t plen = (size_t)(pe - pattern), slen = (size_t)(se - path);
		if (*pattern == '{') {
			if (slen == 0 || slen > API_SEGMENT_MAX || np == API_PARAMS_MAX)
				return 0;
			if (params) {
				memcpy(params[np], path, slen);
				params[np][slen] = '\0';
			}
			np++;
		} else if (plen != slen || strncmp(pattern, path, plen) != 0) {
			return 0;
		}
		pattern = *pe ? pe + 1 : pe;
		path = *se ? se + 1 : se;
		if (!*pe != !*se)
			return 0;
	}
	return !*pattern && !*path;
}

static int
method_is(const char *route_method, const char *method)
{
	if (!strcmp(method, "HEAD"))
		method = "GET";
	return !strcmp(route_method, method);
}

/* How many {...} segments pattern has. */
static int
pattern_params(const char *pattern)
{
	int n = 0;

	for (; *pattern; pattern++)
		n += *pattern == '{';
	return n;
}

/*
 * The route for method and path (params filled), or NULL; *path_known tells whether some
 * route has that path (then the method is the problem) and allow lists the methods of
 * the patterns that match it with the fewest parameters.  Of the patterns that match
 * and take the method, the one with the fewest parameters wins: a literal segment names
 * its own resource ("users/import" is the import for POST), yet a name that happens to
 * be a literal is still reachable where the literal route does not take the method
 * (GET users/import is the user called import).
 */
static const struct api_route *
find_route(const struct api_route *const *routes, const char *method, const char *path,
    char params[][API_SEGMENT_MAX + 1], int *path_known, char *allow, size_t allow_len)
{
	const struct api_route *found = NULL;
	int fewest = API_PARAMS_MAX + 1, best = API_PARAMS_MAX + 1, n;

	*path_known = 0;
	allow[0] = '\0';
	for (const struct api_route *const *t = routes; *t; t++)
		for (const struct api_route *r = *t; r->method; r++) {
			if (!api_match(r->pattern, path, NULL))
				continue;
			*path_known = 1;
			if ((n = pattern_params(r->pattern)) < fewest) {
				fewest = n;
				allow[0] = '\0';
			}
			if (n == fewest)
				snprintf(allow + strlen(allow), allow_len - strlen(allow), "%s%s",
				    allow[0] ? ", " : "", !strcmp(r->method, "GET") ? "GET, HEAD" :
				    r->method);
			if (n < best && method_is(r->method, method)) {
				best = n;
				found = r;
			}
		}
	if (found)
		api_match(found->pattern, path, params);
	return found;
}

/* ---- authentication and limits ---- */

static void
set_limit_headers(struct http_req *req, const struct apikey_hit *h)
{
	char v[32];

	http_add_header(req, "RateLimit-Limit", "5000");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)h->remaining);
	http_add_header(req, "RateLimit-Remaining", v);
	snprintf(v, sizeof(v), "%lld", (long long)h->reset_s);
	http_add_header(req, "RateLimit-Reset", v);
	http_add_header(req, "RateLimit-Policy", "5000;w=2592000, 1;w=1");
}

static void
retry_after(struct http_req *req, int64_t ms)
{
	char v[32];

	snprintf(v, sizeof(v), "%lld", (long long)((ms + 999) / 1000 > 0 ? (ms + 999) / 1000 : 1));
	http_add_header(req, "Retry-After", v);
}

/* The key of "Authorization: Bearer KEY", or NULL. */
static const char *
bearer(struct http_req *req)
{
	const char *h = http_header(req, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* A call without a valid key: counted against its address; 401, or 429 when it is over. */
static void
refuse_key(struct api_call *c, const char *why, api_err_fn err)
{
	const char *ip = http_client_ip(c->req);
	int ok = store_rate_hit(c->idp->in.store, c->t->id, "apikey.bad", ip, clock_now(), 60,
	    API_BAD_KEYS_PER_MINUTE);

	audit_event(c->idp->in.store, c->t->id, "api.reject", "path", http_path(c->req), "ip",
	    ip, "reason", why, NULL);
	if (ok == 0) {
		http_add_header(c->req, "Retry-After", "60");
		err(c, 429, "rate_limited", "too many calls with keys that are not valid");
		return;
	}
	http_add_header(c->req, "WWW-Authenticate", "Bearer realm=\"sekisho\"");
	err(c, 401, "unauthorized", why);
}

static void
limited(struct api_call *c, const struct apikey_hit *h, api_err_fn err)
{
	set_limit_headers(c->req, h);
	retry_after(c->req, h->retry_after_ms);
	if (h->exhausted_now) {
		audit_event(c->idp->in.store, c->t->id, "apikey.quota_exhausted", "key", h->name,
		    "limit", "5000", NULL);
		log_warn("tenant %s: API key %s used its %d calls of this month; suspended until "
		    "the month ends", c->t->id, h->name, APIKEY_PER_MONTH);
	}
	if (h->verdict == APIKEY_SECOND)
		err(c, 429, "rate_limited", "one call per second per key");
	else
		err(c, 429, "rate_limited", "the key used its 5000 calls of this month");
}

/* Count the call against the key; 0 when it may go on (c->key_name, c->scopes set). */
static int
authenticate(struct api_call *c, api_err_fn err)
{
	const char *key = bearer(c->req);
	char id[APIKEY_ID_LEN + 1];
	unsigned char hash[32];
	struct apikey_hit h = { 0 };

	if (key == NULL) {
		http_add_header(c->req, "WWW-Authenticate", "Bearer realm=\"sekisho\"");
		err(c, 401, "unauthorized", "an API key is needed: Authorization: Bearer KEY");
		return -1;
	}
	if (strlen(key) > APIKEY_STR_MAX || apikey_parse(key, id, hash) == -1) {
		refuse_key(c, "not an API key", err);
		return -1;
	}
	if (store_apikey_hit(c->idp->in.store, c->t->id, id, hash, clock_now_us() / 1000, &h) == -1) {
		err(c, 500, "internal", "the key could not be checked");
		return -1;
	}
	explicit_bzero(hash, sizeof(hash));
	return key_verdict(c, &h, err);
}

int
key_verdict(struct api_call *c, struct apikey_hit *h, api_err_fn err)
{
	int rc = -1;

	if (h->verdict == APIKEY_UNKNOWN)
		refuse_key(c, "not a valid API key of this tenant", err);
	else if (h->verdict == APIKEY_SUSPENDED)
		err(c, 403, "forbidden", "the key is suspended");
	else if (h->verdict == APIKEY_EXPIRED)
		err(c, 401, "unauthorized", "the key has expired");
	else if (h->verdict != APIKEY_OK)
		limited(c, h, err);
	else
		rc = 0;
	if (h->name) {
		c->key_name = c->key_name_buf;
		snprintf(c->key_name_buf, sizeof(c->key_name_buf), "%s", h->name);
		snprintf(c->actor_buf, sizeof(c->actor_buf), "apikey:%s", h->name);
		c->adm.actor = c->actor_buf;
	}
	c->scopes = h->scopes;
	if (rc == 0)
		set_limit_headers(c->req, h);
	store_apikey_hit_clear(h);
	return rc;
}

/* ---- bodies ---- */

int
api_content_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	return ct && !strncasecmp(ct, type, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* 1 when ct is one of types (NULL-terminated; NULL: none). */
static int
type_in(const char *ct, const char *const *types)
{
	for (const char *const *p = types; p && *p; p++)
		if (api_content_type_is(ct, *p))
			return 1;
	return 0;
}

/* The media types this request's route takes as a raw body, or NULL (JSON only). */
static const char *const *
route_raw_types(struct api_call *c, const char *rest)
{
	for (const struct api_raw_body *r = api_raw_bodies; rest && r->method; r++)
		if (!strcmp(r->method, http_method(c->req)) && api_match(r->pattern, rest, NULL))
			return r->types;
	return NULL;
}

/*
 * Parse the JSON body of POST, PUT and PATCH into c->body; a body of one of raw (the
 * route's raw_types) stays for the handler.  0, or -1 after answering.
 */
static int
read_body(struct api_call *c, api_err_fn err, const char *const *raw)
{
	static const char *const json[] = { "application/json", "application/merge-patch+json",
		"application/scim+json", NULL };
	const struct buf *b = http_body(c->req);
	const char *ct = http_header(c->req, "Content-Type"), *m = http_method(c->req);
	json_error_t je;

	if (strcmp(m, "POST") && strcmp(m, "PUT") && strcmp(m, "PATCH"))
		return 0;
	if (b->len == 0 || (raw && type_in(ct, raw)))
		return 0;
	if (!type_in(ct, json)) {
		err(c, 415, "unsupported_media_type", raw ? "the body must be one of the types "
		    "documented for this call" : "the body must be application/json");
		return -1;
	}
	c->body = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, &je);
	if (c->body == NULL || !json_is_object(c->body)) {
		err(c, 400, "invalid_request", c->body ? "the body must be a JSON object" :
		    "the body is not JSON");
		return -1;
	}
	return 0;
}

/* ---- the audit record of a call ---- */

static char *
compact(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static void
audit_call(struct api_call *c, const char *event)
{
	struct audit_entry ae;
	char status[8], *before = compact(c->before), *after = compact(c->after);

	snprintf(status, sizeof(status), "%d", http_get_status(c->req));
	audit_entry_make(&ae, event, "key", c->key_name, "method", http_method(c->req), "path",
	    http_path(c->req), "status", status, "ip", http_client_ip(c->req), "before", before,
	    "after", after, NULL);
	audit_entry_log(&ae, c->t->id);
	if (store_audit_append(c->idp->in.store, c->t->id, clock_now(), ae.event, ae.fields) == -1)
		log_error("tenant %s: the audit record of an API call could not be stored", c->t->id);
	free(before);
	free(after);
}

/* ---- the call ---- */

static void
call_init(struct api_call *c, struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	memset(c, 0, sizeof(*c));
	c->idp = idp;
	c->t = t;
	c->req = req;
	c->query = http_query(req);
	c->adm.in = &idp->in;
	c->adm.tenant = t->id;
	c->adm.ca = idp->ca;
	c->adm.ca_lock = &idp->ca_lock;
	c->adm.ip = http_client_ip(req);
	c->tables = tables;
}

static void
json_err(struct api_call *c, int status, const char *error, const char *detail)
{
	api_error(c, status, error, NULL, "%s", detail);
}

void
api_refuse(struct http_req *req, int status, const char *error, const char *detail)
{
	json_t *b = json_pack("{s:s, s:s}", "error", error, "detail", detail);
	char *s = json_dumps(b, JSON_COMPACT);

	json_decref(b);
	http_status(req, status);
	http_body_take(req, "application/json", s, strlen(s));
}

/* Authenticate, count, and read the body (rest: the path, NULL for SCIM); 0 when the
 * handler may run. */
static int
begin(struct api_call *c, api_err_fn err, const char *rest)
{
	if (http_input_error(c->req)) {
		err(c, 400, "invalid_request", http_input_error(c->req));
		return -1;
	}
	if (authenticate(c, err) == -1)
		return -1;
	return read_body(c, err, route_raw_types(c, rest));
}

static void
run(struct api_call *c, const struct api_route *r)
{
	int write = strcmp(r->method, "GET") != 0;

	if ((r->scope & c->scopes) == 0) {
		api_error(c, 403, "forbidden", NULL, "the key's scopes do not allow this call");
		return;
	}
	if (write)
		pthread_mutex_lock(&c->idp->api_lock);
	r->fn(c);
	if (write)
		pthread_mutex_unlock(&c->idp->api_lock);
	if (!c->answered)
		api_error(c, 500, "internal", NULL, "the call was not answered");
}

static void
dispatch(struct api_call *c, const char *rest)
{
	char allow[128];
	int known;
	const struct api_route *r = find_route(c->tables, http_method(c->req), rest,
	    c->param_buf, &known, allow, sizeof(allow));

	if (r == NULL && known) {
		http_add_header(c->req, "Allow", allow);
		api_error(c, 405, "method_not_allowed", NULL, "%s is not allowed here",
		    http_method(c->req));
		return;
	}
	if (r == NULL) {
		api_error(c, 404, "not_found", NULL, "no such resource");
		return;
	}
	for (int i = 0; i < API_PARAMS_MAX; i++)
		c->params[i] = c->param_buf[i][0] ? c->param_buf[i] : NULL;
	run(c, r);
}

static void
call_free(struct api_call *c)
{
	json_decref(c->body);
	json_decref(c->before);
	json_decref(c->after);
	c->body = c->before = c->after = NULL;
}

void
api_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	api_route_tables(idp, t, req, rest, tables, api_openapi());
}

void
api_route_tables(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest,
    const struct api_route *const *routes, const json_t *doc)
{
	struct api_call c;

	call_init(&c, idp, t, req);
	c.tables = routes;
	if (!strcmp(rest, "openapi.json")) {
		api_doc_serve(&c, doc);
		return;
	}
	if (begin(&c, json_err, rest) == 0)
		dispatch(&c, rest);
	if (c.key_name)
		audit_call(&c, "api.call");
	call_free(&c);
}

/* ---- for the SCIM server ---- */

static void
scim_err(struct api_call *c, int status, const char *error, const char *detail)
{
	(void)error;
	c->answered = 1;
	c->scim_err(c->req, status, detail);
}

int
api_begin(struct api_call *c, struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    uint64_t scope, void (*err)(struct http_req *req, int status, const char *detail))
{
	call_init(c, idp, t, req);
	c->scim_err = err;
	if (begin(c, scim_err, NULL) == 0 && (c->scopes & scope) == 0)
		scim_err(c, 403, "forbidden", "the key's scopes do not allow this call");
	if (c->answered) {
		api_end(c);
		return -1;
	}
	return 0;
}

void
api_end(struct api_call *c)
{
	if (c->key_name)
		audit_call(c, "scim.call");
	call_free(c);
}
