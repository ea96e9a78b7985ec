/*
 * The reports the server keeps: report_dir/T/YYYY-MM/, one per tenant and month, written
 * for the previous month once it has ended in the tenant's time zone.  The directory is
 * the memory of what was written (a month is written into a temporary directory and
 * renamed when complete), so a restart neither repeats nor skips a month.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin_report.h"
#include "admin_stats.h"
#include "clock.h"
#include "log.h"
#include "rules.h"
#include "store.h"
#include "tz.h"
#include "xmalloc.h"

static int
is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- listing ---- */

struct files {
	struct admin_report_file *list;
	size_t n, cap;
};

static void
add_months(struct files *fs, const char *dir, const char *tenant)
{
	char *tdir = xasprintf("%s/%s", dir, tenant);
	DIR *d = opendir(tdir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char *path;
		if (admin_report_month_valid(e->d_name) == -1)
			continue;
		path = xasprintf("%s/%s", tdir, e->d_name);
		if (!is_dir(path)) {
			free(path);
			continue;
		}
		if (fs->n == fs->cap) {
			fs->cap = fs->cap ? fs->cap * 2 : 16;
			fs->list = xreallocarray(fs->list, fs->cap, sizeof(*fs->list));
		}
		fs->list[fs->n].tenant = xstrdup(tenant);
		memcpy(fs->list[fs->n].month, e->d_name, sizeof(fs->list[fs->n].month));	/* 7 + NUL */
		fs->list[fs->n++].path = path;
	}
	if (d)
		closedir(d);
	free(tdir);
}

static int
file_cmp(const void *x, const void *y)
{
	const struct admin_report_file *a = x, *b = y;
	int c = strcmp(a->tenant, b->tenant);

	return c ? c : strcmp(a->month, b->month);
}

int
admin_report_files(struct admin *a, const char *dir, const char *tenant,
    struct admin_report_file **list_r)
{
	struct files fs = { 0 };
	DIR *d;
	struct dirent *e;

	*list_r = NULL;
	if (tenant) {
		add_months(&fs, dir, tenant);
	} else if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (store_valid_name(e->d_name, 63))
				add_months(&fs, dir, e->d_name);
		closedir(d);
	} else if (errno != ENOENT) {
		return admin_fail(a, ADMIN_FAILED, NULL, "%s: %s", dir, strerror(errno));
	}
	if (fs.n)
		qsort(fs.list, fs.n, sizeof(*fs.list), file_cmp);
	*list_r = fs.list;
	admin_ok(a);
	return (int)fs.n;
}

void
admin_report_files_free(struct admin_report_file *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].tenant);
		free(list[i].path);
	}
	free(list);
}

/* ---- the monthly run ---- */

/* A report's directory: its files (written by us, no subdirectories), then itself. */
static void
remove_report(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		char *f;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		f = xasprintf("%s/%s", path, e->d_name);
		if (unlink(f) == -1)
			log_warn("%s: %s", f, strerror(errno));
		free(f);
	}
	if (d)
		closedir(d);
	if (rmdir(path) == -1 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
}

int
admin_report_remove_tenant(struct admin *a, const char *dir, const char *tenant)
{
	struct admin_report_file *list;
	int n = admin_report_files(a, dir, tenant, &list);
	char *top;

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++)
		remove_report(list[i].path);
	admin_report_files_free(list, (size_t)n);
	top = xasprintf("%s/%s", dir, tenant);
	if (rmdir(top) == -1 && errno != ENOENT)
		log_warn("%s: %s", top, strerror(errno));
	free(top);
	return n;
}

/* Remove all but the newest keep reports of a's tenant. */
static void
keep_newest(struct admin *a, const char *dir, int keep)
{
	struct admin_report_file *list;
	int n = admin_report_files(a, dir, a->tenant, &list);

	for (int i = 0; i < n - keep; i++) {
		remove_report(list[i].path);
		log_info("tenant %s: report of %s removed (%d are kept)", a->tenant, list[i].month,
		    ADMIN_REPORT_KEEP);
	}
	admin_report_files_free(list, n > 0 ? (size_t)n : 0);
}

/* The UTC instant the current local month started in zone at now. */
static int64_t
month_start(const char *zone, int64_t now)
{
	struct tz_local l;
	time_t local = (time_t)(now + (tz_local(zone, now, &l) == 0 ? l.offset : 0));
	struct tm tm;

	gmtime_r(&local, &tm);
	tm = (struct tm){ .tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = 1 };
	return admin_stats_local_to_utc(zone, (int64_t)timegm(&tm));
}

static int
make_dir(struct admin *a, const char *path)
{
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return admin_fail(a, ADMIN_FAILED, NULL, "%s: %s", path, strerror(errno));
	return 0;
}

/*
 * Write month's report into dir/T/.YYYY-MM.tmp, make room (keep the newest
 * ADMIN_REPORT_KEEP - 1), then rename it to dir/T/YYYY-MM: once the month's directory is
 * there, its files are complete and the old reports gone.
 */
static int
write_month(struct admin *a, const char *dir, const char *month, const char *lang,
    const char *final)
{
	char *tdir = xasprintf("%s/%s", dir, a->tenant);
	char *tmp = xasprintf("%s/.%s.tmp", tdir, month);
	struct admin_report r;
	int rc = -1;

	if (make_dir(a, dir) == -1 || make_dir(a, tdir) == -1)
		goto done;
	remove_report(tmp);	/* left by a run that stopped half-way */
	if (admin_report(a, month, &r) == -1)
		goto done;
	rc = admin_report_write(a, &r, lang, tmp);
	admin_report_clear(&r);
	if (rc == 0)
		keep_newest(a, dir, ADMIN_REPORT_KEEP - 1);
	if (rc == 0 && rename(tmp, final) == -1)
		rc = admin_fail(a, ADMIN_FAILED, NULL, "%s: %s", final, strerror(errno));
done:
	free(tdir);
	free(tmp);
	return rc;
}

int
admin_report_due(struct admin *a, const char *dir, const char *lang)
{
	struct tenant t;
	char month[8], *final = NULL;
	int64_t now = clock_now();
	int rc;

	if ((rc = store_tenant_get(a->in->store, a->tenant, &t)) != 1)
		return rc == 0 ? 0 : admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	admin_report_prev_month(t.timezone ? t.timezone : RULE_DEFAULT_TIMEZONE, now, month);
	rc = 0;
	/* a tenant made this month had no previous month */
	if ((int64_t)t.created >= month_start(t.timezone ? t.timezone : RULE_DEFAULT_TIMEZONE,
	    now))
		goto done;
	final = xasprintf("%s/%s/%s", dir, a->tenant, month);
	if (is_dir(final))
		goto done;
	if ((rc = write_month(a, dir, month, lang, final)) == -1)
		goto done;
	admin_audit_event(a, "report.write", "month", month, NULL);
	log_info("tenant %s: report of %s written to %s", a->tenant, month, final);
	rc = 1;
done:
	free(final);
	store_tenant_clear(&t);
	return rc;
}
