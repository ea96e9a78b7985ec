/*
 * A tenant's settings (time zone and default effect of the access rules, the password
 * policy), its branding (display name, logo, accent colour, help URL) and its signing
 * keys, shared by the sekisho command line and the admin API: one place checks the values,
 * and every setting of a change lands in one commit.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

#include "admin_tenant.h"
#include "audit.h"
#include "contrast.h"
#include "icon.h"
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
		t_r->display_name = t.display_name ? xstrdup(t.display_name) : NULL;
		t_r->color = t.color ? xstrdup(t.color) : NULL;
		t_r->help_url = t.help_url ? xstrdup(t.help_url) : NULL;
		t_r->logo_type = t.logo_len && t.logo_type ? xstrdup(t.logo_type) : NULL;
		t_r->logo_len = t_r->logo_type ? t.logo_len : 0;
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
	free(t->display_name);
	free(t->color);
	free(t->help_url);
	free(t->logo_type);
	memset(t, 0, sizeof(*t));
}

static int
settings_given(const struct admin_tenant_set *s)
{
	return s->timezone || s->default_effect || s->pw_min_given;
}

static int
brand_given(const struct admin_tenant_set *s)
{
	return s->display_name || s->logo || s->color || s->help_url || s->clear;
}

/* The checks of every value of s: 0, or -1 after admin_fail naming the first bad one. */
static int
check_set(struct admin *a, const struct admin_tenant_set *s)
{
	if (!settings_given(s) && !brand_given(s))
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

/* ---- branding ---- */

/* 1..128 characters of UTF-8 without control characters (C0, DEL, C1). */
static int
check_display_name(struct admin *a, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	if (!xmlCheckUTF8(p))
		return admin_fail(a, ADMIN_INVALID, "display_name", "display name is not UTF-8");
	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return admin_fail(a, ADMIN_INVALID, "display_name",
			    "display name has a control character");
		chars += (*p & 0xc0) != 0x80;
	}
	if (chars < 1 || chars > 128)
		return admin_fail(a, ADMIN_INVALID, "display_name",
		    "display name must be 1 to 128 characters");
	return 0;
}

/*
 * "#rgb" or "#rrggbb" into out ("#rrggbb", lower case).  Any colour is legible: the
 * pages put black or white text on it, whichever has more contrast (contrast.h).
 */
static int
check_color(struct admin *a, const char *s, char out[8])
{
	unsigned rgb;

	if (contrast_parse(s, &rgb) == -1)
		return admin_fail(a, ADMIN_INVALID, "color", "color must be #rgb or #rrggbb");
	snprintf(out, 8, "#%06x", rgb);
	return 0;
}

/* https://HOST... or mailto:ADDRESS, printable ASCII, at most 512 bytes. */
static int
check_help_url(struct admin *a, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '"' || s[i] == '<' || s[i] == '>')
			return admin_fail(a, ADMIN_INVALID, "help_url",
			    "help URL has a space or a character that needs escaping");
	if (n > 512)
		return admin_fail(a, ADMIN_INVALID, "help_url", "help URL longer than 512 bytes");
	if (!strncmp(s, "https://", 8) && n > 8 && s[8] != '/')
		return 0;
	if (!strncmp(s, "mailto:", 7) && strchr(s + 7, '@') && s[7] != '@')
		return 0;
	return admin_fail(a, ADMIN_INVALID, "help_url",
	    "help URL must be https://HOST/... or mailto:ADDRESS");
}

/* The branding values of s: 0 with the stored colour and the logo's type, or -1. */
static int
check_brand(struct admin *a, const struct admin_tenant_set *s, char color[8],
    const char **logo_type)
{
	const char *err;

	if (s->display_name && check_display_name(a, s->display_name) == -1)
		return -1;
	if (s->logo && (s->clear & STORE_BRAND_LOGO))
		return admin_fail(a, ADMIN_INVALID, "logo", "a logo is either set or removed");
	if (s->logo && s->logo_len > ICON_MAX)
		return admin_fail(a, ADMIN_INVALID, "logo", "logo larger than 64 KiB");
	if (s->logo && icon_check(s->logo, s->logo_len, logo_type, &err) == -1)
		return admin_fail(a, ADMIN_INVALID, "logo", "logo: %s", err);
	if (s->color && check_color(a, s->color, color) == -1)
		return -1;
	if (s->help_url && check_help_url(a, s->help_url) == -1)
		return -1;
	return 0;
}

/* The logo's part of the audit record: its type and size, "removed", or NULL. */
static const char *
logo_text(const struct admin_tenant_set *s, const char *logo_type, char *buf, size_t len)
{
	if (s->logo)
		snprintf(buf, len, "%s %zu bytes", logo_type, s->logo_len);
	else if (s->clear & STORE_BRAND_LOGO)
		snprintf(buf, len, "removed");
	else
		return NULL;
	return buf;
}

static const char *
brand_text(const struct admin_tenant_set *s, unsigned bit, const char *value)
{
	return s->clear & bit ? "removed" : value;
}

/* Every member of s in one commit with one admin.tenant.set record. */
static int
set_all(struct admin *a, const char *id, const struct admin_tenant_set *s,
    const char *color, const char *logo_type)
{
	struct tenant in = { .timezone = (char *)s->timezone,
		.default_effect = (char *)s->default_effect, .display_name = (char *)s->display_name,
		.logo = (unsigned char *)s->logo, .logo_len = s->logo_len,
		.logo_type = (char *)logo_type, .color = s->color ? (char *)color : NULL,
		.help_url = (char *)s->help_url };
	struct audit_entry ae;
	const char *err = "storage error";
	char v[24], logo[48];
	int rc;

	snprintf(v, sizeof(v), "%lld", (long long)s->password_min_length);
	admin_audit(a, &ae, "admin.tenant.set", "tenant", id, "timezone", s->timezone,
	    "default", s->default_effect, "password_min_length", s->pw_min_given ? v : NULL,
	    "display_name", brand_text(s, STORE_BRAND_NAME, s->display_name), "logo",
	    logo_text(s, logo_type, logo, sizeof(logo)), "color",
	    brand_text(s, STORE_BRAND_COLOR, in.color), "help_url",
	    brand_text(s, STORE_BRAND_HELP, s->help_url), NULL);
	rc = store_tenant_change(a->in->store, id, &in, s->pw_min_given ?
	    (uint64_t)s->password_min_length : 0, s->clear, &ae, &err);
	if (rc == 0)
		return admin_fail(a, ADMIN_NOT_FOUND, NULL, "tenant %s: no such tenant", id);
	if (rc < 0)
		return admin_fail(a, ADMIN_FAILED, NULL, "tenant %s: %s", id, err);
	return 0;
}

int
admin_tenant_set(struct admin *a, const char *id, const struct admin_tenant_set *s)
{
	const char *logo_type = NULL;
	char color[8] = "";

	if (check_set(a, s) == -1 || check_brand(a, s, color, &logo_type) == -1)
		return -1;
	if (!settings_given(s) && !brand_given(s))
		return 0;
	return set_all(a, id, s, color, logo_type);
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
