/*
 * Reading app templates: "key value" lines, parameter blocks of indented lines, every
 * mistake refused with FILE:LINE (unknown or repeated key, missing key, a placeholder
 * naming no parameter, a bad regular expression, a URL that an example does not turn into
 * an acceptable one).  catalog_fill.c instantiates them; catalog_load.c gathers them.
 */
#include "config.h"

#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrmap.h"
#include "catalog.h"
#include "catalog_int.h"
#include "icon.h"
#include "url.h"
#include "xmalloc.h"

struct parser {
	struct catalog_tmpl *t;
	const char *file;
	int line;
	int param_line;		/* the line of the open param block, or 0 */
	struct buf *err;
	int failed;
};

struct key;
typedef int (*key_fn)(struct parser *p, const struct key *k, const char *v);

struct key {
	const char *name;
	const char *protocol;	/* the only protocol it belongs to, or NULL */
	size_t off;		/* the member it sets */
	key_fn fn;
};

static int __attribute__((format(printf, 2, 3)))
perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	char msg[400];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_printf(p->err, "%s:%d: %s\n", p->file, p->line, msg);
	p->failed = 1;
	return -1;
}

static char **
member(struct parser *p, const struct key *k)
{
	return (char **)(void *)((char *)p->t + k->off);
}

static int
set_once(struct parser *p, const struct key *k, const char *v)
{
	char **m = member(p, k);

	if (*m)
		return perr(p, "%s given twice", k->name);
	*m = xstrdup(v);
	return 0;
}

/* notes, verified, unverified: one more line. */
static int
add_line(struct parser *p, const struct key *k, const char *v)
{
	char **m = member(p, k), *old = *m;

	*m = old ? xasprintf("%s\n%s", old, v) : xstrdup(v);
	free(old);
	return 0;
}

static int
set_name(struct parser *p, const struct key *k, const char *v)
{
	const char *base = strrchr(p->file, '/') ? strrchr(p->file, '/') + 1 : p->file;
	size_t n = strlen(v);

	if (n == 0 || n > 64 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return perr(p, "name must be 1-64 characters of a-z 0-9 -");
	if (strncmp(base, v, n) || strcmp(base + n, ".tmpl"))
		return perr(p, "name %s does not match the file name (%s.tmpl)", v, v);
	return set_once(p, k, v);
}

static int
set_protocol(struct parser *p, const struct key *k, const char *v)
{
	if (strcmp(v, "saml") && strcmp(v, "oidc"))
		return perr(p, "protocol must be saml or oidc");
	return set_once(p, k, v);
}

static int
set_setup_url(struct parser *p, const struct key *k, const char *v)
{
	const char *why;

	if (strncmp(v, "https://", 8) || url_check_app_uri(v, &why) == -1)
		return perr(p, "setup_url must be an https URL");
	return set_once(p, k, v);
}

static int
set_icon(struct parser *p, const struct key *k, const char *v)
{
	const char *type, *why;

	if (icon_check(v, strlen(v), &type, &why) == -1)
		return perr(p, "icon: %s", why);
	if (strcmp(type, "image/svg+xml"))
		return perr(p, "icon must be an SVG image on one line");
	return set_once(p, k, v);
}

/*
 * Every {placeholder} of v names a parameter declared above; with first set, none of
 * them is optional (the value must always exist).
 */
static int
placeholders_ok(struct parser *p, const char *key, const char *v, int first)
{
	for (const char *s = strchr(v, '{'); s; s = strchr(s + 1, '{')) {
		const char *e = strchr(s, '}');
		const struct catalog_param *pa;
		if (e == NULL || memchr(s + 1, '{', (size_t)(e - s - 1)))
			return perr(p, "%s: unbalanced { in %s", key, v);
		pa = catalog_param_find(p->t, s + 1, (size_t)(e - s - 1));
		if (pa == NULL)
			return perr(p, "%s: parameter {%.*s} is not declared (param NAME above)", key,
			    (int)(e - s - 1), s + 1);
		if (first && pa->optional)
			return perr(p, "%s: parameter {%s} is optional but this value is required",
			    key, pa->name);
	}
	if (strchr(v, '}') && !strchr(v, '{'))
		return perr(p, "%s: unbalanced } in %s", key, v);
	return 0;
}

/* The pattern filled with the parameters' examples (new), or NULL after a message. */
static char *
example_of(struct parser *p, const char *key, const char *v, int first)
{
	const char *vals[CATALOG_MAX_PARAMS];

	if (placeholders_ok(p, key, v, first) == -1)
		return NULL;
	for (size_t i = 0; i < p->t->nparams; i++)
		vals[i] = p->t->params[i].example;
	return catalog_fill(p->t, v, vals);
}

/* A URL pattern: with the examples filled in it passes the rule for app URLs. */
static int
url_ok(struct parser *p, const char *key, const char *v, int first)
{
	char *ex = example_of(p, key, v, first);
	const char *why;
	int rc = 0;

	if (ex && url_check_app_uri(ex, &why) == -1)
		rc = perr(p, "%s: with the examples, %s is not an acceptable URL (%s)", key, ex,
		    why);
	free(ex);
	return ex ? rc : -1;
}

static int
add_url(struct parser *p, const struct key *k, const char *v)
{
	char **arr = member(p, k);
	size_t *n = (size_t *)(void *)((char *)p->t + catalog_count_off(k->off));

	if (*n == CATALOG_MAX_URLS)
		return perr(p, "at most %d %s lines", CATALOG_MAX_URLS, k->name);
	/* The first ACS or redirect URI must always exist; post-logout URIs never must. */
	if (url_ok(p, k->name, v, *n == 0 && strcmp(k->name, "post_logout_uri")) == -1)
		return -1;
	arr[(*n)++] = xstrdup(v);
	return 0;
}

static int
set_slo(struct parser *p, const struct key *k, const char *v)
{
	return url_ok(p, k->name, v, 0) == -1 ? -1 : set_once(p, k, v);
}

static int
set_entity_id(struct parser *p, const struct key *k, const char *v)
{
	char *ex = example_of(p, k->name, v, 1);
	int rc = 0;

	if (ex && !catalog_entity_ok(ex))
		rc = perr(p, "entity_id: with the examples, %s is not a usable entity ID", ex);
	free(ex);
	return ex && rc == 0 ? set_once(p, k, v) : -1;
}

static int
set_nameid(struct parser *p, const struct key *k, const char *v)
{
	char *ex = example_of(p, k->name, v, 1);
	int rc = 0;

	if (ex && catalog_nameid_uri(ex) == NULL)
		rc = perr(p, "nameid must be persistent, transient or email (with the examples: "
		    "%s)", ex);
	free(ex);
	return ex && rc == 0 ? set_once(p, k, v) : -1;
}

static int
set_sign_response(struct parser *p, const struct key *k, const char *v)
{
	(void)k;
	if (strcmp(v, "yes") && strcmp(v, "no"))
		return perr(p, "sign_response must be yes or no");
	p->t->sign_response = !strcmp(v, "yes");
	return 0;
}

static int
set_grants(struct parser *p, const struct key *k, const char *v)
{
	if (!catalog_grants_ok(v))
		return perr(p, "grants: a comma-separated list of authorization_code, "
		    "refresh_token, client_credentials");
	return set_once(p, k, v);
}

static int
set_auth(struct parser *p, const struct key *k, const char *v)
{
	if (strcmp(v, "client_secret_basic") && strcmp(v, "client_secret_post") &&
	    strcmp(v, "none"))
		return perr(p, "auth must be client_secret_basic, client_secret_post or none");
	return set_once(p, k, v);
}

/* "SOURCE NAME [FORMAT]": the name must not be a synonym of another user field. */
static int
add_attribute(struct parser *p, const struct key *k, const char *v)
{
	char src[32], name[512], fmt[32] = "basic";
	enum attrmap_source s, other;
	struct catalog_attr *a;
	int n = sscanf(v, "%31s %511s %31s", src, name, fmt);

	(void)k;
	if (n < 2 || attrmap_source(src, &s) == -1 || (strcmp(src, "email") &&
	    strcmp(src, "displayName") && strcmp(src, "groups") && strcmp(src, "uid")))
		return perr(p, "attribute SOURCE NAME [basic|uri|unspecified]: SOURCE is email, "
		    "displayName, groups or uid");
	if (catalog_format_uri(fmt) == NULL)
		return perr(p, "attribute %s: the format is basic, uri or unspecified", name);
	if (attrmap_source(name, &other) == 0 && other != s)
		return perr(p, "attribute %s: Sekisho sends another field under that name", name);
	if (p->t->nattrs == CATALOG_MAX_ATTRS)
		return perr(p, "at most %d attribute lines", CATALOG_MAX_ATTRS);
	a = &p->t->attrs[p->t->nattrs++];
	a->source = xstrdup(src);
	a->name = xstrdup(name);
	a->format = xstrdup(catalog_format_uri(fmt));
	return 0;
}

/* "KEY [LABEL]": a value Sekisho gives the admin, with the vendor's name for its field. */
static int
add_paste(struct parser *p, const struct key *k, const char *v)
{
	size_t n = strcspn(v, " \t");
	struct catalog_paste *ps;

	(void)k;
	if (p->t->protocol == NULL)
		return perr(p, "protocol must come before paste");
	if (!catalog_paste_known(p->t->protocol, v, n))
		return perr(p, "paste %.*s: not a value Sekisho gives for %s apps (%s)", (int)n, v,
		    p->t->protocol, catalog_paste_keys(p->t->protocol));
	if (p->t->npaste == CATALOG_MAX_PASTE)
		return perr(p, "at most %d paste lines", CATALOG_MAX_PASTE);
	ps = &p->t->paste[p->t->npaste++];
	ps->key = xstrndup(v, n);
	v += n + strspn(v + n, " \t");
	ps->label = *v ? xstrdup(v) : NULL;
	return 0;
}

static int
add_param(struct parser *p, const struct key *k, const char *v)
{
	size_t n = strlen(v);

	(void)k;
	if (n == 0 || n > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return perr(p, "param NAME: 1-32 characters of a-z 0-9 _");
	if (catalog_param_find(p->t, v, n))
		return perr(p, "param %s declared twice", v);
	if (p->t->nparams == CATALOG_MAX_PARAMS)
		return perr(p, "at most %d parameters", CATALOG_MAX_PARAMS);
	p->t->params[p->t->nparams++].name = xstrdup(v);
	p->param_line = p->line;
	return 0;
}

#define T(m) offsetof(struct catalog_tmpl, m)
static const struct key keys[] = {
	{ "name", NULL, T(name), set_name },
	{ "display_name", NULL, T(display_name), set_once },
	{ "description", NULL, T(description), set_once },
	{ "protocol", NULL, T(protocol), set_protocol },
	{ "setup_url", NULL, T(setup_url), set_setup_url },
	{ "icon", NULL, T(icon), set_icon },
	{ "param", NULL, 0, add_param },
	{ "entity_id", "saml", T(entity_id), set_entity_id },
	{ "acs", "saml", T(acs), add_url },
	{ "slo", "saml", T(slo), set_slo },
	{ "nameid", "saml", T(nameid), set_nameid },
	{ "sign_response", "saml", 0, set_sign_response },
	{ "attribute", "saml", 0, add_attribute },
	{ "redirect_uri", "oidc", T(redirect), add_url },
	{ "post_logout_uri", "oidc", T(logout), add_url },
	{ "grants", "oidc", T(grants), set_grants },
	{ "auth", "oidc", T(auth), set_auth },
	{ "paste", NULL, 0, add_paste },
	{ "note", NULL, T(notes), add_line },
	{ "verified", NULL, T(verified), add_line },
	{ "unverified", NULL, T(unverified), add_line },
	{ NULL, NULL, 0, NULL }
};
#undef T

size_t
catalog_count_off(size_t off)
{
	if (off == offsetof(struct catalog_tmpl, acs))
		return offsetof(struct catalog_tmpl, nacs);
	if (off == offsetof(struct catalog_tmpl, redirect))
		return offsetof(struct catalog_tmpl, nredirect);
	return offsetof(struct catalog_tmpl, nlogout);
}

/* The end of a param block: all of pattern, example and description, and they agree. */
static void
param_end(struct parser *p)
{
	struct catalog_param *pa;
	int line = p->line;

	if (p->param_line == 0)
		return;
	pa = &p->t->params[p->t->nparams - 1];
	p->line = p->param_line;
	p->param_line = 0;
	if (pa->pattern == NULL || pa->example == NULL || pa->description == NULL)
		perr(p, "param %s needs pattern, example and description lines", pa->name);
	else if (regexec(&pa->re, pa->example, 0, NULL, 0) != 0)
		perr(p, "param %s: the example %s does not match its pattern", pa->name,
		    pa->example);
	p->line = line;
}

static int
param_pattern(struct parser *p, struct catalog_param *pa, const char *v)
{
	char *anchored = xasprintf("^(%s)$", v), msg[128];
	int rc = regcomp(&pa->re, anchored, REG_EXTENDED | REG_NOSUB);

	free(anchored);
	if (rc != 0) {
		regerror(rc, &pa->re, msg, sizeof(msg));
		return perr(p, "param %s: bad regular expression %s: %s", pa->name, v, msg);
	}
	pa->pattern = xstrdup(v);
	return 0;
}

/* An indented line of a param block. */
static int
param_line(struct parser *p, const char *key, const char *v)
{
	struct catalog_param *pa;
	char **m;

	if (p->param_line == 0)
		return perr(p, "an indented line belongs to a param block");
	pa = &p->t->params[p->t->nparams - 1];
	m = !strcmp(key, "example") ? &pa->example : !strcmp(key, "description") ?
	    &pa->description : NULL;
	if (!strcmp(key, "optional") && *v == '\0') {
		pa->optional = 1;
		return 0;
	}
	if (!strcmp(key, "pattern") && *v && pa->pattern == NULL)
		return param_pattern(p, pa, v);
	if (m == NULL || *m || *v == '\0')
		return perr(p, "param %s: pattern, example, description once each, or optional "
		    "(%s)", pa->name, key);
	*m = xstrdup(v);
	return 0;
}

static int
top_line(struct parser *p, const char *key, const char *v)
{
	const struct key *k;

	param_end(p);
	for (k = keys; k->name && strcmp(k->name, key); k++)
		;
	if (k->name == NULL)
		return perr(p, "unknown key \"%s\"", key);
	if (*v == '\0')
		return perr(p, "%s needs a value", key);
	if (k->protocol && p->t->protocol == NULL)
		return perr(p, "protocol must come before %s", key);
	if (k->protocol && strcmp(k->protocol, p->t->protocol))
		return perr(p, "%s is a %s key (this template is %s)", key, k->protocol,
		    p->t->protocol);
	return k->fn(p, k, v);
}

/* One line (NUL-terminated, without its newline). */
static void
parse_line(struct parser *p, char *s)
{
	int indented = (*s == ' ' || *s == '\t');
	size_t n;
	char *v;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (*s == '\0' || *s == '#')
		return;
	v = s + strcspn(s, " \t");
	if (*v)
		*v++ = '\0';
	v += strspn(v, " \t");
	if (indented)
		param_line(p, s, v);
	else
		top_line(p, s, v);
}

/* What every template needs, and what its protocol needs. */
static void
check_complete(struct parser *p)
{
	static const char *const common[] = { "name", "display_name", "description",
		"protocol", "setup_url" };
	const struct catalog_tmpl *t = p->t;
	const char *saml = t->protocol && !strcmp(t->protocol, "saml") ? "" : NULL;
	const char *oidc = t->protocol && !strcmp(t->protocol, "oidc") ? "" : NULL;
	const char *const have[] = { t->name, t->display_name, t->description, t->protocol,
		t->setup_url };

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (have[i] == NULL)
			perr(p, "missing required key \"%s\"", common[i]);
	if (saml && (t->entity_id == NULL || t->nacs == 0 || t->nameid == NULL))
		perr(p, "missing required key \"%s\"", t->entity_id == NULL ? "entity_id" :
		    t->nacs == 0 ? "acs" : "nameid");
	if (oidc && t->nredirect == 0)
		perr(p, "missing required key \"redirect_uri\"");
	if (t->npaste == 0)
		perr(p, "missing required key \"paste\"");
	if (t->verified == NULL && t->unverified == NULL)
		perr(p, "missing required key \"verified\" or \"unverified\"");
}

struct catalog_tmpl *
catalog_parse(const char *file, const char *text, struct buf *err)
{
	struct parser p = { .file = file, .err = err };
	char *copy = xstrdup(text), *s = copy;

	p.t = xcalloc(1, sizeof(*p.t));
	p.t->file = xstrdup(file);
	while (*s) {
		size_t n = strcspn(s, "\n");
		char save = s[n];
		s[n] = '\0';
		p.line++;
		parse_line(&p, s);
		s += n + (save == '\n');
	}
	param_end(&p);
	check_complete(&p);
	free(copy);
	if (p.failed) {
		catalog_tmpl_free(p.t);
		return NULL;
	}
	return p.t;
}

static void
free_strs(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

void
catalog_tmpl_free(struct catalog_tmpl *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nparams; i++) {
		struct catalog_param *pa = &t->params[i];
		if (pa->pattern)
			regfree(&pa->re);
		free(pa->name);
		free(pa->pattern);
		free(pa->example);
		free(pa->description);
	}
	for (size_t i = 0; i < t->nattrs; i++) {
		free(t->attrs[i].source);
		free(t->attrs[i].name);
		free(t->attrs[i].format);
	}
	for (size_t i = 0; i < t->npaste; i++) {
		free(t->paste[i].key);
		free(t->paste[i].label);
	}
	free_strs(t->acs, t->nacs);
	free_strs(t->redirect, t->nredirect);
	free_strs(t->logout, t->nlogout);
	free_strs((char *[]){ t->file, t->name, t->display_name, t->description, t->protocol,
	    t->setup_url, t->icon, t->entity_id, t->slo, t->nameid, t->grants, t->auth, t->notes,
	    t->verified, t->unverified }, 15);
	free(t);
}
