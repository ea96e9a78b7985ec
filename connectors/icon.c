/*
 * App icons as an administrator uploads them (icon.h).  The portal serves them to every
 * user of the tenant, so an SVG is held to what draws and nothing more: no script, no
 * event attribute, no foreign content, no reference outside the file, no DTD.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zlib.h>

#include "icon.h"
#include "xmlprolog.h"

#define ICON_PIXELS_MAX 1024	/* width and height of a PNG */
#define SVG_NS "http://www.w3.org/2000/svg"

static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
static const unsigned char png_iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D',
	0xae, 0x42, 0x60, 0x82 };

/* ---- PNG ---- */

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The bit depths PNG allows for a colour type (PNG spec, 11.2.2). */
static int
depth_ok(unsigned type, unsigned depth)
{
	switch (type) {
	case 0:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
	case 3:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8;
	case 2:
	case 4:
	case 6:
		return depth == 8 || depth == 16;
	default:
		return 0;
	}
}

static int
png_check(const unsigned char *d, size_t len, const char **errstr)
{
	const unsigned char *ihdr = d + 16;	/* after the signature, length and type */
	uint32_t w, h;

	if (len < 8 + 25 + 12 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0) {
		*errstr = "PNG does not start with an IHDR header";
		return -1;
	}
	if (be32(ihdr + 13) != (uint32_t)crc32(0, d + 12, 17)) {
		*errstr = "PNG header has a bad CRC";
		return -1;
	}
	w = be32(ihdr);
	h = be32(ihdr + 4);
	if (w == 0 || h == 0 || w > ICON_PIXELS_MAX || h > ICON_PIXELS_MAX) {
		*errstr = "PNG must be 1 to 1024 pixels wide and high";
		return -1;
	}
	if (!depth_ok(ihdr[9], ihdr[8]) || ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1) {
		*errstr = "PNG header has an invalid bit depth, colour type or method";
		return -1;
	}
	if (memcmp(d + len - sizeof(png_iend), png_iend, sizeof(png_iend)) != 0) {
		*errstr = "PNG does not end with IEND (truncated?)";
		return -1;
	}
	return 0;
}

/* ---- SVG ---- */

/* Elements that run, embed or load something, refused by name in any namespace. */
static const struct {
	const char *name;
	const char *why;
} bad_elements[] = {
	{ "script", "SVG has a script element" },
	{ "foreignObject", "SVG has a foreignObject element" },
	{ "iframe", "SVG has an iframe element" },
	{ "embed", "SVG has an embed element" },
	{ "object", "SVG has an object element" },
	{ "handler", "SVG has a handler element" },
	{ "listener", "SVG has a listener element" },
};

static int
is_svg_ns(const xmlNode *n)
{
	return n->ns && n->ns->href && strcmp((const char *)n->ns->href, SVG_NS) == 0;
}

/* What the element itself is, before its attributes: NULL when it may stay. */
static const char *
element_refusal(const xmlNode *n)
{
	for (size_t i = 0; i < sizeof(bad_elements) / sizeof(bad_elements[0]); i++)
		if (strcasecmp((const char *)n->name, bad_elements[i].name) == 0)
			return bad_elements[i].why;
	if (!is_svg_ns(n))
		return "SVG has an element outside the SVG namespace";
	return NULL;
}

/* "#id": a reference into this file, nothing else. */
static int
local_fragment(const char *v)
{
	if (v[0] != '#' || v[1] == '\0')
		return 0;
	for (v++; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr("_-.:", *v))
			return 0;
	return 1;
}

/* Every url( in s points at "#id" (optionally quoted), and nothing is imported. */
static int
css_local(const char *s)
{
	static const char *const loaders[] = { "@import", "image-set(", "src(" };
	const char *p;

	if (strchr(s, '\\'))	/* CSS escapes could spell url( or @import */
		return 0;
	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++)
		if (strcasestr(s, loaders[i]))
			return 0;
	for (p = s; (p = strcasestr(p, "url(")) != NULL; p += 4)
		if (p[4 + strspn(p + 4, " \t\r\n\"'")] != '#')
			return 0;
	return 1;
}

/* An animation that would rewrite a link, a style or an event handler. */
static int
animates_danger(const xmlNode *n, const char *attr, const char *v)
{
	static const char *const anim[] = { "set", "animate", "animateTransform",
		"animateMotion", "animateColor" };
	int is_anim = 0;

	for (size_t i = 0; i < sizeof(anim) / sizeof(anim[0]); i++)
		is_anim |= strcmp((const char *)n->name, anim[i]) == 0;
	if (!is_anim || strcmp(attr, "attributeName") != 0)
		return 0;
	if (strchr(v, ':'))
		v = strchr(v, ':') + 1;
	return strcasecmp(v, "href") == 0 || strcasecmp(v, "style") == 0 ||
	    strncasecmp(v, "on", 2) == 0;
}

static const char *
attr_refusal(const xmlNode *n, const char *name, const char *v)
{
	if (strncasecmp(name, "on", 2) == 0)
		return "SVG has an event attribute (on...)";
	if (strcasecmp(name, "href") == 0 && !local_fragment(v))
		return "SVG has a reference outside the file (href other than #id)";
	if (strcasecmp(name, "base") == 0)	/* xml:base would move "#id" elsewhere */
		return "SVG has a reference outside the file (xml:base)";
	if ((strcasestr(v, "url(") || strcasecmp(name, "style") == 0) && !css_local(v))
		return "SVG style loads something (url( or @import)";
	if (animates_danger(n, name, v))
		return "SVG animates a link, a style or an event attribute";
	return NULL;
}

static const char *
attrs_refusal(const xmlNode *n)
{
	const char *why = NULL;

	for (const xmlAttr *a = n->properties; a && why == NULL; a = a->next) {
		xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
		why = attr_refusal(n, (const char *)a->name, v ? (const char *)v : "");
		xmlFree(v);
	}
	return why;
}

/* The text of a <style> element (CSS). */
static const char *
style_refusal(const xmlNode *n)
{
	xmlChar *css;
	const char *why = NULL;

	if (strcmp((const char *)n->name, "style") != 0)
		return NULL;
	css = xmlNodeGetContent(n);
	if (css && !css_local((const char *)css))
		why = "SVG style loads something (url( or @import)";
	xmlFree(css);
	return why;
}

static const char *
node_refusal(const xmlNode *n)
{
	const char *why;

	switch (n->type) {
	case XML_ELEMENT_NODE:
		break;
	case XML_PI_NODE:	/* <?xml-stylesheet href=...?> loads a style sheet */
		return "SVG has a processing instruction";
	case XML_ENTITY_REF_NODE:
	case XML_ENTITY_NODE:
	case XML_DTD_NODE:
		return "SVG has a DTD or an entity";
	default:
		return NULL;
	}
	if ((why = element_refusal(n)) != NULL || (why = attrs_refusal(n)) != NULL)
		return why;
	if ((why = style_refusal(n)) != NULL)
		return why;
	for (const xmlNode *c = n->children; c; c = c->next)
		if ((why = node_refusal(c)) != NULL)
			return why;
	return NULL;
}

static const char *
doc_refusal(const xmlDoc *doc)
{
	const xmlNode *root = xmlDocGetRootElement((xmlDoc *)doc);
	const char *why;

	if (doc->intSubset || doc->extSubset)
		return "SVG has a DTD";
	if (root == NULL || !is_svg_ns(root) || strcmp((const char *)root->name, "svg") != 0)
		return "SVG root is not an svg element in the SVG namespace";
	for (const xmlNode *n = doc->children; n; n = n->next)
		if ((why = node_refusal(n)) != NULL)
			return why;
	return NULL;
}

static int
svg_check(const char *d, size_t len, const char **errstr)
{
	xmlDoc *doc;

	if (xml_prolog_check(d, len, 1) != XML_PROLOG_OK) {
		*errstr = "SVG is not plain UTF-8 XML (byte-order mark, NUL or encoding)";
		return -1;
	}
	/* Refused before parsing: no DTD work at all, so no entity expansion either. */
	if (memmem(d, len, "<!DOCTYPE", 9) || memmem(d, len, "<!ENTITY", 8)) {
		*errstr = "SVG has a DTD";
		return -1;
	}
	doc = xmlReadMemory(d, (int)len, "icon.svg", "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		*errstr = "SVG is not well-formed XML";
		return -1;
	}
	*errstr = doc_refusal(doc);
	xmlFreeDoc(doc);
	return *errstr ? -1 : 0;
}

int
icon_check(const void *data, size_t len, const char **type_r, const char **errstr)
{
	const unsigned char *d = data;

	if (len == 0) {
		*errstr = "the icon file is empty";
		return -1;
	}
	if (len > ICON_MAX) {
		*errstr = "larger than 64 KiB";
		return -1;
	}
	if (len >= sizeof(png_sig) && memcmp(d, png_sig, sizeof(png_sig)) == 0) {
		*type_r = "image/png";
		return png_check(d, len, errstr);
	}
	if (memchr(d, '<', len) == NULL) {
		*errstr = "not a PNG or SVG image";
		return -1;
	}
	*type_r = "image/svg+xml";
	return svg_check(data, len, errstr);
}
