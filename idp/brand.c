/*
 * A tenant's branding on its pages: loaded from the tenant record with the tenant's
 * context, handed to page.c for every page of the tenant, and the two files the header
 * links: the accent colour's stylesheet and the logo, each with an ETag.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brand.h"
#include "contrast.h"
#include "crypto.h"
#include "encode.h"
#include "idp.h"
#include "xmalloc.h"

/* "\"<16 hex digits>\"": the first 8 bytes of the SHA-256 of p. */
static void
etag(const void *p, size_t n, char out[19])
{
	unsigned char h[CRYPTO_SHA256_LEN];

	crypto_sha256(p, n, h);
	out[0] = '"';
	hex_encode(h, 8, out + 1);
	out[17] = '"';
	out[18] = '\0';
}

/*
 * The rules the branding adds to sekisho.css: the accent colour on the header and the
 * buttons, with black or white text on it, whichever reads better (at least 4.58:1),
 * and the logo's size.
 */
static char *
make_css(const char *color)
{
	const char *logo = "header.top img.logo { height: 2rem; width: auto; max-width: 10rem; "
	    "vertical-align: middle; margin-right: .5rem; }\n"
	    "header.top a.help { color: #fff; margin-left: auto; margin-right: 1rem; }\n";
	unsigned rgb, text;

	if (color == NULL || contrast_parse(color, &rgb) == -1)
		return xstrdup(logo);
	text = contrast_text_on(rgb);
	return xasprintf("%sheader.top, header.top a, header.top a.help, header.top a.lang "
	    "{ background: #%06x; color: #%06x; }\nbutton:not(.danger) { background: #%06x; "
	    "color: #%06x; }\n", logo, rgb, text, rgb, text);
}

/* A URL with the ETag's digits as its version, so a change is fetched at once. */
static char *
versioned(const char *path, const char *what, const char *tag)
{
	return xasprintf("%s%s?v=%.16s", path, what, tag + 1);
}

struct tenant_brand *
brand_load(const struct tenant *tr, const char *path)
{
	struct tenant_brand *b;

	if (!tr->display_name && !tr->color && !tr->help_url && !(tr->logo_len && tr->logo_type))
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->name = tr->display_name ? xstrdup(tr->display_name) : NULL;
	b->help_url = tr->help_url ? xstrdup(tr->help_url) : NULL;
	b->css = make_css(tr->color);
	etag(b->css, strlen(b->css), b->css_tag);
	b->css_url = versioned(path, "brand.css", b->css_tag);
	if (tr->logo_len && tr->logo_type) {
		b->logo = xmemdup(tr->logo, tr->logo_len);
		b->logo_len = tr->logo_len;
		b->logo_type = xstrdup(tr->logo_type);
		etag(b->logo, b->logo_len, b->logo_tag);
		b->logo_url = versioned(path, "logo", b->logo_tag);
	}
	b->page = (struct page_brand){ b->name, b->logo_url, b->css_url, b->help_url };
	return b;
}

void
brand_free(struct tenant_brand *b)
{
	if (b == NULL)
		return;
	free(b->name);
	free(b->help_url);
	free(b->logo_url);
	free(b->css_url);
	free(b->css);
	free(b->logo);
	free(b->logo_type);
	free(b);
}

/* 1 when the client holds the version tag names (answered 304, no body), else 0. */
static int
not_modified(struct http_req *req, const char *tag, const char *type)
{
	const char *inm = http_header(req, "If-None-Match");

	http_add_header(req, "ETag", tag);
	http_add_header(req, "Cache-Control", "public, max-age=300");
	if (inm == NULL || strstr(inm, tag) == NULL)
		return 0;
	http_status(req, 304);
	http_body_copy(req, type, "", 0);
	return 1;
}

void
brand_css(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct tenant_brand *b = t->brand;

	if (b == NULL) {
		page_error(idp->pages, req, 404, "error_not_found", NULL);
		return;
	}
	if (!not_modified(req, b->css_tag, "text/css; charset=utf-8"))
		http_body_copy(req, "text/css; charset=utf-8", b->css, strlen(b->css));
}

void
brand_logo(struct idp *idp, struct tenant_ctx *t, struct http_req *req)
{
	const struct tenant_brand *b = t->brand;

	if (b == NULL || b->logo == NULL) {
		page_error(idp->pages, req, 404, "error_not_found", NULL);
		return;
	}
	/* An SVG opened on its own must not run anything in the tenant's origin. */
	http_set_csp(req, "default-src 'none'; style-src 'unsafe-inline'; sandbox");
	if (!not_modified(req, b->logo_tag, b->logo_type))
		http_body_copy(req, b->logo_type, b->logo, b->logo_len);
}
