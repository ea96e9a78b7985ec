/*
 * The monthly report as files: report.html from the built-in template report.html (its
 * styles inline, charts as inline SVG from svgchart.h, no script and nothing fetched, so
 * it opens and prints anywhere) and CSV files with the same numbers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_report.h"
#include "buf.h"
#include "embedded.h"
#include "svgchart.h"
#include "tmpl.h"
#include "tz.h"
#include "xmalloc.h"

#define LIST_BARS 16		/* bars of a chart of names; the table has them all */

static const struct embedded_file *
embedded(const char *name)
{
	for (const struct embedded_file *f = embedded_files; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

/* ---- files ---- */

static int
write_file(struct admin *a, const char *dir, const char *name, const struct buf *b)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	size_t off = 0;
	ssize_t n = 0;

	while (fd != -1 && off < b->len && (n = write(fd, b->data + off, b->len - off)) > 0)
		off += (size_t)n;
	if (fd == -1 || off < b->len || close(fd) == -1) {
		admin_fail(a, ADMIN_FAILED, NULL, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/*
 * One CSV field (RFC 4180).  A spreadsheet runs a cell starting with = + - @ as a
 * formula, so such a name (an app, a key, a reason come from admins) gets a leading '
 * (a lone "-", the placeholder of no name, is no formula).
 */
static void
csv_field(struct buf *b, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		buf_putc(b, '"');
	if (*s && s[1] && strchr("=+-@\t\r", *s))
		buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	if (quote)
		buf_putc(b, '"');
	buf_puts(b, last ? "\r\n" : ",");
}

static void
csv_counts(struct buf *b, const char *header, const struct admin_report_count *c, size_t n,
    int detail_first)
{
	buf_puts(b, header);
	for (size_t i = 0; i < n; i++) {
		const char *detail = c[i].detail ? c[i].detail : "";
		csv_field(b, detail_first ? detail : c[i].name, 0);
		csv_field(b, detail_first ? c[i].name : detail, 0);
		buf_printf(b, "%" PRIu64 "\r\n", c[i].count);
	}
}

static void
csv_summary(struct buf *b, const struct admin_report *r)
{
	buf_puts(b, "item,value\r\n");
	buf_puts(b, "tenant,");
	csv_field(b, r->tenant, 1);
	buf_printf(b, "month,%s\r\ntimezone,%s\r\n", r->month, r->timezone);
	buf_printf(b, "logins,%" PRIu64 "\r\nrefusals,%" PRIu64 "\r\n", r->logins, r->refusals);
	buf_printf(b, "active_users,%" PRIu64 "\r\nseats_in_use,%" PRIu64 "\r\n",
	    r->active_users, r->accounts);
	buf_printf(b, "operators,%" PRIu64 "\r\n", r->operators);
	if (r->licensed)
		buf_printf(b, "seats,%" PRIu64 "\r\ndevice_seats,%" PRIu64 "\r\n", r->seats,
		    r->device_seats);
	else
		buf_puts(b, "seats,unlicensed\r\ndevice_seats,unlicensed\r\n");
	buf_printf(b, "certificate_holders,%" PRIu64 "\r\n", r->cert_holders);
	buf_printf(b, "certificates_issued,%" PRIu64 "\r\ncertificates_revoked,%" PRIu64 "\r\n",
	    r->issued, r->revoked);
	buf_printf(b, "certificates_expiring_%s,%" PRIu64 "\r\n", r->next_month, r->expiring);
	buf_printf(b, "api_calls,%" PRIu64 "\r\napi_quota_per_key,%" PRIu64 "\r\n", r->api_calls,
	    r->quota);
}

static int
write_csv(struct admin *a, const struct admin_report *r, const char *out)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	buf_puts(&b, "date,logins,refusals,certificates_issued,certificates_revoked\r\n");
	for (size_t i = 0; i < r->n_days; i++)
		buf_printf(&b, "%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\r\n",
		    r->days[i].date, r->days[i].logins, r->days[i].refusals, r->days[i].issued,
		    r->days[i].revoked);
	rc = write_file(a, out, "days.csv", &b);
	buf_free(&b);
	csv_counts(&b, "event,reason,count\r\n", r->reasons, r->n_reasons, 0);
	rc = rc ? rc : write_file(a, out, "refusals.csv", &b);
	buf_free(&b);
	csv_counts(&b, "protocol,app,sso\r\n", r->apps, r->n_apps, 1);
	rc = rc ? rc : write_file(a, out, "apps.csv", &b);
	buf_free(&b);
	buf_puts(&b, "key,calls,quota,percent\r\n");
	for (size_t i = 0; i < r->n_keys; i++) {
		csv_field(&b, r->keys[i].name, 0);
		buf_printf(&b, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\r\n", r->keys[i].count, r->quota,
		    r->keys[i].count * 100 / r->quota);
	}
	rc = rc ? rc : write_file(a, out, "apikeys.csv", &b);
	buf_free(&b);
	csv_summary(&b, r);
	rc = rc ? rc : write_file(a, out, "summary.csv", &b);
	buf_free(&b);
	return rc;
}

/* ---- report.html ---- */

static void
set_u64(struct tmpl_vars *v, const char *name, uint64_t n)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, n);
	tmpl_set(v, name, s);
}

struct html {
	struct tmpl_vars *v;
	struct tmpl_msgs *msgs;
};

static const char *
msg(const struct html *h, const char *key)
{
	const char *m = tmpl_msg(h->msgs, key);

	return m ? m : key;
}

static void
chart(struct html *h, const char *name, struct svgchart *c, uint64_t total)
{
	char *desc = xasprintf("%s: %" PRIu64, c->title, total), *svg;

	c->desc = desc;
	if ((svg = svgchart_bars(c)) != NULL)
		tmpl_set_markup(h->v, name, svg);
	free(svg);
	free(desc);
}

static void
days(struct html *h, const struct admin_report *r)
{
	uint64_t ok[ADMIN_REPORT_DAYS_MAX], no[ADMIN_REPORT_DAYS_MAX];
	uint64_t is[ADMIN_REPORT_DAYS_MAX], rv[ADMIN_REPORT_DAYS_MAX];
	const char *labels[ADMIN_REPORT_DAYS_MAX];
	struct svgchart_series s1[2] = { { msg(h, "report_logins"), ok },
		{ msg(h, "report_refusals"), no } };
	struct svgchart_series s2[2] = { { msg(h, "report_issued"), is },
		{ msg(h, "report_revoked"), rv } };
	struct svgchart c1 = { "report-days", msg(h, "report_days_title"), NULL, r->n_days,
		labels, 2, 2, s1 };
	struct svgchart c2 = { "report-certs", msg(h, "report_certs_title"), NULL, r->n_days,
		labels, 2, 2, s2 };

	for (size_t i = 0; i < r->n_days; i++) {
		struct tmpl_vars *it = tmpl_add_item(h->v, "day_rows");
		ok[i] = r->days[i].logins;
		no[i] = r->days[i].refusals;
		is[i] = r->days[i].issued;
		rv[i] = r->days[i].revoked;
		labels[i] = r->days[i].date + 8;	/* DD */
		tmpl_set(it, "date", r->days[i].date);
		set_u64(it, "day_logins", ok[i]);
		set_u64(it, "day_refusals", no[i]);
	}
	chart(h, "days_chart", &c1, r->logins + r->refusals);
	chart(h, "certs_chart", &c2, r->issued + r->revoked);
}

/* A table of names (list) and a chart of the first LIST_BARS of them. */
static void
names(struct html *h, const char *list, const char *id, const char *title,
    const struct admin_report_count *c, size_t n, uint64_t quota)
{
	size_t bars = n < LIST_BARS ? n : LIST_BARS;
	uint64_t *values = xcalloc(bars + 1, sizeof(*values)), total = 0;
	const char **labels = xcalloc(bars + 1, sizeof(*labels));
	struct svgchart_series s = { msg(h, title), values };
	struct svgchart ch = { id, msg(h, title), NULL, bars, labels, 1, 1, &s };
	char *key = xasprintf("no_%s", list), *chart_name = xasprintf("%s_chart", list);

	for (size_t i = 0; i < n; i++) {
		struct tmpl_vars *it = tmpl_add_item(h->v, list);
		tmpl_set(it, "name", c[i].name);
		tmpl_set(it, "detail", c[i].detail ? c[i].detail : "-");
		set_u64(it, "count", c[i].count);
		set_u64(it, "quota", quota);
		set_u64(it, "percent", quota ? c[i].count * 100 / quota : 0);
		if (i < bars) {
			values[i] = c[i].count;
			labels[i] = c[i].name;
		}
		total += c[i].count;
	}
	tmpl_set(h->v, key, n ? NULL : "1");
	if (n)
		chart(h, chart_name, &ch, total);
	free(key);
	free(chart_name);
	free(values);
	free(labels);
}

/* Users who signed in, seats in use and, with a licence, the seats. */
static void
users(struct html *h, const struct admin_report *r)
{
	uint64_t values[3] = { r->active_users, r->accounts, r->seats };
	const char *labels[3] = { msg(h, "report_active_users"), msg(h, "report_seats_in_use"),
		msg(h, "report_seats") };
	struct svgchart_series s = { msg(h, "report_users_bar"), values };
	struct svgchart ch = { "report-users", msg(h, "report_users_title"), NULL,
		r->licensed ? 3 : 2, labels, 1, 1, &s };

	chart(h, "users_chart", &ch, r->accounts);
}

static void
numbers(struct html *h, const struct admin_report *r, const char *lang)
{
	char made[TZ_TIME_LEN];

	tz_format(r->timezone, r->made, made);
	tmpl_set(h->v, "lang", lang);
	tmpl_set(h->v, "tenant", r->tenant);
	tmpl_set(h->v, "month", r->month);
	tmpl_set(h->v, "next_month", r->next_month);
	tmpl_set(h->v, "timezone", r->timezone);
	tmpl_set(h->v, "made", made);
	tmpl_set(h->v, "licensed", r->licensed ? "1" : NULL);
	set_u64(h->v, "logins", r->logins);
	set_u64(h->v, "refusals", r->refusals);
	set_u64(h->v, "active_users", r->active_users);
	set_u64(h->v, "accounts", r->accounts);
	set_u64(h->v, "operators", r->operators);
	set_u64(h->v, "seats", r->seats);
	set_u64(h->v, "device_seats", r->device_seats);
	set_u64(h->v, "cert_holders", r->cert_holders);
	set_u64(h->v, "issued", r->issued);
	set_u64(h->v, "revoked", r->revoked);
	set_u64(h->v, "expiring", r->expiring);
	set_u64(h->v, "api_calls", r->api_calls);
}

static int
write_html(struct admin *a, const struct admin_report *r, const char *lang, const char *out)
{
	const struct embedded_file *t = embedded("report.html");
	const struct embedded_file *m = embedded(!strcmp(lang, "ja") ? "messages.ja" :
	    "messages.en");
	struct html h = { tmpl_vars_new(), NULL };
	const char *errstr = "template missing";
	struct tmpl_env env = { NULL, NULL, NULL };
	struct buf b;
	int rc = -1;

	buf_init(&b, 0);
	if (t == NULL || m == NULL || (h.msgs = tmpl_msgs_parse(m->data, m->len, &errstr)) == NULL)
		goto done;
	env.msgs = h.msgs;
	numbers(&h, r, lang);
	days(&h, r);
	names(&h, "reasons", "report-reasons", "report_reasons_title", r->reasons,
	    r->n_reasons, 0);
	names(&h, "apps", "report-apps", "report_apps_title", r->apps, r->n_apps, 0);
	names(&h, "keys", "report-keys", "report_keys_title", r->keys, r->n_keys, r->quota);
	users(&h, r);
	if (tmpl_render(t->data, t->len, h.v, &env, &b, &errstr) == 0)
		rc = write_file(a, out, "report.html", &b);
done:
	if (rc == -1 && a->status == ADMIN_OK)
		admin_fail(a, ADMIN_FAILED, NULL, "report.html: %s", errstr);
	buf_free(&b);
	tmpl_msgs_free(h.msgs);
	tmpl_vars_free(h.v);
	return rc;
}

int
admin_report_write(struct admin *a, const struct admin_report *r, const char *lang,
    const char *out)
{
	if (strcmp(lang, "ja") && strcmp(lang, "en"))
		return admin_fail(a, ADMIN_INVALID, "lang", "--lang is ja or en, not %s", lang);
	if (mkdir(out, 0750) == -1 && errno != EEXIST)
		return admin_fail(a, ADMIN_FAILED, NULL, "%s: %s", out, strerror(errno));
	admin_ok(a);
	if (write_csv(a, r, out) == -1 || write_html(a, r, lang, out) == -1)
		return -1;
	return 0;
}
