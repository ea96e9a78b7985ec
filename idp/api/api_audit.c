/*
 * The admin API's audit trail: GET audit (the CLI's filters, oldest first or with
 * order=desc newest first, paged by sequence number), GET audit/export (JSON lines or CSV, streamed in batches so a long
 * trail is never held in memory) and GET audit/verify (the hash chain).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_audit.h"
#include "api.h"
#include "form.h"
#include "http.h"
#include "xmalloc.h"

#define BATCH 500		/* records read per transaction */
#define SEQ_KEY "%020llu"	/* page keys sort as the numbers do */

/* The filters of the query string into f; 0, or -1 after answering 400. */
static int
read_filter(struct api_call *c, struct audit_filter *f)
{
	static const char *const when[] = { "since", "until" };
	int64_t *out[] = { &f->since, &f->until };
	const char *v;

	memset(f, 0, sizeof(*f));
	f->event = form_get(c->query, "event");
	f->user = form_get(c->query, "user");
	f->app = form_get(c->query, "app");
	for (size_t i = 0; i < 2; i++) {
		if ((v = form_get(c->query, when[i])) == NULL || *v == '\0')
			continue;
		if (admin_audit_when(v, out[i]) == -1) {
			api_error(c, 400, "invalid_request", when[i], "%s takes a duration such as "
			    "30m, 8h or 7d, or a time such as 2026-11-01 or 2026-11-01T09:00:00Z",
			    when[i]);
			return -1;
		}
	}
	admin_audit_prepare(&c->adm, f);
	return 0;
}

/* ---- GET audit ---- */

/* The records of one page and the one after it (is there more?), before they are paged. */
struct found {
	json_t *items;
	size_t want;
	int desc;	/* newest first */
};

static void
page_rec(const struct audit_rec *r, const struct audit_fields *kv, void *arg)
{
	struct found *fd = arg;

	if (json_array_size(fd->items) < fd->want)
		json_array_append_new(fd->items, admin_audit_json(r, kv));
}

/*
 * A record's page key: keys must increase along the page, so newest first counts down
 * from UINT64_MAX.
 */
static void
page_key(const struct found *fd, uint64_t seq, char key[24])
{
	snprintf(key, 24, SEQ_KEY, (unsigned long long)(fd->desc ? UINT64_MAX - seq : seq));
}

/*
 * Where the page starts: the sequence number of the cursor's record, or 0 without a
 * cursor (oldest first: after 0; newest first: from the newest).  -1 when it is not one.
 */
static int
cursor_seq(const struct api_page *pg, const struct found *fd, uint64_t *seq_r)
{
	unsigned long long k;
	char *end;

	*seq_r = 0;
	if (pg->after == NULL)
		return 0;
	k = strtoull(pg->after, &end, 10);
	if (*end != '\0' || strlen(pg->after) != 20)
		return -1;
	*seq_r = fd->desc ? UINT64_MAX - k : k;
	return *seq_r == 0 ? -1 : 0;
}

/* Up to limit + 1 records after the cursor that pass f; -1 after admin_fail. */
static int
find_page(struct api_call *c, struct audit_filter *f, uint64_t from, struct found *fd)
{
	int n = 0;

	while (json_array_size(fd->items) < fd->want && (n = fd->desc ?
	    admin_audit_batch_before(&c->adm, f, from, BATCH, page_rec, fd, &from) :
	    admin_audit_batch(&c->adm, f, from, BATCH, page_rec, fd, &from)) > 0)
		;
	return n < 0 ? -1 : 0;
}

/* ?order=asc (the default: oldest first) or desc; 0, or -1 after answering 400. */
static int
read_order(struct api_call *c, struct found *fd)
{
	const char *v = form_get(c->query, "order");

	fd->desc = v && !strcmp(v, "desc");
	if (v == NULL || fd->desc || !strcmp(v, "asc"))
		return 0;
	api_error(c, 400, "invalid_request", "order", "order: asc or desc");
	return -1;
}

static void
audit_list(struct api_call *c)
{
	struct audit_filter f;
	struct api_page pg;
	struct found fd = { 0 };
	uint64_t from;
	json_t *item;
	char key[24];
	size_t i;

	if (read_order(c, &fd) == -1 || read_filter(c, &f) == -1)
		return;
	if (api_page_init(c, &pg) == -1)
		goto done;
	fd.items = json_array();
	fd.want = pg.limit + 1;
	if (cursor_seq(&pg, &fd, &from) == -1 || find_page(c, &f, from, &fd) == -1) {
		/* nothing was offered to the page: only what api_page_init made is freed */
		api_page_free(&pg);
		if (c->adm.status == ADMIN_OK)
			api_error(c, 400, "invalid_request", "cursor", "cursor: not one of this list");
		else
			api_admin_error(c);
		goto done;
	}
	json_array_foreach(fd.items, i, item) {
		page_key(&fd, (uint64_t)json_integer_value(json_object_get(item, "seq")), key);
		api_page_add(&pg, key, json_incref(item));
	}
	api_page_reply(c, &pg);
done:
	json_decref(fd.items);
	admin_audit_filter_free(&f);
}

/* ---- GET audit/export ---- */

static void
audit_export(struct api_call *c)
{
	const char *format = form_get(c->query, "format");
	struct audit_filter f;
	struct admin_audit_export *x;
	int csv;

	if (format && strcmp(format, "jsonl") && strcmp(format, "csv")) {
		api_error(c, 400, "invalid_request", "format", "format: jsonl or csv");
		return;
	}
	csv = format && !strcmp(format, "csv");
	if (read_filter(c, &f) == -1)
		return;
	x = admin_audit_export_new(&c->adm, &f, csv);	/* takes f's app_entity */
	http_add_header(c->req, "Content-Disposition", csv ?
	    "attachment; filename=\"audit.csv\"" : "attachment; filename=\"audit.jsonl\"");
	api_stream(c, 200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
	    admin_audit_export_read, x, admin_audit_export_free);
}

/* ---- GET audit/verify ---- */

static void
audit_verify(struct api_call *c)
{
	uint64_t count, bad;
	json_t *o;

	if (admin_audit_verify(&c->adm, &count, &bad) == 0)
		o = json_pack("{s:b, s:I}", "intact", 1, "records", (json_int_t)count);
	else
		o = json_pack("{s:b, s:I, s:s}", "intact", 0, "bad_seq", (json_int_t)bad,
		    "detail", c->adm.msg);
	api_reply(c, 200, o);
}

const struct api_route api_audit_routes[] = {
	{ "GET", "audit", APIKEY_SCOPE_READ, audit_list },
	{ "GET", "audit/export", APIKEY_SCOPE_READ, audit_export },
	{ "GET", "audit/verify", APIKEY_SCOPE_READ, audit_verify },
	{ NULL, NULL, 0, NULL }
};
