/*
 * The tenant's settings in the console (admins only): time zone, default effect, minimum
 * password length and branding (display name, accent colour, help URL), changed through
 * admin_tenant_set as PATCH tenant does.  Only what the form changes is sent, so an
 * unchanged form writes nothing.  The logo comes as the file of a multipart/form-data
 * form and goes through admin_tenant_set as PUT tenant/logo does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_tenant.h"
#include "console_int.h"
#include "icon.h"

static const char *const logo_fields[] = { "csrf", NULL };
const struct http_upload console_logo_upload = { logo_fields, "logo", ICON_MAX, 1024 };

/* The inputs of the page, for messages that name the one at fault. */
static const struct console_label labels[] = {
	{ "timezone", "console_settings_timezone" },
	{ "default_effect", "console_settings_default_effect" },
	{ "password_min_length", "console_settings_pw_min" },
	{ "display_name", "console_settings_display_name" },
	{ "color", "console_settings_color" },
	{ "help_url", "console_settings_help_url" },
	{ "logo", "console_settings_logo" },
	{ NULL, NULL },
};

static void
settings_vars(struct tmpl_vars *v, const struct admin_tenant *t)
{
	char n[24];

	snprintf(n, sizeof(n), "%llu", (unsigned long long)t->password_min_length);
	tmpl_set(v, "timezone", t->timezone);
	tmpl_set(v, "deny_default", t->default_effect && !strcmp(t->default_effect, "deny") ?
	    "1" : NULL);
	tmpl_set(v, "pw_min", n);
	tmpl_set(v, "display_name", t->display_name);
	tmpl_set(v, "color", t->color);
	tmpl_set(v, "help_url", t->help_url);
	tmpl_set(v, "has_logo", t->logo_len ? "1" : NULL);
}

void
console_settings_get(struct console_req *c)
{
	struct admin_tenant t;
	struct tmpl_vars *v;

	memset(&t, 0, sizeof(t));
	if (admin_tenant_get(&c->adm, c->t->id, &t) < 0) {
		admin_tenant_clear(&t);
		console_failed(c, "");
		return;
	}
	v = tmpl_vars_new();
	settings_vars(v, &t);
	tmpl_set(v, "title", page_msg(c->idp->pages, c->lang, "console_settings"));
	console_render(c, 200, "console_settings.html", v);
	tmpl_vars_free(v);
	admin_tenant_clear(&t);
}

/* 1 when the form's value differs from the current one (NULL: unset). */
static int
changed(const char *form, const char *cur)
{
	return form && strcmp(form, cur ? cur : "");
}

/* A branding field: a new value sets it, an emptied one clears it (bit). */
static void
brand(struct admin_tenant_set *s, const char *form, const char *cur, unsigned bit,
    const char **out)
{
	if (!changed(form, cur))
		return;
	if (*form)
		*out = form;
	else
		s->clear |= bit;
}

/* The minimum length of the form into s when it changed: 0, or -1 after admin_fail. */
static int
pw_min(struct console_req *c, struct admin_tenant_set *s, uint64_t cur)
{
	const char *f = console_field(c, "password_min_length");
	char *end;
	long long n;

	if (f == NULL)
		return 0;
	n = strtoll(f, &end, 10);
	if (!*f || *end || n < 1 || n > 128)
		return admin_fail(&c->adm, ADMIN_INVALID, "password_min_length",
		    "password_min_length is a number from 1 to 128");
	s->pw_min_given = (uint64_t)n != cur;
	s->password_min_length = n;
	return 0;
}

void
console_settings_save(struct console_req *c)
{
	struct admin_tenant t;
	struct admin_tenant_set s = { 0 };
	const char *tz = console_field(c, "timezone"), *eff = console_field(c, "default_effect");
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = admin_tenant_get(&c->adm, c->t->id, &t)) == 0 &&
	    (rc = pw_min(c, &s, t.password_min_length)) == 0) {
		s.timezone = changed(tz, t.timezone) ? tz : NULL;
		s.default_effect = changed(eff, t.default_effect) ? eff : NULL;
		brand(&s, console_field(c, "display_name"), t.display_name, STORE_BRAND_NAME,
		    &s.display_name);
		brand(&s, console_field(c, "color"), t.color, STORE_BRAND_COLOR, &s.color);
		brand(&s, console_field(c, "help_url"), t.help_url, STORE_BRAND_HELP, &s.help_url);
		if (s.timezone || s.default_effect || s.pw_min_given || s.display_name ||
		    s.color || s.help_url || s.clear)
			rc = admin_tenant_set(&c->adm, c->t->id, &s);
	}
	admin_tenant_clear(&t);
	if (rc < 0)
		console_failed_field(c, "settings", labels);
	else
		console_done(c, "settings", "console_done_settings_saved");
}

/* Set (len > 0) or remove the logo as PUT and DELETE tenant/logo do. */
static void
logo_write(struct console_req *c, const unsigned char *logo, size_t len)
{
	struct admin_tenant_set s = { .logo = len ? logo : NULL, .logo_len = len,
		.clear = len ? 0 : STORE_BRAND_LOGO };

	if (admin_tenant_set(&c->adm, c->t->id, &s) < 0)
		console_failed_field(c, "settings", labels);
	else
		console_done(c, "settings", len ? "console_done_logo_saved" :
		    "console_done_logo_removed");
}

void
console_logo_save(struct console_req *c)
{
	const struct http_file *f = http_file(c->req);

	if (f == NULL)
		console_error(c, 400, "console_upload_no_file", "settings");
	else
		logo_write(c, f->data, f->len);
}

void
console_logo_remove(struct console_req *c)
{
	logo_write(c, NULL, 0);
}
