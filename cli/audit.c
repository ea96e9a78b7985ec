/*
 * sekisho audit: the tenant's audit trail, filtered by event, user, app and time, as
 * tab-separated lines or JSON lines; and the check of its hash chain.
 */
#include "config.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "admin_audit.h"
#include "buf.h"
#include "casvc.h"
#include "cli.h"
#include "clock.h"
#include "store.h"
#include "xmalloc.h"

#define BATCH 1000

static void
print_rec(const struct audit_rec *r, const struct audit_fields *kv, void *arg)
{
	const int *json = arg;
	struct buf b;
	char *line;
	json_t *o;

	buf_init(&b, 0);
	if (*json) {
		o = admin_audit_json_flat(r, kv);
		line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		buf_printf(&b, "%s\n", line ? line : "{}");
		free(line);
		json_decref(o);
	} else {
		admin_audit_tab(r, &b);
	}
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
}

int
cmd_audit_list(struct cli *c)
{
	struct audit_filter f = { .event = opt(c, "--event"), .user = opt(c, "--user"),
		.app = opt(c, "--app") };
	int json = flag(c, "--json"), n;
	uint64_t after = 0;

	if (opt(c, "--since") && admin_audit_when(opt(c, "--since"), &f.since) == -1)
		return usage_fail(c, "--since takes a duration such as 30m, 8h or 7d, or a time "
		    "such as 2026-11-01 or 2026-11-01T09:00:00Z");
	if (opt(c, "--until") && admin_audit_when(opt(c, "--until"), &f.until) == -1)
		return usage_fail(c, "--until takes a duration such as 30m, 8h or 7d, or a time "
		    "such as 2026-11-01 or 2026-11-01T09:00:00Z");
	if (flag(c, "--operator"))	/* the operator's own trail */
		c->adm.tenant = STORE_OPERATOR;
	admin_audit_prepare(&c->adm, &f);
	while ((n = admin_audit_batch(&c->adm, &f, after, BATCH, print_rec, &json, &after)) > 0)
		;
	admin_audit_filter_free(&f);
	if (n < 0)
		return fail("storage error");
	if (f.bad && (f.user || f.app))
		fprintf(stderr, "sekisho: %d records have fields that do not parse; they were "
		    "left out\n", f.bad);
	return 0;
}

int
cmd_audit_verify(struct cli *c)
{
	uint64_t count, bad;

	if (flag(c, "--operator"))
		c->adm.tenant = STORE_OPERATOR;
	if (admin_audit_verify(&c->adm, &count, &bad) == -1)
		return fail("%s", c->adm.msg);
	printf("audit trail of %s intact\n", c->tenant);
	return 0;
}
/* Who runs this command: the login name of the real uid (uid:N when it has none). */
static const char *
os_user(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw && pw->pw_name)
		return pw->pw_name;
	snprintf(buf, len, "uid:%lu", (unsigned long)getuid());
	return buf;
}

void
cli_actor(struct ca_request *rq)
{
	static char buf[32];
	const char *sudo = getenv("SUDO_USER");

	rq->actor = (char *)os_user(buf, sizeof(buf));
	rq->sudo_user = sudo && *sudo && strlen(sudo) <= 64 ? (char *)sudo : NULL;
}

static void
add_actor(struct audit_entry *ae)
{
	struct ca_request rq = { 0 };

	cli_actor(&rq);
	audit_entry_add(ae, "actor", rq.actor);
	audit_entry_add(ae, "sudo_user", rq.sudo_user);
}

void
cli_audit(struct audit_entry *ae, const char *event, ...)
{
	va_list ap;

	va_start(ap, event);
	audit_entry_makev(ae, event, ap);
	va_end(ap);
	add_actor(ae);
}

void
cli_audit_event(const struct cli *c, const char *tenant, const char *event, ...)
{
	struct audit_entry ae;
	va_list ap;

	va_start(ap, event);
	audit_entry_makev(&ae, event, ap);
	va_end(ap);
	add_actor(&ae);
	audit_entry_log(&ae, tenant);
	if (store_audit_append(c->in.store, tenant, clock_now(), ae.event, ae.fields) == -1)
		fprintf(stderr, "sekisho: the audit record of %s could not be stored\n", event);
}
