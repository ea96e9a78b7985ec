/*
 * The tenant's monthly report: the month's numbers from the audit trail and the store
 * (report.c), written as report.html with inline SVG charts and CSV files with the same
 * numbers (report_write.c), and the reports the server keeps under report_dir/T/YYYY-MM/
 * (written for the previous month once it has ended, the newest ADMIN_REPORT_KEEP kept).
 * Days and months are the tenant's time zone's.
 */
#ifndef SEKISHO_ADMIN_REPORT_H
#define SEKISHO_ADMIN_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "admin.h"

#define ADMIN_REPORT_DAYS_MAX 31
#define ADMIN_REPORT_KEEP 13		/* reports kept per tenant in report_dir */
#define ADMIN_REPORT_REASONS 32		/* distinct refusal reasons; the rest are "other" */

struct admin_report_day {
	char date[11];			/* local date "YYYY-MM-DD" */
	int64_t start;			/* its local midnight (UTC seconds) */
	uint64_t logins;		/* login.ok */
	uint64_t refusals;		/* admin_stats_refusal's events */
	uint64_t issued;		/* cert.issue */
	uint64_t revoked;		/* cert.revoke */
};

/* A counted name: a refusal (event, reason), an app (protocol, app), a key (key, NULL). */
struct admin_report_count {
	char *name;
	char *detail;			/* or NULL */
	uint64_t count;
};

struct admin_report {
	char month[8];			/* "YYYY-MM" */
	char next_month[8];		/* the month whose expiring certificates are counted */
	char *tenant;
	char *timezone;
	int64_t start, end;		/* the month's first and the next month's local midnight */
	int64_t made;			/* clock_now() when the numbers were read */
	size_t n_days;
	struct admin_report_day days[ADMIN_REPORT_DAYS_MAX];
	uint64_t logins, refusals, issued, revoked;	/* the month's totals */
	uint64_t active_users;		/* distinct users (any case) with a login.ok in it */
	/* the store as it stands when the report is made */
	uint64_t accounts;		/* users neither disabled nor operators (seats in use) */
	uint64_t operators;
	uint64_t licensed, seats, device_seats;	/* struct tenant's licence (licensed 0: none) */
	uint64_t cert_holders;		/* users holding a certificate neither revoked nor expired */
	uint64_t expiring;		/* such certificates ending in next_month */
	uint64_t quota;			/* APIKEY_PER_MONTH */
	uint64_t api_calls;
	struct admin_report_count *reasons;	/* refusals, most frequent first */
	size_t n_reasons;
	struct admin_report_count *apps;	/* SSO (saml.sso, oidc.authorize) per app */
	size_t n_apps;
	struct admin_report_count *keys;	/* api.call per key; every key of the store too */
	size_t n_keys;
};

/* 0 when s is a month "YYYY-MM" (year 2000..9999), else -1. */
int admin_report_month_valid(const char *s);
/* The month before the one holding t in zone, as "YYYY-MM", into out. */
void admin_report_prev_month(const char *zone, int64_t t, char out[8]);
/*
 * The numbers of month ("YYYY-MM") of a's tenant into r_r (clear it with
 * admin_report_clear): 0, or -1 after admin_fail (field "month" when it is not a month,
 * or one that has not started).
 */
int admin_report(struct admin *a, const char *month, struct admin_report *r_r);
void admin_report_clear(struct admin_report *r);

/*
 * Write r into the directory out (made if missing, mode 0750; files 0640): report.html
 * in lang ("ja" or "en") and days.csv, refusals.csv, apps.csv, apikeys.csv, summary.csv.
 * 0, or -1 after admin_fail.
 */
int admin_report_write(struct admin *a, const struct admin_report *r, const char *lang,
    const char *out);

/* A report kept in report_dir. */
struct admin_report_file {
	char *tenant;
	char month[8];
	char *path;			/* report_dir/T/YYYY-MM */
};
/*
 * The reports kept under dir for tenant (NULL: every tenant), by tenant then month, into
 * *list_r (free with admin_report_files_free): how many, or -1 after admin_fail.  A missing
 * dir holds none.
 */
int admin_report_files(struct admin *a, const char *dir, const char *tenant,
    struct admin_report_file **list_r);
void admin_report_files_free(struct admin_report_file *list, size_t n);
/* Remove every report of tenant under dir, and dir/tenant: how many, or -1 after admin_fail. */
int admin_report_remove_tenant(struct admin *a, const char *dir, const char *tenant);
/*
 * The server's monthly run for a's tenant: when the previous month (local) has no report
 * under dir/T/ yet and the tenant existed in it, write it (in lang) as dir/T/YYYY-MM/
 * (made complete in a temporary directory, then renamed: an existing one means written),
 * audit report.write, and remove all but the newest ADMIN_REPORT_KEEP.  1 written, 0
 * nothing to do, -1 after admin_fail.
 */
int admin_report_due(struct admin *a, const char *dir, const char *lang);

#endif
