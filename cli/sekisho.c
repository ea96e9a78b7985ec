/*
 * sekisho: the administration command line.  Its commands and output are a contract with
 * operators' scripts and the end-to-end tests: errors go to stderr with a non-zero exit,
 * success prints what was done.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "admin_tenant.h"
#include "audit.h"
#include "backup.h"
#include "ca.h"
#include "casvc.h"
#include "cli.h"
#include "clock.h"
#include "crypto.h"
#include "icon.h"
#include "instance.h"
#include "log.h"
#include "password.h"
#include "store.h"
#include "url.h"
#include "xmalloc.h"

int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sekisho: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int
tenant_exists(struct cli *c)
{
	struct tenant t;
	int rc = store_tenant_get(c->in.store, c->tenant, &t);

	store_tenant_clear(&t);
	if (rc != 1) {
		fail("tenant %s: %s", c->tenant, rc == 0 ? "no such tenant" : "storage error");
		return 0;
	}
	return 1;
}

char *
slurp_binary(const char *path, size_t max, size_t *len_r, const char **errstr)
{
	FILE *fp = fopen(path, "r");
	char *data;

	if (fp == NULL) {
		*errstr = strerror(errno);
		return NULL;
	}
	data = xmalloc(max + 2);
	*len_r = fread(data, 1, max + 1, fp);
	fclose(fp);
	if (*len_r > max) {
		free(data);
		*errstr = "file too large";
		return NULL;
	}
	data[*len_r] = '\0';
	return data;
}

char *
slurp(const char *path, size_t max, size_t *len_r, const char **errstr)
{
	char *data = slurp_binary(path, max, len_r, errstr);

	if (data && strlen(data) != *len_r) {
		free(data);
		*errstr = "file contains NUL bytes";
		return NULL;
	}
	return data;
}

/* ---- tenant ---- */

/* Ask the ca process for a CA for tenant; 0 or 1 (message printed). */
static int
create_ca(struct cli *c, const char *tenant, const char *keytype)
{
	struct ca_request rq = { .op = CA_OP_CREATE, .tenant = (char *)tenant,
		.keytype = (char *)keytype };
	struct ca_reply rp;
	char fp[96];

	cli_actor(&rq);
	if (c->ca == NULL || ca_client_call(c->ca, &rq, &rp) == -1)
		return fail("tenant %s: the ca process is not answering", tenant);
	if (!rp.ok) {
		fail("tenant %s: %s", tenant, rp.error ? rp.error : "CA creation failed");
		ca_reply_clear(&rp);
		return 1;
	}
	if (pki_cert_fingerprint(rp.cert_pem, fp) == 0)
		printf("device CA of tenant %s created (%s), SHA-256 fingerprint %s\n", tenant,
		    keytype ? keytype : "p256", fp);
	ca_reply_clear(&rp);
	return 0;
}

int
cmd_tenant_add(struct cli *c)
{
	const char *id = arg(c, 0), *name = opt(c, "--name"), *err;
	int rc;

	if ((rc = cli_licence_check(c)) != 0)
		return rc;
	if (tenant_create(&c->in, id, name ? name : id, &err) == -1)
		return fail("tenant %s: %s", id, err);
	cli_audit_event(c, id, "admin.tenant.add", "tenant", id, "name", name, NULL);
	printf("tenant %s added\n", id);
	if ((rc = cli_licence_add(c, id)) != 0)
		return rc;
	return create_ca(c, id, opt(c, "--ca-key"));
}

int
cmd_tenant_ca(struct cli *c)
{
	return create_ca(c, arg(c, 0), opt(c, "--ca-key"));
}

/* "tenant T timezone=Z default=allow": the settings as they stand now. */
static int
print_tenant_settings(struct cli *c, const char *id)
{
	struct admin_tenant t;

	if (admin_tenant_get(&c->adm, id, &t) == -1)
		return fail("%s", c->adm.msg);
	printf("tenant %s timezone=%s default=%s\n", id, t.timezone, t.default_effect);
	admin_tenant_clear(&t);
	return 0;
}

/* --password-min-length N as decimal digits; 0 (which admin refuses) when it is not. */
static int64_t
parse_pw_min(const char *s)
{
	char *end;
	long long n;

	if (s[0] < '0' || s[0] > '9' || strlen(s) > 3)
		return 0;
	n = strtoll(s, &end, 10);
	return *end == '\0' ? n : 0;
}

/* A refused setting, named as its option with the value given. */
static int
tenant_set_fail(struct cli *c)
{
	static const char *const opts[][2] = { { "timezone", "--timezone" },
		{ "default_effect", "--default" },
		{ "password_min_length", "--password-min-length" },
		{ "display_name", "--display-name" }, { "logo", "--logo" },
		{ "color", "--color" }, { "help_url", "--help-url" } };

	for (size_t i = 0; c->adm.field && i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(c->adm.field, opts[i][0]) && opt(c, opts[i][1]))
			return fail("%s %s: %s", opts[i][1], opt(c, opts[i][1]), c->adm.msg);
	return fail("%s", c->adm.msg);
}

/* The branding options into s (a logo's bytes in *logo_r): 0, or an exit status. */
static int
brand_options(struct cli *c, struct admin_tenant_set *s, char **logo_r)
{
	static const struct {
		const char *set, *unset;
		unsigned bit;
	} o[] = { { "--display-name", "--no-display-name", STORE_BRAND_NAME },
		{ "--logo", "--no-logo", STORE_BRAND_LOGO },
		{ "--color", "--no-color", STORE_BRAND_COLOR },
		{ "--help-url", "--no-help-url", STORE_BRAND_HELP } };
	const char *err, *logo = opt(c, "--logo");
	size_t len;

	for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		if (opt(c, o[i].set) && flag(c, o[i].unset))
			return usage_fail(c, "%s and %s exclude each other", o[i].set, o[i].unset);
		if (flag(c, o[i].unset))
			s->clear |= o[i].bit;
	}
	s->display_name = opt(c, "--display-name");
	s->color = opt(c, "--color");
	s->help_url = opt(c, "--help-url");
	if (logo == NULL)
		return 0;
	if ((*logo_r = slurp_binary(logo, ICON_MAX, &len, &err)) == NULL)
		return fail("--logo %s: %s", logo, strcmp(err, "file too large") ? err :
		    "larger than 64 KiB");
	s->logo = (const unsigned char *)*logo_r;
	s->logo_len = len;
	return 0;
}

/* The branding as stored now, one line. */
static int
print_tenant_brand(struct cli *c, const char *id)
{
	struct admin_tenant t;

	if (admin_tenant_get(&c->adm, id, &t) == -1)
		return fail("%s", c->adm.msg);
	printf("tenant %s display_name=%s logo=%s color=%s help_url=%s\n", id,
	    t.display_name ? t.display_name : "-", t.logo_type ? t.logo_type : "-",
	    t.color ? t.color : "-", t.help_url ? t.help_url : "-");
	admin_tenant_clear(&t);
	return 0;
}

int
cmd_tenant_set(struct cli *c)
{
	const char *id = arg(c, 0), *pwmin = opt(c, "--password-min-length");
	struct admin_tenant_set s = { .timezone = opt(c, "--timezone"),
		.default_effect = opt(c, "--default"), .pw_min_given = pwmin != NULL };
	char *logo = NULL;
	int rc, brand;

	if ((rc = brand_options(c, &s, &logo)) != 0)
		return rc;
	brand = s.display_name || s.logo || s.color || s.help_url || s.clear;
	if (s.timezone == NULL && s.default_effect == NULL && pwmin == NULL && !brand &&
	    cli_licence_given(c))
		return cli_licence_set(c, id);
	if (cli_licence_given(c) && (s.timezone || s.default_effect || pwmin || brand))
		return usage_fail(c, "the licence is set by a tenant set of its own");
	if (s.timezone == NULL && s.default_effect == NULL && pwmin == NULL && !brand)
		return usage_fail(c, "tenant set needs --timezone, --default, "
		    "--password-min-length, --display-name, --logo, --color, --help-url, --seats, "
		    "--device-seats, --trial-until, --no-trial or --unlicensed");
	if (pwmin)
		s.password_min_length = parse_pw_min(pwmin);
	rc = admin_tenant_set(&c->adm, id, &s) == -1 ? tenant_set_fail(c) : 0;
	free(logo);
	if (rc == 0 && (s.timezone || s.default_effect))
		rc = print_tenant_settings(c, id);
	if (rc == 0 && pwmin)
		printf("tenant %s password_min_length=%lld\n", id,
		    (long long)s.password_min_length);
	if (rc == 0 && brand)
		rc = print_tenant_brand(c, id);
	return rc;
}

/* ---- keys ---- */

static void
print_key(const void *rec, void *arg)
{
	const struct keyrec *k = rec;
	char created[21], until[21] = "-";

	clock_iso8601((int64_t)k->created, created);
	if (k->until)
		clock_iso8601((int64_t)k->until, until);
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", k->use, k->kid, k->alg,
	    admin_key_state_name(k->state), created, until);
}

/* key list [--use saml|oidc|ca]: the signing keys, and the device CA's key. */
int
cmd_key_list(struct cli *c)
{
	if (admin_key_list(&c->adm, opt(c, "--use"), print_key, NULL) == -1)
		return fail("%s", c->adm.msg);
	return 0;
}

int
cmd_key_rotate(struct cli *c)
{
	const char *use = opt(c, "--use") ? opt(c, "--use") : "oidc";

	if (admin_key_rotate(&c->adm, use) == -1)
		return fail("%s", c->adm.msg);
	printf("%s keys of tenant %s rotated\n", use, c->tenant);
	return 0;
}

/* ---- backup, restore, init ---- */

static int dir_ok(const char *dir);

int
cmd_backup(struct cli *c)
{
	const char *path = arg(c, 0), *err;

	if (store_backup(c->in.store, path, &err) == -1)
		return fail("backup to %s: %s", path, err);
	printf("backup written to %s\n", path);
	return 0;
}

/* Restore into a stopped DIR: only settings and master key are loaded, not the store. */
int
cmd_restore(struct cli *c)
{
	const char *from = arg(c, 0);
	char *kept = NULL;
	struct buf err;
	int rc = EXIT_FAIL;

	if (c->dir == NULL)
		return usage_fail(c, "restore needs --dir DIR");
	if (!dir_ok(c->dir))
		return EXIT_FAIL;
	buf_init(&err, 0);
	if (instance_load(&c->in, c->dir, &err) == -1) {
		fprintf(stderr, "sekisho: %s", err.data);
		buf_free(&err);
		return EXIT_FAIL;
	}
	if (backup_restore(&c->in, from, &kept, &err) == -1) {
		fprintf(stderr, "sekisho: restore refused, nothing changed: %s", err.data);
	} else {
		printf("restored %s into %s/data%s%s\n", from, c->dir,
		    kept ? "; the data it replaced is in " : "", kept ? kept : "");
		if (instance_open_store(&c->in, &err) == 0)
			cli_audit_event(c, STORE_OPERATOR, "store.restore", "from", from, NULL);
		rc = 0;
	}
	free(kept);
	buf_free(&err);
	instance_close(&c->in);
	return rc;
}

int
cmd_init(struct cli *c)
{
	const char *url = opt(c, "--url"), *listen = opt(c, "--listen"), *err;
	struct cli ca = { .dir = c->dir, .tenant = "default" };
	char *host, *port;
	struct buf e;
	int rc;

	if (c->dir == NULL)
		return usage_fail(c, "init needs --dir DIR");
	if (listen && url_split_listen(listen, &host, &port, &err) == -1)
		return usage_fail(c, "--listen %s: %s", listen, err);
	if (listen) {
		free(host);
		free(port);
	}
	buf_init(&e, 0);
	if (instance_init(c->dir, url, listen, &e) == -1) {
		fprintf(stderr, "sekisho: %s", e.data ? e.data : "init failed\n");
		buf_free(&e);
		return EXIT_FAIL;
	}
	buf_free(&e);
	printf("initialised %s for %s (tenant default)\n", c->dir, url);
	buf_init(&e, 0);
	if ((ca.ca = instance_spawn_ca(c->dir, &e)) == NULL) {
		fprintf(stderr, "sekisho: %s", e.data);
		buf_free(&e);
		return EXIT_FAIL;
	}
	buf_free(&e);
	rc = create_ca(&ca, "default", NULL);
	if (ca_client_close(ca.ca) != 0)
		rc = EXIT_FAIL;
	return rc;
}

/* Whether dir is a Sekisho directory; a message saying how to make one if not. */
static int
dir_ok(const char *dir)
{
	char *conf = xasprintf("%s/sekishod.conf", dir);
	int ok = access(conf, F_OK) == 0;

	if (!ok && errno == ENOENT)
		fail("%s has no sekishod.conf; run \"sekisho init --dir %s --url https://HOST\" "
		    "first", dir, dir);
	else if (!ok)
		fail("%s: %s", conf, strerror(errno));
	free(conf);
	return ok;
}

/* The admin context of this command: its tenant, ca process and who runs it. */
static void
admin_setup(struct cli *c)
{
	struct ca_request rq = { 0 };

	cli_actor(&rq);
	c->adm.in = &c->in;
	c->adm.tenant = c->tenant;
	c->adm.ca = c->ca;
	c->adm.actor = rq.actor;
	c->adm.sudo_user = rq.sudo_user;
}

/* Open DIR (the ca process first, for commands that need it: it opens its own store). */
static int
open_dir(struct cli *c)
{
	struct buf err;

	buf_init(&err, 0);
	if ((c->spec->flags & CMD_CA) && (c->ca = instance_spawn_ca(c->dir, &err)) == NULL) {
		fprintf(stderr, "sekisho: %s", err.data);
		buf_free(&err);
		return -1;
	}
	if (instance_open(&c->in, c->dir, &err) == -1) {
		ca_client_close(c->ca);
		fprintf(stderr, "sekisho: %s", err.data);
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	admin_setup(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c = { .tenant = "default" };
	int rc;

	log_init("sekisho", 0, LOG_LEVEL_WARN);
	if ((rc = args_parse(argc, argv, &c)) != -1)
		return rc;
	if (c.spec->flags & CMD_NO_DIR)
		return c.spec->run(&c);
	if (c.dir == NULL)
		return usage_fail(&c, "--dir DIR is required");
	if (!store_valid_name(c.tenant, 63))
		return usage_fail(&c, "bad tenant id %s", c.tenant);
	if (!dir_ok(c.dir) || open_dir(&c) == -1)
		return EXIT_FAIL;
	if ((c.spec->flags & CMD_ANY_TENANT) || tenant_exists(&c))
		rc = c.spec->run(&c);
	else
		rc = EXIT_FAIL;
	instance_close(&c.in);
	if (ca_client_close(c.ca) > 0 && rc == 0)
		rc = EXIT_FAIL;
	return rc;
}
