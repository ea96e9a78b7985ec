/*
 * Pages people see: templates rendered in Japanese or English (a cookie set by the
 * language switch, then Accept-Language), error pages, the auto-submitting POST form and
 * the stylesheet.
 */
#ifndef SEKISHO_PAGE_H
#define SEKISHO_PAGE_H

#include "http.h"
#include "tmpl.h"

struct pages;

/* Built-in templates, each replaced by a file of the same name in override_dir if present. */
struct pages *pages_load(const char *override_dir, const char **errstr);
void pages_free(struct pages *p);

/* What a tenant's pages show of the company (NULL members: nothing of that). */
struct page_brand {
	const char *name;	/* instead of the product's name */
	const char *logo_url;
	const char *css_url;	/* the accent colour's stylesheet */
	const char *help_url;
};
/*
 * Every page of this request shows b (borrowed: it must live as long as the request's
 * pages are made).  Kept as the request's data (http_set_data).
 */
void page_set_brand(struct http_req *req, const struct page_brand *b);

/* "ja" or "en" for this request; a ?lang= switch sets the language cookie. */
const char *page_lang(struct http_req *req);
/* A message in lang (borrowed); the key itself when unknown. */
const char *page_msg(const struct pages *p, const char *lang, const char *key);
/* Render template name with v (common values are added) as the response. */
void page_render(const struct pages *p, struct http_req *req, int status, const char *name,
    struct tmpl_vars *v);
/* An error page: status, message key, optional hint key. */
void page_error(const struct pages *p, struct http_req *req, int status, const char *msgkey,
    const char *hintkey);
/*
 * The page that POSTs field=value (and RelayState) to action in the browser.  The CSP
 * allows exactly that form target and the page's own script.
 */
void page_post(const struct pages *p, struct http_req *req, const char *action,
    const char *field, const char *value, const char *relay_state);
/* The same with n fields (NULL values are left out). */
void page_post_fields(const struct pages *p, struct http_req *req, const char *action,
    const char *const *names, const char *const *values, size_t n);
/* Render a template as text into out (no page values added); 0 or -1. */
int page_render_text(const struct pages *p, const char *name, const struct tmpl_vars *v,
    struct buf *out);
/*
 * This page loads Sekisho's own script (/static/webauthn.js): the default policy plus
 * script-src 'self' (still no inline script).
 */
void page_allow_script(struct http_req *req);
/* Serve a built-in static file (the stylesheet, the WebAuthn script); 404 otherwise. */
void page_static(const struct pages *p, struct http_req *req, const char *name);

#endif
