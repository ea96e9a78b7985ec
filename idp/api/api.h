/*
 * The admin API at /t/TENANT/api/v1/ (and what the SCIM server at /t/TENANT/scim/v2/
 * shares with it): callers authenticate with an API key (Authorization: Bearer KEY),
 * every call is counted against the key's limits (store_apikey_hit), audited with the
 * key's name, and answered in JSON.  Each resource is a file api_NAME.c with a route
 * table; the OpenAPI document is assembled from idp/api/openapi/NAME.json.
 */
#ifndef SEKISHO_API_H
#define SEKISHO_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "admin.h"
#include "idp.h"
#include "store.h"

#define API_PARAMS_MAX 4
#define API_SEGMENT_MAX 256	/* bytes of one path segment a pattern's {...} takes */
#define API_PAGE_DEFAULT 50
#define API_PAGE_MAX 200

struct api_call;
typedef void (*api_fn)(struct api_call *c);

struct api_route {
	const char *method;	/* "GET" (answers HEAD too), "POST", "PUT", "PATCH", "DELETE" */
	const char *pattern;	/* below api/v1/: "users", "users/{name}", "users/{name}/password" */
	uint64_t scope;		/* APIKEY_SCOPE_* the key needs (any one of them when several) */
	api_fn fn;
};

/*
 * The few routes whose body is not JSON (a PNG, an SVG): the handler reads http_body and
 * c->body stays NULL.  Every other route takes JSON only (415 otherwise).
 */
struct api_raw_body {
	const char *method;
	const char *pattern;
	const char *const *types;	/* media types, NULL-terminated */
};
extern const struct api_raw_body api_raw_bodies[];	/* api_apps.c; ends with a NULL method */

/* The route tables (each ends with a NULL method); api.c dispatches over all of them. */
extern const struct api_route api_user_routes[];	/* api_users.c: users, groups, members */
extern const struct api_route api_app_routes[];		/* api_apps.c: apps, assignments */
extern const struct api_route api_catalog_routes[];	/* api_catalog.c: catalog, apps from templates */
extern const struct api_route api_policy_routes[];	/* api_policies.c: rules, policies/test */
extern const struct api_route api_cert_routes[];	/* api_certs.c */
extern const struct api_route api_audit_routes[];	/* api_audit.c: query, export */
extern const struct api_route api_key_routes[];		/* api_keys.c */
extern const struct api_route api_tenant_routes[];	/* api_tenant.c: settings, signing keys */
extern const struct api_route api_factor_routes[];	/* api_factors.c: factors, reset links */
extern const struct api_route api_stats_routes[];	/* api_stats.c: the dashboard's numbers */

struct api_call {
	struct idp *idp;
	struct tenant_ctx *t;
	struct http_req *req;
	struct admin adm;	/* tenant, actor "apikey:NAME", ip; the daemon's ca process */
	const char *key_name;	/* the caller's key */
	uint64_t scopes;	/* and its scopes */
	json_t *body;		/* the JSON body of POST, PUT, PATCH (an object), else NULL */
	const char *params[API_PARAMS_MAX];	/* the {...} segments of the pattern, in order */
	const struct form *query;	/* the query parameters */
	json_t *before, *after;	/* a write's object before and after (api_audit_change) */
	int answered;
	/* api.c's own */
	char param_buf[API_PARAMS_MAX][API_SEGMENT_MAX + 1];
	char key_name_buf[STORE_NAME_MAX + 1];
	char actor_buf[STORE_NAME_MAX + 8];
	void (*scim_err)(struct http_req *req, int status, const char *detail);
	const struct api_route *const *tables;	/* the routes of this API */
};

/* ---- answers ---- */
/* status with body (stolen; NULL: no body, as for 204), Content-Type application/json. */
void api_reply(struct api_call *c, int status, json_t *body);
/* 201 with Location: the tenant's api/v1/ + location (e.g. "users/alice") and body. */
void api_created(struct api_call *c, const char *location, json_t *body);
/*
 * {"error": error, "detail": the message, "field": field (when not NULL)} with status.
 * error is a short code: "invalid_request", "not_found", "conflict", "limit_reached",
 * "forbidden", "precondition_failed", "unauthorized", "rate_limited", "internal".
 */
void api_error(struct api_call *c, int status, const char *error, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The answer for c->adm's last failure (ADMIN_INVALID 400 ... ADMIN_FAILED 500). */
void api_admin_error(struct api_call *c);
/* 404 not_found naming what (another tenant's objects look exactly like missing ones). */
void api_not_found(struct api_call *c, const char *what);

/* ---- conditional updates ---- */
/* The ETag of a representation: W/"" + hex SHA-256 of its compact JSON (new string). */
char *api_etag(const json_t *rep);
/* Set the ETag header for rep. */
void api_set_etag(struct api_call *c, const json_t *rep);
/*
 * When the request has If-Match, compare it with the ETag of current (the object as GET
 * shows it now): 0 when it matches or there is none, -1 after answering 412.  Writes run
 * one at a time per process (api.c holds a lock around every non-GET handler), so the
 * check and the write that follows it are not interleaved with another API write.
 */
int api_if_match(struct api_call *c, const json_t *current);

/* ---- request bodies: each returns -1 after answering 400 naming the field ---- */
/* 1 when the Content-Type value ct (may be NULL) is type, parameters aside. */
int api_content_type_is(const char *ct, const char *type);
/* A string member (NULL when absent and not required), at most max bytes, no NUL/control. */
int api_get_str(struct api_call *c, const char *field, int required, size_t max,
    const char **out);
/* A boolean member (dflt when absent). */
int api_get_bool(struct api_call *c, const char *field, int dflt, int *out);
/* Members other than those in allowed (NULL-terminated) are refused. */
int api_only_fields(struct api_call *c, const char *const *allowed);

/* ---- paging: ?limit=1..200 (default 50) and ?cursor= (opaque) ---- */
struct api_page {
	size_t limit;
	char *after;		/* the last key of the previous page, or NULL */
	json_t *items;
	void *buf;		/* the smallest limit + 1 keys after the cursor so far */
	size_t n;
};
/* 0, or -1 after answering 400 (bad limit or cursor). */
int api_page_init(struct api_call *c, struct api_page *pg);
/*
 * Offer the item with sort key key (keys must arrive in increasing order): added when it
 * is after the cursor and the page has room (item stolen either way).
 */
void api_page_add(struct api_page *pg, const char *key, json_t *item);
/* Free a page that is not answered (after a storage error). */
void api_page_free(struct api_page *pg);
/* 200 {"items": [...], "next_cursor": "..." (only when there is more)}; frees pg. */
void api_page_reply(struct api_call *c, struct api_page *pg);

/* ---- audit of writes ---- */
/* The object before and after a write (either NULL), stolen; in the call's audit record. */
void api_audit_change(struct api_call *c, json_t *before, json_t *after);

/*
 * The end of a DELETE of the object before (stolen), given rc, the admin_* call's result:
 * 204 with before in the audit record, or the failure's answer.
 */
void api_deleted(struct api_call *c, json_t *before, int rc);
/*
 * The end of an update of the object before (stolen), given rc, the admin_* call's
 * result (0 also when nothing was asked), and after, the object as it is now (stolen;
 * NULL when reading it failed and was answered; read it only when rc is 0): 200 with
 * after and its ETag, both in the audit record; or the failure's answer.
 */
void api_updated(struct api_call *c, json_t *before, int rc, json_t *after);

/* ---- streaming (audit export) ---- */
/*
 * Produce the body in pieces: fn is called again and again with a buffer of max bytes and
 * returns how many it wrote, 0 at the end, or -1 to abort.  arg is freed with free_fn
 * when the response is done.
 */
typedef long (*api_stream_fn)(void *arg, char *buf, size_t max);
void api_stream(struct api_call *c, int status, const char *content_type, api_stream_fn fn,
    void *arg, void (*free_fn)(void *));

/* ---- time ---- */
/* RFC 3339 UTC ("2026-12-03T12:00:00Z") as a JSON string; JSON null for 0. */
json_t *api_time(uint64_t t);

/* ---- entry points (routes.c) ---- */
/* /t/TENANT/api/v1/REST: REST is what follows api/v1/ ("" for the root). */
void api_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest);
/*
 * For the SCIM server: authenticate the request's key for scope and count the call (the
 * same limits and audit as the admin API).  0 with c ready (release with api_end), or -1
 * after answering through err (status, detail).
 */
int api_begin(struct api_call *c, struct idp *idp, struct tenant_ctx *t, struct http_req *req,
    uint64_t scope, void (*err)(struct http_req *req, int status, const char *detail));
void api_end(struct api_call *c);
/* The assembled OpenAPI document (borrowed), built at start. */
const json_t *api_openapi(void);
/* Every route table (NULL-terminated), for the test of the document. */
const struct api_route *const *api_tables(void);

/*
 * The operator API (api_operator.c): /operator/api/v1/REST, keys of STORE_OPERATOR, its
 * own routes and OpenAPI document.
 */
void api_operator_route(struct idp *idp, struct http_req *req, const char *rest);
/* The operator API's document (borrowed), and its route tables, for the test. */
const json_t *api_operator_openapi(void);
const struct api_route *const *api_operator_tables(void);

/* The SCIM server (scim.c): /t/TENANT/scim/v2/REST. */
void scim_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest);
/*
 * Answer a request refused before any key is looked at (a suspended tenant): the API's
 * {"error": error, "detail": detail}, or SCIM's error body.
 */
void api_refuse(struct http_req *req, int status, const char *error, const char *detail);
void scim_refuse(struct http_req *req, int status, const char *detail);

#endif
