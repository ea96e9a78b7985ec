/*
 * sekisho tenant export, import and erase: a tenant leaving this Sekisho (admin/
 * admin_tenantio.h has the rules; docs/sekisho-export.5 the file format).
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "admin_tenantio.h"
#include "cli.h"

int
cmd_tenant_erase(struct cli *c)
{
	const char *id = arg(c, 0);
	uint64_t n;

	c->adm.tenant = id;
	if (admin_tenant_erase(&c->adm, id, opt(c, "--confirm"), &n) == -1)
		return fail("%s", c->adm.msg);
	printf("tenant %s erased (%" PRIu64 " records), recorded in the operator's audit trail\n",
	    id, n);
	return 0;
}

/* The document into a new file only its owner reads (it holds people's data): 0 or -1. */
static int
write_doc(json_t *doc, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	FILE *fp;
	int rc;

	if (fd == -1 || (fp = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	rc = json_dumpf(doc, fp, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	if (fputc('\n', fp) == EOF)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

int
cmd_tenant_export(struct cli *c)
{
	const char *id = arg(c, 0), *out = opt(c, "--out");
	json_t *doc = admin_tenant_export(&c->adm, id);
	int rc;

	if (doc == NULL)
		return fail("%s", c->adm.msg);
	rc = write_doc(doc, out);
	json_decref(doc);
	if (rc != 0)
		return fail("tenant %s: cannot write %s (it must not exist)", id, out);
	printf("tenant %s exported to %s (no passwords, factor seeds, keys or client secrets)\n",
	    id, out);
	return 0;
}

static void
print_client(const char *app, const char *client_id, const char *secret, void *arg)
{
	(void)arg;
	printf("app %s client_id=%s", app, client_id);
	if (secret)
		printf(" client_secret=%s", secret);
	putchar('\n');
}

int
cmd_tenant_import(struct cli *c)
{
	const char *path = arg(c, 0), *as = opt(c, "--as");
	json_error_t e;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	int rc;

	if (doc == NULL)
		return fail("%s:%d: %s", path, e.line, e.text);
	rc = admin_tenant_import(&c->adm, doc, as, print_client, NULL);
	if (rc == -1)
		fail("%s: %s (nothing imported)", path, c->adm.msg);
	else
		printf("tenant %s imported from %s with new keys and a new device CA; every user "
		    "sets a password through a reset link (user reset-password NAME "
		    "--print-link)\n", c->adm.tenant, path);
	c->adm.tenant = c->tenant;	/* it pointed into doc */
	json_decref(doc);
	return rc == -1 ? EXIT_FAIL : 0;
}
