/*
 * Queries of the audit trail shared by `sekisho audit` and the admin API: the filter, the
 * batched read (a trail of 13 months is never loaded whole), the forms a record is shown
 * in, and the check of the hash chain.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_audit.h"
#include "clock.h"
#include "xmalloc.h"

/* ---- the filter ---- */

int
admin_audit_when(const char *s, int64_t *t_r)
{
	int64_t d;
	char *day;
	int rc;

	if (clock_parse_duration(s, &d) == 0) {
		*t_r = clock_now() - d;
		return 0;
	}
	if (clock_parse_iso8601(s, t_r) == 0)
		return 0;
	if (strlen(s) != 10)
		return -1;
	day = xasprintf("%sT00:00:00Z", s);
	rc = clock_parse_iso8601(day, t_r);
	free(day);
	return rc;
}

/* The app's entity ID or client_id, so records naming it that way match too. */
void
admin_audit_prepare(struct admin *a, struct audit_filter *f)
{
	struct app app;

	f->app_entity = NULL;
	f->bad = 0;
	if (f->app == NULL)
		return;
	if (store_app_get(a->in->store, a->tenant, f->app, &app) == 1 && app.entity_id)
		f->app_entity = xstrdup(app.entity_id);
	store_app_clear(&app);
}

void
admin_audit_filter_free(struct audit_filter *f)
{
	free(f->app_entity);
	f->app_entity = NULL;
}

static int
event_matches(const char *pattern, const char *event)
{
	size_t n = strlen(pattern);

	if (n && pattern[n - 1] == '*')
		return !strncmp(event, pattern, n - 1);
	return !strcmp(event, pattern);
}

static int
eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static int
fields_match(const struct audit_filter *f, const struct audit_fields *kv)
{
	const char *user = audit_fields_get(kv, "user");

	/* user names are the same without regard to case */
	if (f->user && !(user && !strcasecmp(user, f->user)))
		return 0;
	if (f->app && !eq(audit_fields_get(kv, "app"), f->app) &&
	    !eq(audit_fields_get(kv, "sp"), f->app_entity) &&
	    !eq(audit_fields_get(kv, "client"), f->app_entity))
		return 0;
	return 1;
}

/* ---- the batched read ---- */

struct batch {
	struct audit_filter *f;
	admin_audit_fn fn;
	void *arg;
	uint64_t last;
};

static void
batch_rec(const struct audit_rec *r, void *arg)
{
	struct batch *b = arg;
	struct audit_filter *f = b->f;
	struct audit_fields kv = { 0 };

	b->last = r->seq;
	if ((f->since && (int64_t)r->time < f->since) ||
	    (f->until && (int64_t)r->time >= f->until) ||
	    (f->event && !event_matches(f->event, r->event)))
		return;
	if (audit_fields_parse(r->fields ? r->fields : "", &kv) == -1)
		f->bad++;
	if (fields_match(f, &kv))
		b->fn(r, &kv, b->arg);
	audit_fields_clear(&kv);
}

static int
batch_end(struct admin *a, const struct batch *b, int n, uint64_t *last_r)
{
	*last_r = b->last;
	if (n < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	return n;
}

int
admin_audit_batch(struct admin *a, struct audit_filter *f, uint64_t after, size_t max,
    admin_audit_fn fn, void *arg, uint64_t *last_r)
{
	struct batch b = { .f = f, .fn = fn, .arg = arg, .last = after };

	return batch_end(a, &b, store_audit_range(a->in->store, a->tenant, after, max,
	    batch_rec, &b), last_r);
}

int
admin_audit_batch_before(struct admin *a, struct audit_filter *f, uint64_t before,
    size_t max, admin_audit_fn fn, void *arg, uint64_t *last_r)
{
	struct batch b = { .f = f, .fn = fn, .arg = arg, .last = before };

	return batch_end(a, &b, store_audit_range_before(a->in->store, a->tenant, before, max,
	    batch_rec, &b), last_r);
}

/* ---- forms ---- */

void
admin_audit_tab(const struct audit_rec *r, struct buf *out)
{
	char t[21];

	clock_iso8601((int64_t)r->time, t);
	buf_printf(out, "%llu\t%s\t%s\t%s\n", (unsigned long long)r->seq, t, r->event,
	    r->fields ? r->fields : "");
}

static void
csv_cell(struct buf *out, const char *s, const char *sep)
{
	if (strcspn(s, ",\"\r\n") == strlen(s)) {
		buf_printf(out, "%s%s", s, sep);
		return;
	}
	buf_putc(out, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(out, '"');
		buf_putc(out, *s);
	}
	buf_printf(out, "\"%s", sep);
}

void
admin_audit_csv(const struct audit_rec *r, struct buf *out)
{
	char t[21];

	clock_iso8601((int64_t)r->time, t);
	buf_printf(out, "%llu,%s,", (unsigned long long)r->seq, t);
	csv_cell(out, r->event, ",");
	csv_cell(out, r->fields ? r->fields : "", "\r\n");
}

/* A JSON string of s, bytes that are not UTF-8 shown as '?'. */
static json_t *
json_text(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = xstrdup(s);
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *
json_head(const struct audit_rec *r)
{
	json_t *o = json_object();
	char t[21];

	clock_iso8601((int64_t)r->time, t);
	json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "event", json_text(r->event));
	return o;
}

json_t *
admin_audit_json_flat(const struct audit_rec *r, const struct audit_fields *kv)
{
	json_t *o = json_head(r);

	for (size_t i = 0; i < kv->n; i++)
		if (json_object_get(o, kv->keys[i]) == NULL)	/* never replace the above */
			json_object_set_new(o, kv->keys[i], json_text(kv->values[i]));
	if (kv->n == 0 && r->fields && *r->fields)
		json_object_set_new(o, "fields", json_text(r->fields));
	return o;
}

json_t *
admin_audit_json(const struct audit_rec *r, const struct audit_fields *kv)
{
	json_t *o = json_head(r), *fields = json_object();

	/* a repeated key keeps its last value, as audit_fields_get reads it */
	for (size_t i = 0; i < kv->n; i++)
		json_object_set_new(fields, kv->keys[i], json_text(kv->values[i]));
	json_object_set_new(o, "fields", fields);
	if (kv->n == 0 && r->fields && *r->fields)
		json_object_set_new(o, "raw", json_text(r->fields));
	return o;
}

/* ---- the chain ---- */

static void
count_rec(const struct audit_rec *r, const struct audit_fields *kv, void *arg)
{
	(*(uint64_t *)arg)++;
}

int
admin_audit_verify(struct admin *a, uint64_t *count_r, uint64_t *bad_seq_r)
{
	struct audit_filter all = { 0 };
	const char *err;
	uint64_t after = 0;
	int n;

	*count_r = *bad_seq_r = 0;
	if (store_audit_verify(a->in->store, a->tenant, bad_seq_r, &err) == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "audit trail of %s: %s (record %llu)",
		    a->tenant, err, (unsigned long long)*bad_seq_r);
	while ((n = admin_audit_batch(a, &all, after, 1000, count_rec, count_r, &after)) > 0)
		;
	return n < 0 ? -1 : 0;
}
