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
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"
#include "casvc.h"
#include "cli.h"
#include "clock.h"
#include "store.h"
#include "xmalloc.h"

/* The filters of one listing; all must match (NULL: any). */
struct audit_filter {
	const char *event;	/* exact, or a prefix when it ends in '*' */
	const char *user;
	const char *app;
	const char *app_entity;	/* the app's SAML entity ID or OIDC client_id, if it exists */
	int64_t until;		/* records before this time; 0: no limit */
	int json;
	int bad;		/* records whose fields did not parse */
};

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

/* User names are the same without regard to case. */
static int
eq_nocase(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

static int
fields_match(const struct audit_filter *f, const struct audit_fields *kv)
{
	if (f->user && !eq_nocase(audit_fields_get(kv, "user"), f->user))
		return 0;
	if (f->app && !eq(audit_fields_get(kv, "app"), f->app) &&
	    !eq(audit_fields_get(kv, "sp"), f->app_entity) &&
	    !eq(audit_fields_get(kv, "client"), f->app_entity))
		return 0;
	return 1;
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

static void
print_json(const struct audit_rec *r, const struct audit_fields *kv, const char *time)
{
	json_t *o = json_object();
	char *line;

	json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new(o, "time", json_string(time));
	json_object_set_new(o, "event", json_text(r->event));
	for (size_t i = 0; i < kv->n; i++)
		if (json_object_get(o, kv->keys[i]) == NULL)	/* never replace the above */
			json_object_set_new(o, kv->keys[i], json_text(kv->values[i]));
	if (kv->n == 0 && r->fields && *r->fields)
		json_object_set_new(o, "fields", json_text(r->fields));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", line ? line : "{}");
	free(line);
	json_decref(o);
}

static void
print_rec(const struct audit_rec *r, void *arg)
{
	struct audit_filter *f = arg;
	struct audit_fields kv = { 0 };
	char t[21];

	if ((f->until && (int64_t)r->time >= f->until) ||
	    (f->event && !event_matches(f->event, r->event)))
		return;
	if (audit_fields_parse(r->fields ? r->fields : "", &kv) == -1)
		f->bad++;
	if (!fields_match(f, &kv)) {
		audit_fields_clear(&kv);
		return;
	}
	clock_iso8601((int64_t)r->time, t);
	if (f->json)
		print_json(r, &kv, t);
	else
		printf("%llu\t%s\t%s\t%s\n", (unsigned long long)r->seq, t, r->event,
		    r->fields ? r->fields : "");
	audit_fields_clear(&kv);
}

/* --since and --until: a duration back from now (7d), a time (ISO 8601, Z) or a date. */
static int
parse_when(const char *s, int64_t *t_r)
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

/* The app's entity ID or client_id, so records naming it that way match --app too. */
static char *
app_entity(struct cli *c, const char *name)
{
	struct app a;
	char *id = NULL;

	if (store_app_get(c->in.store, c->tenant, name, &a) == 1 && a.entity_id)
		id = xstrdup(a.entity_id);
	store_app_clear(&a);
	return id;
}

int
cmd_audit_list(struct cli *c)
{
	struct audit_filter f = { .event = opt(c, "--event"), .user = opt(c, "--user"),
		.app = opt(c, "--app"), .json = flag(c, "--json") };
	char *entity = NULL;
	int64_t since = 0;
	int rc;

	if (opt(c, "--since") && parse_when(opt(c, "--since"), &since) == -1)
		return usage_fail(c, "--since takes a duration such as 30m, 8h or 7d, or a time "
		    "such as 2026-11-01 or 2026-11-01T09:00:00Z");
	if (opt(c, "--until") && parse_when(opt(c, "--until"), &f.until) == -1)
		return usage_fail(c, "--until takes a duration such as 30m, 8h or 7d, or a time "
		    "such as 2026-11-01 or 2026-11-01T09:00:00Z");
	if (f.app)
		f.app_entity = entity = app_entity(c, f.app);
	rc = store_audit_list(c->in.store, c->tenant, since, print_rec, &f) < 0;
	free(entity);
	if (rc)
		return fail("storage error");
	if (f.bad && (f.user || f.app))
		fprintf(stderr, "sekisho: %d records have fields that do not parse; they were "
		    "left out\n", f.bad);
	return 0;
}

int
cmd_audit_verify(struct cli *c)
{
	const char *err;
	uint64_t bad;

	if (store_audit_verify(c->in.store, c->tenant, &bad, &err) == -1)
		return fail("audit trail of %s: %s (record %llu)", c->tenant, err,
		    (unsigned long long)bad);
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
