/*
 * The SCIM 2.0 server at /t/TENANT/scim/v2/: routes Users, Groups and the discovery
 * endpoints (ServiceProviderConfig, ResourceTypes, Schemas), authenticates and counts
 * each call as the admin API does (api_begin: a key with the scim scope, the same limits
 * and audit), and answers in SCIM's shape (application/scim+json, SCIM error bodies).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "embedded.h"
#include "http.h"
#include "log.h"
#include "scim.h"
#include "store.h"
#include "xmalloc.h"

#define SCIM_URN_SPC "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"

static pthread_once_t discovery_once = PTHREAD_ONCE_INIT;
static json_t *discovery;	/* scim_schemas.json: what the discovery endpoints serve */

/* ---- answers ---- */

static json_t *
error_body(int status, const char *type, const char *detail)
{
	char st[8];
	json_t *b;

	snprintf(st, sizeof(st), "%d", status);
	b = json_pack("{s:[s], s:s, s:s}", "schemas", SCIM_URN_ERROR, "status", st, "detail",
	    detail ? detail : "");
	if (type)
		json_object_set_new(b, "scimType", json_string(type));
	return b;
}

static void
reply_req(struct http_req *req, int status, json_t *body)
{
	char *s;

	http_status(req, status);
	if (!body)
		return;
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	http_body_take(req, SCIM_CONTENT_TYPE, s, strlen(s));
}

void
scim_refuse(struct http_req *req, int status, const char *detail)
{
	reply_req(req, status, error_body(status, NULL, detail));
}

void
scim_reply(struct api_call *c, int status, json_t *body)
{
	reply_req(c->req, status, body);
	c->answered = 1;
}

void
scim_error(struct api_call *c, const struct scim_err *e)
{
	scim_reply(c, e->status, error_body(e->status, e->type, e->detail));
}

void
scim_errorf(struct api_call *c, int status, const char *type, const char *fmt, ...)
{
	struct scim_err e = { status, type, "" };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.detail, sizeof(e.detail), fmt, ap);
	va_end(ap);
	scim_error(c, &e);
}

void
scim_admin_error(struct api_call *c)
{
	switch (c->adm.status) {
	case ADMIN_INVALID:
		scim_errorf(c, 400, "invalidValue", "%s", c->adm.msg);
		break;
	case ADMIN_NOT_FOUND:
		scim_errorf(c, 404, NULL, "%s", c->adm.msg);
		break;
	case ADMIN_CONFLICT:
		scim_errorf(c, 409, "uniqueness", "%s", c->adm.msg);
		break;
	case ADMIN_LIMIT:
		scim_errorf(c, 409, NULL, "%s", c->adm.msg);
		break;
	case ADMIN_FORBIDDEN:
		scim_errorf(c, 403, NULL, "%s", c->adm.msg);
		break;
	default:
		scim_errorf(c, 500, NULL, "%s", c->adm.msg[0] ? c->adm.msg : "internal error");
		break;
	}
}

/* What api_begin refuses (no key, wrong scope, limits, a body that is not JSON). */
static void
begin_error(struct http_req *req, int status, const char *detail)
{
	reply_req(req, status, error_body(status, status == 400 ? "invalidSyntax" : NULL,
	    detail));
}

void
scim_send(struct api_call *c, int status, json_t *rep)
{
	json_t *meta = scim_get(rep, "meta");
	const char *v = json_string_value(scim_get(meta, "version"));
	const char *loc = json_string_value(scim_get(meta, "location"));

	if (v)
		http_add_header(c->req, "ETag", v);
	if (status == 201 && loc)
		http_add_header(c->req, "Location", loc);
	scim_project(c, rep);
	scim_reply(c, status, rep);
}

int
scim_str(const json_t *o, const char *name, const char **s_r, struct scim_err *e)
{
	json_t *v = scim_get(o, name);

	*s_r = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return scim_fail(e, 400, "invalidValue", "%s is a string", name);
	*s_r = json_string_value(v);
	return 0;
}

/* ---- resources ---- */

char *
scim_location(const struct api_call *c, const char *kind, const char *id)
{
	return xasprintf("%s/scim/v2/%s/%s", c->t->base, kind, id);
}

void
scim_meta(const struct api_call *c, json_t *rep, const char *type, const char *kind,
    const char *id, uint64_t created, uint64_t modified, int complete)
{
	char *version = api_etag(rep), *loc = scim_location(c, kind, id);
	json_t *meta = json_pack("{s:s, s:o, s:o, s:s}", "resourceType", type, "created",
	    api_time(created), "lastModified", api_time(modified > created ? modified : created),
	    "location", loc);

	if (complete)	/* a version of part of it would never match */
		json_object_set_new(meta, "version", json_string(version));
	json_object_set_new(rep, "meta", meta);
	free(version);
	free(loc);
}

/* Is tag (one entity-tag of If-Match) the version v?  Weak comparison (RFC 7232 2.3.2). */
static int
tag_matches(const char *tag, size_t n, const char *v)
{
	if (n >= 2 && tag[0] == 'W' && tag[1] == '/') {
		tag += 2;
		n -= 2;
	}
	if (strncmp(v, "W/", 2) == 0)
		v += 2;
	return (n == 1 && tag[0] == '*') || (strlen(v) == n && memcmp(tag, v, n) == 0);
}

int
scim_if_match(struct api_call *c, const json_t *current)
{
	const char *h = http_header(c->req, "If-Match"), *p;
	const char *v = json_string_value(scim_get(scim_get(current, "meta"), "version"));

	if (!h || !v)
		return 0;
	for (p = h; *p;) {
		size_t n;

		p += strspn(p, " \t,");
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0 && tag_matches(p, n, v))
			return 0;
		p += strcspn(p, ",");
	}
	scim_errorf(c, 412, NULL, "the resource has changed since (If-Match)");
	return -1;
}

/* Does item of an attributes list name attr ("name.givenName" names "name")? */
static int
item_names(const char *item, size_t n, const char *attr)
{
	static const char *const cores[] = { SCIM_URN_USER ":", SCIM_URN_GROUP ":", NULL };
	size_t an = strlen(attr);

	for (size_t i = 0; cores[i]; i++) {
		size_t cn = strlen(cores[i]);

		if (n > cn && strncasecmp(item, cores[i], cn) == 0) {
			item += cn;
			n -= cn;
			break;
		}
	}
	if (n < an || strncasecmp(item, attr, an) != 0)
		return 0;
	return n == an || item[an] == '.' || item[an] == ':';
}

/* Does the comma-separated list name attr? */
static int
list_names(const char *list, const char *attr)
{
	for (const char *p = list; *p;) {
		size_t n;

		p += strspn(p, " ,");
		n = strcspn(p, ",");
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n > 0 && item_names(p, n, attr))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

int
scim_returned(const struct api_call *c, const char *attr)
{
	const char *only = form_get(c->query, "attributes");
	const char *except = form_get(c->query, "excludedAttributes");

	if (strcasecmp(attr, "id") == 0 || strcasecmp(attr, "schemas") == 0)
		return 1;
	if (only && *only)
		return list_names(only, attr);
	return !(except && list_names(except, attr));
}

void
scim_project(const struct api_call *c, json_t *rep)
{
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(rep, tmp, k, v) {
		if (!scim_returned(c, k))
			json_object_del(rep, k);
	}
}

/* ---- lists ---- */

/* A whole decimal number in s: 0 with *n_r, or -1. */
static int
parse_int(const char *s, long long *n_r)
{
	char *end;

	errno = 0;
	*n_r = strtoll(s, &end, 10);
	return (end == s || *end || errno) ? -1 : 0;
}

int
scim_list_init(struct api_call *c, struct scim_list *l)
{
	const char *f = form_get(c->query, "filter");
	const char *si = form_get(c->query, "startIndex"), *cn = form_get(c->query, "count");
	struct scim_err e;
	long long n;

	memset(l, 0, sizeof(*l));
	l->start = 1;
	l->count = SCIM_LIST_DEFAULT;
	if (si && parse_int(si, &n) < 0)
		goto bad_start;
	if (si && n > 1)
		l->start = (size_t)n;	/* less than 1 counts as 1 (RFC 7644 3.4.2.4) */
	if (cn && parse_int(cn, &n) < 0) {
		scim_errorf(c, 400, "invalidValue", "count is a number");
		return -1;
	}
	if (cn)
		l->count = n < 0 ? 0 : n > SCIM_LIST_MAX ? SCIM_LIST_MAX : (size_t)n;
	if (f && !(l->filter = scim_filter_parse(f, &e))) {
		scim_error(c, &e);
		return -1;
	}
	l->resources = json_array();
	return 0;
bad_start:
	scim_errorf(c, 400, "invalidValue", "startIndex is a number");
	return -1;
}

int
scim_list_take(struct scim_list *l, const json_t *rep)
{
	if (l->filter && !scim_filter_match(l->filter, rep, NULL))
		return 0;
	l->total++;
	return l->total >= l->start && json_array_size(l->resources) < l->count;
}

void
scim_list_add(const struct api_call *c, struct scim_list *l, json_t *rep)
{
	scim_project(c, rep);
	json_array_append_new(l->resources, rep);
}

void
scim_list_free(struct scim_list *l)
{
	scim_filter_free(l->filter);
	json_decref(l->resources);
	memset(l, 0, sizeof(*l));
}

void
scim_list_reply(struct api_call *c, struct scim_list *l)
{
	json_t *b = json_pack("{s:[s], s:I, s:I, s:I, s:O}", "schemas", SCIM_URN_LIST,
	    "totalResults", (json_int_t)l->total, "startIndex", (json_int_t)l->start,
	    "itemsPerPage", (json_int_t)json_array_size(l->resources), "Resources",
	    l->resources);

	scim_list_free(l);
	scim_reply(c, 200, b);
}

/* ---- discovery ---- */

static void
load_discovery(void)
{
	json_error_t je;

	for (const struct embedded_file *f = embedded_files; f->name; f++) {
		if (strcmp(f->name, "scim_schemas.json") != 0)
			continue;
		if (!(discovery = json_loadb(f->data, f->len, 0, &je)))
			log_error("scim_schemas.json:%d: %s", je.line, je.text);
	}
}

/* A discovery document (copy) with its meta, or NULL. */
static json_t *
discovery_item(const struct api_call *c, json_t *doc, const char *type, const char *kind,
    const char *id)
{
	json_t *d = json_deep_copy(doc);
	char *loc = id ? scim_location(c, kind, id) : xasprintf("%s/scim/v2/%s", c->t->base, kind);

	json_object_set_new(d, "meta", json_pack("{s:s, s:s}", "resourceType", type, "location",
	    loc));
	free(loc);
	return d;
}

/* ResourceTypes or Schemas: the list, or the one called id. */
static void
discovery_list(struct api_call *c, const char *kind, const char *type, const char *id)
{
	json_t *all = json_object_get(discovery, kind), *x;
	struct scim_list l = { .start = 1, .count = SCIM_LIST_MAX, .resources = json_array() };
	size_t i;

	json_array_foreach(all, i, x) {
		const char *xid = json_string_value(json_object_get(x, "id"));

		if (id && strcmp(id, xid) != 0)
			continue;
		if (id) {
			scim_list_free(&l);
			scim_reply(c, 200, discovery_item(c, x, type, kind, xid));
			return;
		}
		l.total++;
		json_array_append_new(l.resources, discovery_item(c, x, type, kind, xid));
	}
	if (id) {
		scim_list_free(&l);
		scim_errorf(c, 404, NULL, "no %s %s", type, id);
		return;
	}
	scim_list_reply(c, &l);
}

static void
discovery_get(struct api_call *c, const char *kind, const char *id)
{
	pthread_once(&discovery_once, load_discovery);
	if (!discovery) {
		scim_errorf(c, 500, NULL, "the SCIM schemas could not be loaded");
		return;
	}
	if (strcmp(kind, "ServiceProviderConfig") == 0 && !id)
		scim_reply(c, 200, discovery_item(c, json_object_get(discovery, kind), kind, kind,
		    NULL));
	else if (strcmp(kind, "ServiceProviderConfig") == 0)
		scim_errorf(c, 404, NULL, "no such resource");
	else if (strcmp(kind, "ResourceTypes") == 0)
		discovery_list(c, kind, "ResourceType", id);
	else
		discovery_list(c, kind, "Schema", id);
}

/* ---- routing ---- */

static int
is_get(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* Users and Groups: 0 when method fits the collection or one resource, else -1 after 405. */
static int
resource_method(struct api_call *c, const char *method, const char *kind, const char *id)
{
	static const char *const one[] = { "GET", "PUT", "PATCH", "DELETE", NULL };
	static const char *const all[] = { "GET", "POST", NULL };
	const char *const *ok = id ? one : all;

	for (size_t i = 0; ok[i]; i++)
		if (strcmp(method, ok[i]) == 0)
			return 0;
	http_add_header(c->req, "Allow", id ? "GET, HEAD, PUT, PATCH, DELETE" : "GET, HEAD, POST");
	scim_errorf(c, 405, NULL, "%s is not allowed on %s%s", method, kind, id ? "/{id}" : "");
	return -1;
}

static void
dispatch(struct api_call *c, const char *method, const char *kind, const char *id)
{
	static const char *const discovery_kinds[] = {
		"ServiceProviderConfig", "ResourceTypes", "Schemas", NULL
	};

	if (id && strcmp(id, ".search") == 0) {
		scim_errorf(c, 501, NULL, "searching with POST is not supported");
		return;
	}
	if (strcmp(kind, "Users") == 0 || strcmp(kind, "Groups") == 0) {
		method = is_get(method) ? "GET" : method;
		if (resource_method(c, method, kind, id) < 0)
			return;
		if (strcmp(method, "GET") && strcmp(method, "DELETE") && !c->body)
			scim_errorf(c, 400, "invalidSyntax", "a JSON object body is required");
		else
			scim_resource(c, kind[0] == 'U' ? &scim_user_kind : &scim_group_kind,
			    method, id);
		return;
	}
	for (size_t i = 0; discovery_kinds[i]; i++) {
		if (strcmp(kind, discovery_kinds[i]) != 0)
			continue;
		if (!is_get(method)) {
			http_add_header(c->req, "Allow", "GET, HEAD");
			scim_errorf(c, 405, NULL, "%s is read-only", kind);
		} else {
			discovery_get(c, kind, id);
		}
		return;
	}
	if (strcmp(kind, "Bulk") == 0 || strcmp(kind, "Me") == 0 || strcmp(kind, ".search") == 0)
		scim_errorf(c, 501, NULL, "%s is not supported", kind);
	else
		scim_errorf(c, 404, NULL, "no such endpoint");
}

void
scim_route(struct idp *idp, struct tenant_ctx *t, struct http_req *req, const char *rest)
{
	struct api_call c;
	const char *slash = strchr(rest, '/');
	char *kind = slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
	const char *id = slash && slash[1] ? slash + 1 : NULL;
	int write;

	if (api_begin(&c, idp, t, req, APIKEY_SCOPE_SCIM, begin_error) < 0) {
		free(kind);
		return;
	}
	/* writes one at a time, as the admin API's: If-Match and the checks before a write
	 * hold until it is done */
	write = !is_get(http_method(req));
	if (write)
		pthread_mutex_lock(&idp->api_lock);
	if (id && strchr(id, '/'))
		scim_errorf(&c, 404, NULL, "no such endpoint");
	else
		dispatch(&c, http_method(req), kind, id);
	if (write)
		pthread_mutex_unlock(&idp->api_lock);
	api_end(&c);
	free(kind);
}
