/*
 * Unit tests for lib/xmlprolog.c: byte-order marks of every encoding libxml2 might switch
 * to (UTF-8's only where allowed), NUL bytes, and the XML declaration: UTF-8 or nothing,
 * in the one plain form that this check and libxml2 read alike.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xmalloc.h"
#include "xmlprolog.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DOC "<md:EntityDescriptor entityID=\"https://sp.example.org/\"/>"

static enum xml_prolog
check(const char *xml, int utf8_bom_ok)
{
	return xml_prolog_check(xml, strlen(xml), utf8_bom_ok);
}

/* A mark, then a document in code units of width bytes (1, 2 or 4). */
static void
test_xmlprolog_byte_order_marks(void **state)
{
	static const struct {
		const char *name, *bom;
		size_t len;
		int width;
		int big_endian;
	} cases[] = {
		{ "UTF-8", "\xef\xbb\xbf", 3, 1, 0 },
		{ "UTF-16LE", "\xff\xfe", 2, 2, 0 },
		{ "UTF-16BE", "\xfe\xff", 2, 2, 1 },
		{ "UTF-32LE", "\xff\xfe\x00\x00", 4, 4, 0 },
		{ "UTF-32BE", "\x00\x00\xfe\xff", 4, 4, 1 },
		{ "UTF-16LE before ASCII", "\xff\xfe", 2, 1, 0 },
		{ "UTF-7 +/v8", "+/v8", 4, 1, 0 },
		{ "UTF-7 +/v9", "+/v9", 4, 1, 0 },
		{ "UTF-7 +/v+", "+/v+", 4, 1, 0 },
		{ "UTF-7 +/v/", "+/v/", 4, 1, 0 },
		{ "UTF-7 +/v8-", "+/v8-", 5, 1, 0 },
		{ "UTF-EBCDIC", "\xdd\x73\x66\x73", 4, 1, 0 },
		{ "UTF-1", "\xf7\x64\x4c", 3, 1, 0 },
		{ "SCSU", "\x0e\xfe\xff", 3, 1, 0 },
		{ "BOCU-1", "\xfb\xee\x28", 3, 1, 0 },
		{ "GB 18030", "\x84\x31\x95\x33", 4, 1, 0 },
	};
	size_t n = strlen(DOC);

	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t w = (size_t)cases[i].width, len = cases[i].len + n * w;
		char *doc = xcalloc(len + 1, 1);
		int utf8 = !strcmp(cases[i].name, "UTF-8");

		memcpy(doc, cases[i].bom, cases[i].len);
		for (size_t j = 0; j < n; j++)
			doc[cases[i].len + j * w + (cases[i].big_endian ? w - 1 : 0)] = DOC[j];
		for (int ok = 0; ok < 2; ok++) {
			enum xml_prolog want = utf8 && ok ? XML_PROLOG_OK : XML_PROLOG_BOM;

			if (xml_prolog_check(doc, len, ok) != want)
				fail_msg("BOM %s (UTF-8's allowed: %d): %d", cases[i].name, ok,
				    xml_prolog_check(doc, len, ok));
		}
		free(doc);
	}
}

/* After an allowed UTF-8 mark, the declaration is checked as without one. */
static void
test_xmlprolog_utf8_bom_then_declaration(void **state)
{
	assert_int_equal(check("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-7\"?>" DOC,
	    1), XML_PROLOG_ENCODING);
	assert_int_equal(check("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>" DOC,
	    1), XML_PROLOG_OK);
	assert_int_equal(check("\xef\xbb\xbf\xef\xbb\xbf" DOC, 1), XML_PROLOG_OK);
}

static void
test_xmlprolog_nul(void **state)
{
	char doc[] = "<a>x</a>";

	doc[3] = '\0';
	assert_int_equal(xml_prolog_check(doc, sizeof(doc) - 1, 1), XML_PROLOG_NUL);
	assert_int_equal(check(DOC, 0), XML_PROLOG_OK);
	assert_int_equal(check("", 0), XML_PROLOG_OK);
}

/* libxml2 honours the declaration; this check reads UTF-8 whatever is declared. */
static void
test_xmlprolog_declaration(void **state)
{
	static const char *const accepted[] = {
		"<?xml version=\"1.0\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>",
		"<?xml version='1.0' encoding='Utf-8' standalone='yes'?>",
		"<?xml version=\"1.0\" standalone=\"no\"?>",
		"<?xml version = \"1.0\"  encoding = \"UTF-8\" ?>",
		"<?xml\tversion=\"1.0\"\r\nencoding=\"UTF-8\"\n?>\n",
	};
	static const char *const other_encoding[] = {
		"<?xml version=\"1.0\" encoding=\"UTF-7\"?>",
		"<?xml version=\"1.0\" encoding=\"utf-7\"?>",
		"<?xml version=\"1.0\" encoding=\"uTf-7\"?>",
		"<?xml version='1.0' encoding='UTF-7'?>",
		"<?xml version=\"1.0\" encoding = 'UTF-7' ?>",
		"<?xml\tversion=\"1.0\"\nencoding\r\n=\t\"UTF-7\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-7\" standalone=\"yes\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-7\" encoding=\"UTF-8\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-32\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF8\"?>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
		"<?xml version=\"1.0\" encoding=\"US-ASCII\"?>",
		"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>",
		"<?xml version=\"1.0\" encoding=\"EBCDIC-US\"?>",
		"<?xml version=\"1.0\" encoding=\"x-unknown\"?>",
		"<?xml version=\"1.0\" encoding=\"\"?>",
	};
	static const char *const malformed[] = {
		"<?xml version=\"1.0\"encoding=\"UTF-7\"?>",
		"<?xml encoding=\"UTF-7\"?>",
		"<?xml version=\"1.0\" standalone=\"yes\" encoding=\"UTF-7\"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\" encoding=\"UTF-7\"?>",
		"<?xml version=\"1.0\" Encoding=\"UTF-7\"?>",
		"<?xml version=\"1.0\" encoding=UTF-7?>",
		"<?xml version=\"1.0\" encoding=\"UTF-7'?>",
		"<?xml version=\"1.0\" encoding=\"UTF-8 \"?>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\">",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"? >",
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\" encoding=\"UTF-7\"?>",
		"<?xml version=\"1.1\" encoding=\"UTF-7\"?>",
		"<?xml version=\"1.0\" standalone=\"maybe\"?>",
		"<?XML version=\"1.0\" encoding=\"UTF-7\"?>",
		"<?Xml version=\"1.0\" encoding=\"UTF-7\"?>",
		"<?xml?>",
		"<?xml-stylesheet href=\"x\"?>",
	};
	static const struct {
		const char *const *v;
		size_t n;
		enum xml_prolog want;
	} sets[] = {
		{ accepted, NELEM(accepted), XML_PROLOG_OK },
		{ other_encoding, NELEM(other_encoding), XML_PROLOG_ENCODING },
		{ malformed, NELEM(malformed), XML_PROLOG_DECL },
	};

	for (size_t s = 0; s < NELEM(sets); s++)
		for (size_t i = 0; i < sets[s].n; i++) {
			char *t = xasprintf("%s%s", sets[s].v[i], DOC);
			enum xml_prolog got = check(t, 0);

			if (got != sets[s].want)
				fail_msg("%s: %d, want %d", sets[s].v[i], got, sets[s].want);
			free(t);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xmlprolog_byte_order_marks),
		cmocka_unit_test(test_xmlprolog_utf8_bom_then_declaration),
		cmocka_unit_test(test_xmlprolog_nul),
		cmocka_unit_test(test_xmlprolog_declaration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
