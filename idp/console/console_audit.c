/*
 * The audit trail in the console: the filters (event, user, app, since, until), the
 * records newest first in pages of 50 read in batches (admin_audit_batch_before), export
 * links (JSON lines, CSV) streamed by admin_audit_export, and the hash chain's check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_audit.h"
#include "buf.h"
#include "clock.h"
#include "console_int.h"
#include "encode.h"
#include "http.h"
#include "xmalloc.h"

#define PAGE_SIZE 50
#define BATCH 500		/* records read per transaction */
#define FILTER_MAX 256		/* bytes of one filter value */

static const char *const filter_names[] = { "event", "user", "app", "since", "until" };
#define NFILTERS (sizeof(filter_names) / sizeof(filter_names[0]))

/* The query's filters into f (prepared): 0, or -1 after admin_fail naming the filter. */
static int
read_filter(struct console_req *c, struct audit_filter *f)
{
	const char *vals[NFILTERS];
	int64_t *when[] = { &f->since, &f->until };

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < NFILTERS; i++) {
		vals[i] = console_param(c, filter_names[i]);
		if (vals[i] && strlen(vals[i]) > FILTER_MAX)
			return admin_fail(&c->adm, ADMIN_INVALID, filter_names[i], "%s: at most %d "
			    "characters", filter_names[i], FILTER_MAX);
		if (vals[i] && !*vals[i])
			vals[i] = NULL;
	}
	for (size_t i = 3; i < NFILTERS; i++)
		if (vals[i] && admin_audit_when(vals[i], when[i - 3]) < 0)
			return admin_fail(&c->adm, ADMIN_INVALID, filter_names[i], "%s takes a "
			    "duration such as 30m, 8h or 7d, or a time such as 2026-11-01 or "
			    "2026-11-01T09:00:00Z", filter_names[i]);
	f->event = vals[0];
	f->user = vals[1];
	f->app = vals[2];
	admin_audit_prepare(&c->adm, f);
	return 0;
}

/* The filters as a query string ("event=a&user=b", encoded; new). */
static char *
filter_query(struct console_req *c)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < NFILTERS; i++) {
		const char *v = console_param(c, filter_names[i]);
		if (v && *v && strlen(v) <= FILTER_MAX) {
			char *enc = url_encode(v);
			buf_printf(&b, "%s%s=%s", b.len ? "&" : "", filter_names[i], enc);
			free(enc);
		}
	}
	return b.len ? buf_steal(&b, NULL) : (buf_free(&b), xstrdup(""));
}

struct found {
	struct tmpl_vars *v;
	const char *zone;
	size_t n;
	uint64_t last;		/* the last shown record's sequence number */
	int more;
};

static void
page_rec(const struct audit_rec *r, const struct audit_fields *kv, void *arg)
{
	struct found *fd = arg;
	struct tmpl_vars *item;
	char seq[24], when[TZ_TIME_LEN];

	(void)kv;
	if (fd->n == PAGE_SIZE) {
		fd->more = 1;
		return;
	}
	item = tmpl_add_item(fd->v, "records");
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)r->seq);
	tz_format(fd->zone, (int64_t)r->time, when);
	tmpl_set(item, "seq", seq);
	tmpl_set(item, "time", when);
	tmpl_set(item, "event", r->event);
	tmpl_set(item, "fields", r->fields);
	fd->last = r->seq;
	fd->n++;
}

/* Records below before (0: from the newest) into v: 0, or -1 after admin_fail. */
static int
find_page(struct console_req *c, struct audit_filter *f, uint64_t before, struct found *fd)
{
	int n;

	while (!fd->more && (n = admin_audit_batch_before(&c->adm, f, before, BATCH, page_rec,
	    fd, &before)) > 0)
		;
	return fd->more || n >= 0 ? 0 : -1;
}

/* ?before=N: the page's start, 0 when absent or not a number. */
static uint64_t
before_param(struct console_req *c)
{
	const char *p = console_param(c, "before");
	char *end;
	unsigned long long n = p && *p ? strtoull(p, &end, 10) : 0;

	return p && *p && !*end ? (uint64_t)n : 0;
}

static void
links(struct console_req *c, struct tmpl_vars *v, const struct found *fd)
{
	char *q = filter_query(c), *url, *base = console_url(c, "audit");

	if (fd->more) {
		url = xasprintf("%s?%s%sbefore=%llu", base, q, *q ? "&" : "",
		    (unsigned long long)fd->last);
		tmpl_set(v, "next_url", url);
		free(url);
	}
	url = xasprintf("%s/export?%s%sformat=jsonl", base, q, *q ? "&" : "");
	tmpl_set(v, "export_jsonl", url);
	free(url);
	url = xasprintf("%s/export?%s%sformat=csv", base, q, *q ? "&" : "");
	tmpl_set(v, "export_csv", url);
	free(url);
	free(base);
	free(q);
}

/* The page with v's values (a verify result) at status. */
static void
audit_page(struct console_req *c, struct tmpl_vars *v)
{
	struct found fd = { .v = v, .zone = c->zone };
	struct audit_filter f;
	int status = 200;

	for (size_t i = 0; i < NFILTERS; i++) {
		char key[16];
		snprintf(key, sizeof(key), "f_%s", filter_names[i]);
		tmpl_set(v, key, console_param(c, filter_names[i]));
	}
	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_audit"));
	if (read_filter(c, &f) < 0) {
		status = 400;
		tmpl_set(v, "error", c->adm.msg);
	} else if (find_page(c, &f, before_param(c), &fd) < 0) {
		status = 503;
		tmpl_set(v, "error", c->adm.msg);
	} else {
		links(c, v, &fd);
		tmpl_set(v, "listed", "1");
	}
	admin_audit_filter_free(&f);
	console_render(c, status, "console_audit.html", v);
}

void
console_audit_get(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();

	audit_page(c, v);
	tmpl_vars_free(v);
}

void
console_audit_verify(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();
	uint64_t count, bad;
	char n[24];

	if (admin_audit_verify(&c->adm, &count, &bad) == 0) {
		snprintf(n, sizeof(n), "%llu", (unsigned long long)count);
		tmpl_set(v, "verify_ok", n);
	} else {
		tmpl_set(v, "verify_bad", c->adm.msg);
	}
	admin_ok(&c->adm);
	audit_page(c, v);
	tmpl_vars_free(v);
}

void
console_audit_export(struct console_req *c)
{
	const char *format = console_param(c, "format");
	int csv = format && !strcmp(format, "csv");
	struct audit_filter f;

	if (format && !csv && strcmp(format, "jsonl")) {
		admin_fail(&c->adm, ADMIN_INVALID, "format", "format: jsonl or csv");
		console_failed(c, "audit");
		return;
	}
	if (read_filter(c, &f) < 0) {
		admin_audit_filter_free(&f);
		console_failed(c, "audit");
		return;
	}
	http_add_header(c->req, "Cache-Control", "no-store");
	http_add_header(c->req, "Content-Disposition", csv ?
	    "attachment; filename=\"audit.csv\"" : "attachment; filename=\"audit.jsonl\"");
	http_status(c->req, 200);
	/* the export takes f's app_entity */
	http_body_stream(c->req, csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
	    admin_audit_export_read, admin_audit_export_new(&c->adm, &f, csv),
	    admin_audit_export_free);
}
