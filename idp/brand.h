/*
 * A tenant's branding as its pages show it: the company's name, logo and help link in
 * every page's header, and the accent colour as a small stylesheet of its own
 * (/t/T/brand.css) so that no page needs an inline style.  Loaded with the tenant's
 * context: a change through the store moves the generation and the next request sees it.
 */
#ifndef SEKISHO_BRAND_H
#define SEKISHO_BRAND_H

#include <stddef.h>

#include "http.h"
#include "page.h"
#include "store.h"

struct idp;
struct tenant_ctx;

struct tenant_brand {
	struct page_brand page;	/* what page.c shows; points into the members below */
	char *name, *help_url, *logo_url, *css_url;
	char *css;		/* the stylesheet */
	char css_tag[19];	/* its ETag ("..." of 16 hex digits) */
	unsigned char *logo;
	size_t logo_len;
	char *logo_type;
	char logo_tag[19];
};

/* The branding of tr for the tenant whose pages are under path ("/t/ID/"): new, or NULL
 * when the tenant has none. */
struct tenant_brand *brand_load(const struct tenant *tr, const char *path);
void brand_free(struct tenant_brand *b);
/* GET /t/T/brand.css and /t/T/logo (anyone may fetch them: the login page shows them). */
void brand_css(struct idp *idp, struct tenant_ctx *t, struct http_req *req);
void brand_logo(struct idp *idp, struct tenant_ctx *t, struct http_req *req);

#endif
