/*
 * The prolog check: no NUL, no byte-order mark but UTF-8's where allowed, and the plain
 * XML declaration (xmlprolog.h).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "xmlprolog.h"

/* Byte-order marks of every encoding libxml2 might switch to; UTF-8's first. */
static const struct {
	const char *bytes;
	size_t len;
} boms[] = {
	{ "\xef\xbb\xbf", 3 },		/* UTF-8 */
	{ "\x00\x00\xfe\xff", 4 },	/* UTF-32BE */
	{ "\xff\xfe\x00\x00", 4 },	/* UTF-32LE */
	{ "\xfe\xff", 2 },		/* UTF-16BE */
	{ "\xff\xfe", 2 },		/* UTF-16LE */
	{ "+/v", 3 },			/* UTF-7 */
	{ "\xdd\x73\x66\x73", 4 },	/* UTF-EBCDIC */
	{ "\xf7\x64\x4c", 3 },		/* UTF-1 */
	{ "\x0e\xfe\xff", 3 },		/* SCSU */
	{ "\xfb\xee\x28", 3 },		/* BOCU-1 */
	{ "\x84\x31\x95\x33", 4 },	/* GB 18030 */
};

/* The length of the byte-order mark xml starts with (0: none), its index in *which. */
static size_t
bom_len(const char *xml, size_t len, size_t *which)
{
	for (size_t i = 0; i < sizeof(boms) / sizeof(boms[0]); i++)
		if (len >= boms[i].len && !memcmp(xml, boms[i].bytes, boms[i].len)) {
			*which = i;
			return boms[i].len;
		}
	return 0;
}

static const char *
skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

#define DECL_VALUE_MAX 32

/*
 * One pseudo-attribute of the XML declaration at *p: name, '=' with optional blanks
 * around it, a value in matching quotes.  1 with the value in val, 0 when *p is not
 * name, -1 when malformed.  Moves *p past it.
 */
static int
decl_attr(const char **p, const char *name, char val[DECL_VALUE_MAX])
{
	const char *s = *p, *end;
	size_t n = strlen(name);

	if (strncmp(s, name, n))
		return 0;
	s = skip_blanks(s + n);
	if (*s != '=')
		return -1;
	s = skip_blanks(s + 1);
	if (*s != '"' && *s != '\'')
		return -1;
	end = s + 1 + strspn(s + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-");
	if (*end != *s || (size_t)(end - s - 1) >= DECL_VALUE_MAX)
		return -1;
	memcpy(val, s + 1, (size_t)(end - s - 1));
	val[end - s - 1] = '\0';
	*p = end + 1;
	return 1;
}

/*
 * The XML declaration, if any: anything that libxml2 could take for one must be the plain
 * one, or is refused.
 */
static enum xml_prolog
check_declaration(const char *xml)
{
	char val[DECL_VALUE_MAX];
	const char *p = xml + 5, *q;
	int rc;

	if (strncasecmp(xml, "<?xml", 5))
		return XML_PROLOG_OK;
	if (strncmp(xml, "<?xml", 5) || (q = skip_blanks(p)) == p ||
	    decl_attr(&q, "version", val) != 1 || strcmp(val, "1.0"))
		return XML_PROLOG_DECL;
	p = q;
	if ((q = skip_blanks(p)) != p && (rc = decl_attr(&q, "encoding", val)) != 0) {
		if (rc == -1)
			return XML_PROLOG_DECL;
		if (strcasecmp(val, "UTF-8"))
			return XML_PROLOG_ENCODING;
		p = q;
	}
	if ((q = skip_blanks(p)) != p && (rc = decl_attr(&q, "standalone", val)) != 0) {
		if (rc == -1 || (strcmp(val, "yes") && strcmp(val, "no")))
			return XML_PROLOG_DECL;
		p = q;
	}
	p = skip_blanks(p);
	return p[0] == '?' && p[1] == '>' ? XML_PROLOG_OK : XML_PROLOG_DECL;
}

enum xml_prolog
xml_prolog_check(const char *xml, size_t len, int utf8_bom_ok)
{
	size_t which = 0, skip = bom_len(xml, len, &which);

	if (skip && !(which == 0 && utf8_bom_ok))
		return XML_PROLOG_BOM;
	if (memchr(xml, '\0', len))
		return XML_PROLOG_NUL;
	return check_declaration(xml + skip);
}
