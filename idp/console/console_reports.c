/*
 * The tenant's monthly reports in the console, for those who may read the audit trail:
 * the months kept in report_dir/T/ (admin_report_files, written by the server) and each
 * report's files as downloads (report.html has inline styles, which the console's CSP
 * forbids on its own pages, so it is saved and opened, not shown in the console).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_report.h"
#include "console_int.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define FILE_MAX (8 * 1024 * 1024)	/* a report's file is far smaller */

static const struct {
	const char *name;	/* also the link's variable: report.html -> report_html_url */
	const char *type;
} files[] = {
	{ "report.html", "text/html; charset=utf-8" },
	{ "summary.csv", "text/csv; charset=utf-8" },
	{ "days.csv", "text/csv; charset=utf-8" },
	{ "refusals.csv", "text/csv; charset=utf-8" },
	{ "apps.csv", "text/csv; charset=utf-8" },
	{ "apikeys.csv", "text/csv; charset=utf-8" },
};
#define NFILES (sizeof(files) / sizeof(files[0]))

void
console_reports_get(struct console_req *c)
{
	struct tmpl_vars *v = tmpl_vars_new();
	struct admin_report_file *list;
	int n = admin_report_files(&c->adm, c->idp->in.settings.report_dir, c->t->id, &list);

	if (n < 0) {
		tmpl_vars_free(v);
		console_failed(c, "");
		return;
	}
	for (int i = n - 1; i >= 0; i--) {	/* newest first */
		struct tmpl_vars *item = tmpl_add_item(v, "reports");
		tmpl_set(item, "month", list[i].month);
		for (size_t f = 0; f < NFILES; f++) {
			char *page = xasprintf("reports/file?month=%s&name=%s", list[i].month,
			    files[f].name);
			char *url = console_url(c, page), *var = xasprintf("%.*s_url",
			    (int)strcspn(files[f].name, "."), files[f].name);
			tmpl_set(item, var, url);
			free(page);
			free(url);
			free(var);
		}
	}
	admin_report_files_free(list, (size_t)n);
	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_reports"));
	console_render(c, 200, "console_reports.html", v);
	tmpl_vars_free(v);
}

/* The whole file at path (at most FILE_MAX bytes, not a symbolic link), or NULL. */
static char *
read_file(const char *path, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char *data = NULL;
	size_t off = 0;
	ssize_t n = 1;

	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX)
		goto done;
	data = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size && (n = read(fd, data + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	*len_r = off;
done:
	if (fd != -1)
		close(fd);
	return data;
}

void
console_reports_file(struct console_req *c)
{
	const char *month = console_param(c, "month"), *name = console_param(c, "name");
	char *path, *data, *disposition;
	size_t f, len = 0;

	for (f = 0; name && f < NFILES && strcmp(name, files[f].name); f++)
		;
	if (month == NULL || admin_report_month_valid(month) == -1 || name == NULL ||
	    f == NFILES) {
		console_error(c, 404, "error_not_found", "reports");
		return;
	}
	path = xasprintf("%s/%s/%s/%s", c->idp->in.settings.report_dir, c->t->id, month, name);
	data = read_file(path, &len);
	if (data == NULL) {
		if (errno != ENOENT)
			log_warn("%s: %s", path, strerror(errno));
		free(path);
		console_error(c, 404, "error_not_found", "reports");
		return;
	}
	free(path);
	disposition = xasprintf("attachment; filename=\"%s-%s-%s\"", c->t->id, month, name);
	http_add_header(c->req, "Content-Disposition", disposition);
	http_add_header(c->req, "Cache-Control", "no-store");
	http_status(c->req, 200);
	http_body_take(c->req, files[f].type, data, len);
	free(disposition);
}
