/*
 * What the admin API's handlers answer with: JSON bodies and errors, ETags and If-Match,
 * members of request bodies, pages of lists, the before/after of writes, streamed bodies
 * and times.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "clock.h"
#include "crypto.h"
#include "encode.h"
#include "form.h"
#include "xmalloc.h"

/* ---- answers ---- */

void
api_reply(struct api_call *c, int status, json_t *body)
{
	char *s;

	c->answered = 1;
	http_status(c->req, status);
	if (body == NULL) {
		http_body_copy(c->req, "application/json", "", 0);
		return;
	}
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (s == NULL)
		s = xstrdup("{\"error\":\"internal\",\"detail\":\"the answer could not be written\"}");
	http_body_take(c->req, "application/json", s, strlen(s));
}

void
api_created(struct api_call *c, const char *location, json_t *body)
{
	char *url = xasprintf("%s/api/v1/%s", c->t->base, location);

	http_add_header(c->req, "Location", url);
	free(url);
	api_reply(c, 201, body);
}

void
api_error(struct api_call *c, int status, const char *error, const char *field,
    const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	j = json_pack("{s:s, s:s}", "error", error, "detail", detail);
	if (field)
		json_object_set_new(j, "field", json_string(field));
	api_reply(c, status, j);
}

void
api_admin_error(struct api_call *c)
{
	static const struct { int status; const char *error; } map[] = {
		[ADMIN_OK] = { 500, "internal" },
		[ADMIN_INVALID] = { 400, "invalid_request" },
		[ADMIN_NOT_FOUND] = { 404, "not_found" },
		[ADMIN_CONFLICT] = { 409, "conflict" },
		[ADMIN_LIMIT] = { 409, "limit_reached" },
		[ADMIN_FORBIDDEN] = { 403, "forbidden" },
		[ADMIN_FAILED] = { 500, "internal" },
	};
	enum admin_status s = c->adm.status <= ADMIN_FAILED ? c->adm.status : ADMIN_FAILED;
	const char *msg = c->adm.msg[0] ? c->adm.msg : "the operation failed";
	size_t opt = strspn(msg, "-") == 2 ? strcspn(msg, " :=") : 0;

	/* Messages shared with the command line name its option ("--not-from X: ..."): an
	 * API caller sent the member, so the member's name takes the option's place. */
	if (opt && c->adm.field)
		api_error(c, map[s].status, map[s].error, c->adm.field, "%s%s", c->adm.field,
		    msg + opt);
	else
		api_error(c, map[s].status, map[s].error, c->adm.field, "%s", msg);
}

void
api_not_found(struct api_call *c, const char *what)
{
	api_error(c, 404, "not_found", NULL, "no such %s", what);
}

/* ---- ETags ---- */

char *
api_etag(const json_t *rep)
{
	unsigned char h[32];
	char hex[65], *s = json_dumps(rep, JSON_COMPACT | JSON_SORT_KEYS);

	crypto_sha256(s ? s : "", s ? strlen(s) : 0, h);
	free(s);
	hex_encode(h, 16, hex);
	return xasprintf("W/\"%s\"", hex);
}

void
api_set_etag(struct api_call *c, const json_t *rep)
{
	char *e = api_etag(rep);

	http_add_header(c->req, "ETag", e);
	free(e);
}

/* Does one entity tag of the If-Match list (weak comparison) equal etag? */
static int
tag_listed(const char *list, const char *etag)
{
	const char *want = etag[0] == 'W' ? etag + 2 : etag;
	size_t n = strlen(want);

	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (!strncmp(p, want, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

int
api_if_match(struct api_call *c, const json_t *current)
{
	const char *im = http_header(c->req, "If-Match");
	char *etag;
	int ok;

	if (im == NULL || !strcmp(im, "*"))
		return 0;
	etag = api_etag(current);
	ok = tag_listed(im, etag);
	free(etag);
	if (ok)
		return 0;
	api_error(c, 412, "precondition_failed", NULL,
	    "the object changed since it was read (If-Match does not match its ETag)");
	return -1;
}

/* ---- request bodies ---- */

static int
has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

int
api_get_str(struct api_call *c, const char *field, int required, size_t max, const char **out)
{
	json_t *v = c->body ? json_object_get(c->body, field) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		api_error(c, 400, "invalid_request", field, "%s is required", field);
		return -1;
	}
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    has_control(json_string_value(v))) {
		api_error(c, 400, "invalid_request", field,
		    "%s must be a string of at most %zu bytes without control characters", field, max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
api_get_bool(struct api_call *c, const char *field, int dflt, int *out)
{
	json_t *v = c->body ? json_object_get(c->body, field) : NULL;

	*out = dflt;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		api_error(c, 400, "invalid_request", field, "%s must be true or false", field);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int
api_only_fields(struct api_call *c, const char *const *allowed)
{
	const char *k;
	json_t *v;

	if (c->body == NULL)
		return 0;
	json_object_foreach(c->body, k, v) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, k))
			a++;
		if (*a == NULL) {
			api_error(c, 400, "invalid_request", k, "unknown member %.100s", k);
			return -1;
		}
	}
	return 0;
}

/* ---- pages ---- */

struct page_item {
	char *key;
	json_t *item;
};

int
api_page_init(struct api_call *c, struct api_page *pg)
{
	const char *l = form_get(c->query, "limit"), *cur = form_get(c->query, "cursor");
	char *end;
	size_t n;

	memset(pg, 0, sizeof(*pg));
	pg->limit = API_PAGE_DEFAULT;
	if (l) {
		long v = strtol(l, &end, 10);
		if (*l < '0' || *l > '9' || *end || v < 1 || v > API_PAGE_MAX) {
			api_error(c, 400, "invalid_request", "limit", "limit must be 1 to %d",
			    API_PAGE_MAX);
			return -1;
		}
		pg->limit = (size_t)v;
	}
	if (cur && (strlen(cur) > 512 ||
	    (pg->after = (char *)b64url_decode(cur, strlen(cur), 384, &n)) == NULL ||
	    memchr(pg->after, '\0', n))) {
		free(pg->after);
		pg->after = NULL;
		api_error(c, 400, "invalid_request", "cursor", "cursor is not one this API gave");
		return -1;
	}
	if (pg->after) {
		char *k = xstrndup(pg->after, n);
		free(pg->after);
		pg->after = k;
	}
	pg->items = json_array();
	pg->buf = xcalloc(pg->limit + 1, sizeof(struct page_item));
	return 0;
}

/* Keep the limit + 1 smallest keys after the cursor, in order, whatever order they come. */
void
api_page_add(struct api_page *pg, const char *key, json_t *item)
{
	struct page_item *b = pg->buf;
	size_t i;

	if (pg->after && strcmp(key, pg->after) <= 0) {
		json_decref(item);
		return;
	}
	if (pg->n == pg->limit + 1 && strcmp(key, b[pg->n - 1].key) >= 0) {
		json_decref(item);
		return;
	}
	if (pg->n == pg->limit + 1) {
		free(b[pg->n - 1].key);
		json_decref(b[pg->n - 1].item);
		pg->n--;
	}
	for (i = pg->n; i > 0 && strcmp(b[i - 1].key, key) > 0; i--)
		b[i] = b[i - 1];
	b[i].key = xstrdup(key);
	b[i].item = item;
	pg->n++;
}

void
api_page_free(struct api_page *pg)
{
	struct page_item *b = pg->buf;

	for (size_t i = 0; i < pg->n; i++) {
		free(b[i].key);
		json_decref(b[i].item);
	}
	json_decref(pg->items);
	free(pg->buf);
	free(pg->after);
	memset(pg, 0, sizeof(*pg));
}

void
api_page_reply(struct api_call *c, struct api_page *pg)
{
	struct page_item *b = pg->buf;
	size_t shown = pg->n > pg->limit ? pg->limit : pg->n;
	json_t *j = json_object();

	for (size_t i = 0; i < pg->n; i++) {
		if (i < shown)
			json_array_append(pg->items, b[i].item);
		json_decref(b[i].item);
	}
	json_object_set_new(j, "items", pg->items);
	if (pg->n > pg->limit) {
		char *cur = b64url_encode(b[shown - 1].key, strlen(b[shown - 1].key));
		json_object_set_new(j, "next_cursor", json_string(cur));
		free(cur);
	}
	for (size_t i = 0; i < pg->n; i++)
		free(b[i].key);
	free(pg->buf);
	free(pg->after);
	memset(pg, 0, sizeof(*pg));
	api_reply(c, 200, j);
}

/* ---- audit of writes, streams, times ---- */

void
api_audit_change(struct api_call *c, json_t *before, json_t *after)
{
	json_decref(c->before);
	json_decref(c->after);
	c->before = before;
	c->after = after;
}

void
api_deleted(struct api_call *c, json_t *before, int rc)
{
	if (rc == -1) {
		json_decref(before);
		api_admin_error(c);
		return;
	}
	api_audit_change(c, before, NULL);
	api_reply(c, 204, NULL);
}

void
api_updated(struct api_call *c, json_t *before, int rc, json_t *after)
{
	if (rc == -1 || after == NULL) {
		json_decref(before);
		json_decref(after);
		if (rc == -1)
			api_admin_error(c);
		return;
	}
	api_audit_change(c, before, json_deep_copy(after));
	api_set_etag(c, after);
	api_reply(c, 200, after);
}

void
api_stream(struct api_call *c, int status, const char *content_type, api_stream_fn fn,
    void *arg, void (*free_fn)(void *))
{
	c->answered = 1;
	http_status(c->req, status);
	http_body_stream(c->req, content_type, fn, arg, free_fn);
}

json_t *
api_time(uint64_t t)
{
	char s[21];

	if (t == 0)
		return json_null();
	clock_iso8601((int64_t)t, s);
	return json_string(s);
}
