/*
 * sekisho report: a tenant's monthly report written into a directory (report.html and
 * CSV files, admin_report.h), and the list of the reports the server keeps in report_dir.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin_report.h"
#include "cli.h"

static int
list(struct cli *c)
{
	struct admin_report_file *files;
	int n = admin_report_files(&c->adm, c->in.settings.report_dir, NULL, &files);

	if (n < 0)
		return fail("%s", c->adm.msg);
	for (int i = 0; i < n; i++)
		printf("%s\t%s\t%s\n", files[i].tenant, files[i].month, files[i].path);
	admin_report_files_free(files, (size_t)n);
	return 0;
}

int
cmd_report(struct cli *c)
{
	const char *month = opt(c, "--month"), *out = opt(c, "--out");
	const char *lang = opt(c, "--lang") ? opt(c, "--lang") : "ja";
	struct admin_report r;
	int rc;

	if (flag(c, "--list"))
		return month || out ? usage_fail(c, "--list takes neither --month nor --out") :
		    list(c);
	if (month == NULL || out == NULL)
		return usage_fail(c, "report needs --month YYYY-MM and --out DIR (or --list)");
	if (!tenant_exists(c))
		return EXIT_FAIL;
	if (admin_report(&c->adm, month, &r) == -1)
		return c->adm.status == ADMIN_INVALID ? usage_fail(c, "%s", c->adm.msg) :
		    fail("%s", c->adm.msg);
	rc = admin_report_write(&c->adm, &r, lang, out);
	admin_report_clear(&r);
	if (rc == -1)
		return fail("%s", c->adm.msg);
	printf("report of %s for %s written to %s\n", c->tenant, month, out);
	return 0;
}
