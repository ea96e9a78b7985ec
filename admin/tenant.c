/*
 * A tenant's settings (time zone and default effect of the access rules, the password
 * policy) and its signing keys, shared by the sekisho command line and the admin API:
 * one place checks the values, and every setting of a change lands in one commit.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_tenant.h"
#include "audit.h"
#include "instance.h"
#include "pwquality.h"
#include "rules.h"
#include "tz.h"
#include "xmalloc.h"

static char *
dup_or(const char *s, const char *dflt)
{
	return xstrdup(s ? s : dflt);
}

int
admin_tenant_get(struct admin *a, const char *id, struct admin_tenant *t_r)
{
	struct tenant t;
	int rc = store_tenant_get(a->in->store, id, &t);

	memset(t_r, 0, sizeof(*t_r));
	if (rc == 1) {
		t_r->id = xstrdup(t.id);
		t_r->name = dup_or(t.name, t.id);
		t_r->timezone = dup_or(t.timezone, RULE_DEFAULT_TIMEZONE);
		t_r->default_effect = dup_or(t.default_effect, "allow");
		t_r->password_min_length = t.pw_min_len ? t.pw_min_len : PWQUALITY_DEFAULT_MIN;
	}
	store_tenant_clear(&t);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "tenant %s: no such tenant", id);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: storage error", id);
	return 0;
}

void
admin_tenant_clear(struct admin_tenant *t)
{
	free(t->id);
	free(t->name);
	free(t->timezone);
	free(t->default_effect);
	memset(t, 0, sizeof(*t));
}

/* The checks of every value of s: 0, or -1 after admin_fail naming the first bad one. */
static int
check_set(struct admin *a, const struct admin_tenant_set *s)
{
	if (s->timezone == NULL && s->default_effect == NULL && !s->pw_min_given)
		return admin_fail(a, ADMIN_INVALID, NULL, "nothing to set");
	if (s->timezone && !tz_valid(s->timezone))
		return admin_fail(a, ADMIN_INVALID, "timezone", "unknown time zone");
	if (s->default_effect && strcmp(s->default_effect, "allow") &&
	    strcmp(s->default_effect, "deny"))
		return admin_fail(a, ADMIN_INVALID, "default_effect", "must be allow or deny");
	if (s->pw_min_given && (s->password_min_length < 1 || s->password_min_length > 128))
		return admin_fail(a, ADMIN_INVALID, "password_min_length",
		    "not a number from 1 to 128");
	return 0;
}

int
admin_tenant_set(struct admin *a, const char *id, const struct admin_tenant_set *s)
{
	struct audit_entry ae;
	const char *err = "storage error";
	char v[24];
	int rc;

	if (check_set(a, s) == -1)
		return -1;
	snprintf(v, sizeof(v), "%lld", (long long)s->password_min_length);
	admin_audit(a, &ae, "admin.tenant.set", "tenant", id, "timezone", s->timezone,
	    "default", s->default_effect, "password_min_length", s->pw_min_given ? v : NULL,
	    NULL);
	rc = store_tenant_update(a->in->store, id, s->timezone, s->default_effect,
	    s->pw_min_given ? (uint64_t)s->password_min_length : 0, &ae, &err);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "tenant %s: no such tenant", id);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: %s", id, err);
	return 0;
}

const char *
admin_key_state_name(uint64_t state)
{
	switch (state) {
	case STORE_KEY_ACTIVE:
		return "active";
	case STORE_KEY_NEXT:
		return "next";
	case STORE_KEY_RETIRED:
		return "retired";
	}
	return "?";
}

int
admin_key_list(struct admin *a, const char *use, store_each_fn cb, void *arg)
{
	static const char *const uses[] = { "saml", "oidc", "ca" };
	int found = 0;

	for (size_t i = 0; i < 3; i++) {
		if (use && strcmp(use, uses[i]))
			continue;
		found = 1;
		if (store_key_list(a->in->store, a->tenant, uses[i], cb, arg) < 0)
			return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
	}
	if (!found)
		return admin_fail(a, ADMIN_INVALID, "use", "key use must be saml, oidc or ca");
	return 0;
}

int
admin_key_rotate(struct admin *a, const char *use)
{
	const char *err;

	if (use == NULL || (strcmp(use, "saml") && strcmp(use, "oidc")))
		return admin_fail(a, ADMIN_INVALID, "use", "key use must be saml or oidc");
	if (tenant_rotate_keys(a->in, a->tenant, use, &err) == -1)
		return admin_fail(a, ADMIN_FAILED, NULL, "key rotate: %s", err);
	admin_audit_event(a, "admin.key.rotate", "use", use, NULL);
	return 0;
}

int
admin_tenant_ca_pem(struct admin *a, char **pem_r)
{
	int rc = tenant_ca_pem(a->in, a->tenant, pem_r);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "tenant %s has no device CA",
		    a->tenant);
	return admin_fail(a, ADMIN_FAILED, NULL, "storage error");
}
