/*
 * Instantiating an app template: the admin's parameters checked against their
 * patterns, the URL patterns filled in and checked as every app URL is, and for SAML the
 * SP metadata made from them (entity ID, ACS, SLO, NameID format, requested attributes),
 * which then goes through the same checks as uploaded metadata.
 */
#include "config.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_int.h"
#include "html.h"
#include "url.h"
#include "xmalloc.h"

#define MD_NS "urn:oasis:names:tc:SAML:2.0:metadata"
#define BINDING "urn:oasis:names:tc:SAML:2.0:bindings:"

static const char *const saml_paste[] = { "idp_entity_id", "sso_url", "slo_url",
	"metadata_url", "certificate", "certificate_sha256", NULL };
static const char *const oidc_paste[] = { "issuer", "discovery_url", "client_id",
	"client_secret", NULL };

const struct catalog_param *
catalog_param_find(const struct catalog_tmpl *t, const char *name, size_t n)
{
	for (size_t i = 0; i < t->nparams; i++)
		if (strlen(t->params[i].name) == n && !strncmp(t->params[i].name, name, n))
			return &t->params[i];
	return NULL;
}

char *
catalog_fill(const struct catalog_tmpl *t, const char *pattern,
    const char *const vals[CATALOG_MAX_PARAMS])
{
	struct buf b;

	buf_init(&b, 0);
	for (const char *s = pattern; *s; ) {
		const char *e = *s == '{' ? strchr(s, '}') : NULL;
		const struct catalog_param *pa = e ? catalog_param_find(t, s + 1,
		    (size_t)(e - s - 1)) : NULL;
		if (pa == NULL) {
			buf_putc(&b, *s++);
			continue;
		}
		if (vals[pa - t->params] == NULL) {
			buf_free(&b);
			return NULL;
		}
		buf_puts(&b, vals[pa - t->params]);
		s = e + 1;
	}
	return buf_steal(&b, NULL);
}

int
catalog_entity_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= 1024 && strcspn(id, " \t\r\n\"'<>\\") == n;
}

const char *
catalog_nameid_uri(const char *nameid)
{
	if (!strcmp(nameid, "persistent"))
		return "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
	if (!strcmp(nameid, "transient"))
		return "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
	if (!strcmp(nameid, "email"))
		return "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
	return NULL;
}

const char *
catalog_format_uri(const char *fmt)
{
	if (!strcmp(fmt, "basic"))
		return "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
	if (!strcmp(fmt, "uri"))
		return "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
	if (!strcmp(fmt, "unspecified"))
		return "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
	return NULL;
}

int
catalog_grants_ok(const char *grants)
{
	static const char *const known[] = { "authorization_code", "refresh_token",
		"client_credentials" };

	for (const char *s = grants; ; s++) {
		size_t n = strcspn(s, ","), i;
		for (i = 0; i < 3 && (strlen(known[i]) != n || strncmp(s, known[i], n)); i++)
			;
		if (i == 3)
			return 0;
		s += n;
		if (*s == '\0')
			return 1;
	}
}

int
catalog_paste_known(const char *protocol, const char *key, size_t n)
{
	const char *const *k = strcmp(protocol, "saml") ? oidc_paste : saml_paste;

	for (; *k; k++)
		if (strlen(*k) == n && !strncmp(*k, key, n))
			return 1;
	return 0;
}

const char *
catalog_paste_keys(const char *protocol)
{
	return strcmp(protocol, "saml") ? "issuer, discovery_url, client_id, client_secret" :
	    "idp_entity_id, sso_url, slo_url, metadata_url, certificate, certificate_sha256";
}

/* ---- the admin's parameters ---- */

static int __attribute__((format(printf, 2, 3)))
fail(struct buf *err, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_puts(err, msg);
	return -1;
}

/* One value: fits a URL and an XML attribute as it is, and matches the pattern. */
static int
value_ok(const struct catalog_param *pa, const char *v, struct buf *err)
{
	size_t n = strlen(v);

	if (n == 0 || n > CATALOG_MAX_VALUE)
		return fail(err, "parameter %s: 1 to %d bytes", pa->name,
		    CATALOG_MAX_VALUE);
	for (const unsigned char *s = (const unsigned char *)v; *s; s++)
		if (*s <= 0x20 || *s == 0x7f || strchr("\"'<>\\{}`", *s))
			return fail(err, "parameter %s: no white space, control "
			    "characters, quotes, <, >, \\, {, } or `", pa->name);
	if (regexec(&pa->re, v, 0, NULL, 0) != 0)
		return fail(err, "parameter %s: %s does not match %s (%s, for example "
		    "%s)", pa->name, v, pa->pattern, pa->description, pa->example);
	return 0;
}

/* The values by parameter index into vals; -1 naming the parameter at fault. */
static int
collect(const struct catalog_tmpl *t, const char *const *names, const char *const *values,
    size_t n, const char *vals[CATALOG_MAX_PARAMS], const char **param_r, struct buf *err)
{
	memset(vals, 0, sizeof(*vals) * CATALOG_MAX_PARAMS);
	for (size_t i = 0; i < n; i++) {
		const struct catalog_param *pa = catalog_param_find(t, names[i], strlen(names[i]));
		if (pa == NULL) {
			*param_r = names[i];
			fail(err, "unknown parameter %s (template %s takes:", names[i], t->name);
			for (size_t j = 0; j < t->nparams; j++)
				buf_printf(err, " %s", t->params[j].name);
			buf_puts(err, t->nparams ? ")" : " none)");
			return -1;
		}
		*param_r = pa->name;
		if (vals[pa - t->params])
			return fail(err, "parameter %s given twice", pa->name);
		if (value_ok(pa, values[i], err) == -1)
			return -1;
		vals[pa - t->params] = values[i];
	}
	for (size_t i = 0; i < t->nparams; i++)
		if (vals[i] == NULL && !t->params[i].optional) {
			*param_r = t->params[i].name;
			return fail(err, "missing parameter %s (%s, for example "
			    "%s)", t->params[i].name, t->params[i].description,
			    t->params[i].example);
		}
	*param_r = NULL;
	return 0;
}

/* The first parameter pattern refers to (for a message about the URL it makes). */
static const char *
first_param(const struct catalog_tmpl *t, const char *pattern)
{
	const char *s = strchr(pattern, '{'), *e = s ? strchr(s, '}') : NULL;
	const struct catalog_param *pa = e ? catalog_param_find(t, s + 1, (size_t)(e - s - 1)) :
	    NULL;

	return pa ? pa->name : NULL;
}

/* Fill a URL list; URLs whose optional parameter was not given are left out. */
static int
fill_urls(const struct catalog_tmpl *t, char *const *pats, size_t npats, const char **vals,
    char **out, size_t *n_r, const char **param_r, struct buf *err)
{
	const char *why;

	*n_r = 0;
	for (size_t i = 0; i < npats; i++) {
		char *u = catalog_fill(t, pats[i], vals);
		if (u == NULL)
			continue;
		out[(*n_r)++] = u;
		if (url_check_app_uri(u, &why) == -1) {
			*param_r = first_param(t, pats[i]);
			return fail(err, "%s: %s", u, why);
		}
	}
	return 0;
}

/* ---- SAML metadata ---- */

static void
xml_attr(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, " %s=\"", name);
	html_escape(b, v);
	buf_putc(b, '"');
}

static void
md_attributes(struct buf *b, const struct catalog_tmpl *t)
{
	if (t->nattrs == 0)
		return;
	buf_puts(b, "    <md:AttributeConsumingService index=\"0\">\n"
	    "      <md:ServiceName xml:lang=\"en\">");
	html_escape(b, t->display_name);
	buf_puts(b, "</md:ServiceName>\n");
	for (size_t i = 0; i < t->nattrs; i++) {
		buf_puts(b, "      <md:RequestedAttribute");
		xml_attr(b, "Name", t->attrs[i].name);
		xml_attr(b, "NameFormat", t->attrs[i].format);
		xml_attr(b, "FriendlyName", t->attrs[i].source);
		buf_puts(b, "/>\n");
	}
	buf_puts(b, "    </md:AttributeConsumingService>\n");
}

/* SAML metadata 2.4.4's order: SLO, NameIDFormat, ACS, AttributeConsumingService. */
static char *
md_make(const struct catalog_tmpl *t, const struct catalog_app *a)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor"
	    " xmlns:md=\"" MD_NS "\"");
	xml_attr(&b, "entityID", a->entity_id);
	buf_puts(&b, ">\n  <md:SPSSODescriptor AuthnRequestsSigned=\"false\""
	    " protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n");
	for (int i = 0; a->slo && i < 2; i++) {
		buf_printf(&b, "    <md:SingleLogoutService Binding=\"" BINDING "%s\"",
		    i ? "HTTP-POST" : "HTTP-Redirect");
		xml_attr(&b, "Location", a->slo);
		buf_puts(&b, "/>\n");
	}
	buf_printf(&b, "    <md:NameIDFormat>%s</md:NameIDFormat>\n",
	    catalog_nameid_uri(a->nameid));
	for (size_t i = 0; i < a->nacs; i++) {
		buf_puts(&b, "    <md:AssertionConsumerService Binding=\"" BINDING "HTTP-POST\"");
		xml_attr(&b, "Location", a->acs[i]);
		buf_printf(&b, " index=\"%zu\"%s/>\n", i, i ? "" : " isDefault=\"true\"");
	}
	md_attributes(&b, t);
	buf_puts(&b, "  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n");
	return buf_steal(&b, NULL);
}

static int
fill_saml(const struct catalog_tmpl *t, const char **vals, struct catalog_app *a,
    const char **param_r, struct buf *err)
{
	char *slo[1] = { NULL };
	size_t nslo = 0;

	a->entity_id = catalog_fill(t, t->entity_id, vals);
	a->nameid = catalog_fill(t, t->nameid, vals);
	if (!catalog_entity_ok(a->entity_id)) {
		*param_r = first_param(t, t->entity_id);
		return fail(err, "entity ID %s: 1-1024 bytes without white space, "
		    "quotes or angle brackets", a->entity_id);
	}
	if (catalog_nameid_uri(a->nameid) == NULL) {
		*param_r = first_param(t, t->nameid);
		return fail(err, "NameID format %s: persistent, transient or email",
		    a->nameid);
	}
	if (fill_urls(t, t->acs, t->nacs, vals, a->acs, &a->nacs, param_r, err) == -1)
		return -1;
	if (t->slo && fill_urls(t, (char *const[]){ t->slo }, 1, vals, slo, &nslo, param_r,
	    err) == -1) {
		free(slo[0]);
		return -1;
	}
	a->slo = nslo ? slo[0] : NULL;
	a->metadata = md_make(t, a);
	return 0;
}

int
catalog_instantiate(const struct catalog_tmpl *t, const char *const *names,
    const char *const *values, size_t n, struct catalog_app *out, const char **param_r,
    struct buf *err)
{
	const char *vals[CATALOG_MAX_PARAMS];
	int rc;

	memset(out, 0, sizeof(*out));
	*param_r = NULL;
	if (collect(t, names, values, n, vals, param_r, err) == -1)
		return -1;
	if (!strcmp(t->protocol, "saml"))
		rc = fill_saml(t, vals, out, param_r, err);
	else if ((rc = fill_urls(t, t->redirect, t->nredirect, vals, out->redirect,
	    &out->nredirect, param_r, err)) == 0)
		rc = fill_urls(t, t->logout, t->nlogout, vals, out->logout, &out->nlogout,
		    param_r, err);
	if (rc == -1)
		catalog_app_clear(out);
	return rc;
}

void
catalog_app_clear(struct catalog_app *a)
{
	for (size_t i = 0; i < a->nacs; i++)
		free(a->acs[i]);
	for (size_t i = 0; i < a->nredirect; i++)
		free(a->redirect[i]);
	for (size_t i = 0; i < a->nlogout; i++)
		free(a->logout[i]);
	free(a->entity_id);
	free(a->slo);
	free(a->nameid);
	free(a->metadata);
	memset(a, 0, sizeof(*a));
}
