/*
 * Unit tests for connectors/icon.c: tables of PNG headers (built here, with real CRCs) and
 * SVG documents that the portal may serve, or must not because they run or load something.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "icon.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct png_spec {
	const char *what;
	uint32_t w, h;
	unsigned char depth, type, interlace;
	int bad_crc, no_iend, ihdr_len;
	const char *err;	/* NULL: accepted */
};

static unsigned char *
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

/* A chunk at p: length, type, data, CRC (off by one when bad); returns the end. */
static unsigned char *
chunk(unsigned char *p, const char *type, const unsigned char *data, uint32_t len, int bad)
{
	unsigned char *start = p + 4;

	p = put32(p, len);
	memcpy(p, type, 4);
	if (len)
		memcpy(p + 4, data, len);
	p += 4 + len;
	return put32(p, (uint32_t)crc32(0, start, 4 + len) + (bad ? 1 : 0));
}

static size_t
make_png(const struct png_spec *s, unsigned char *out)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	static const unsigned char idat[] = { 0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x01 };
	unsigned char ihdr[13], *p = out + 8;

	memcpy(out, sig, 8);
	put32(ihdr, s->w);
	put32(ihdr + 4, s->h);
	ihdr[8] = s->depth;
	ihdr[9] = s->type;
	ihdr[10] = 0;
	ihdr[11] = 0;
	ihdr[12] = s->interlace;
	p = chunk(p, "IHDR", ihdr, s->ihdr_len ? (uint32_t)s->ihdr_len : 13, s->bad_crc);
	p = chunk(p, "IDAT", idat, sizeof(idat), 0);
	if (!s->no_iend)
		p = chunk(p, "IEND", NULL, 0, 0);
	return (size_t)(p - out);
}

static void
test_icon_png_table(void **state)
{
	static const struct png_spec cases[] = {
		{ "1x1 grey", 1, 1, 8, 0, 0, 0, 0, 0, NULL },
		{ "64x64 RGBA", 64, 64, 8, 6, 0, 0, 0, 0, NULL },
		{ "1024x1024 palette, interlaced", 1024, 1024, 4, 3, 1, 0, 0, 0, NULL },
		{ "16-bit RGB", 32, 32, 16, 2, 0, 0, 0, 0, NULL },
		{ "zero width", 0, 16, 8, 6, 0, 0, 0, 0, "PNG must be 1 to 1024" },
		{ "too high", 16, 1025, 8, 6, 0, 0, 0, 0, "PNG must be 1 to 1024" },
		{ "huge", 65535, 65535, 8, 6, 0, 0, 0, 0, "PNG must be 1 to 1024" },
		{ "RGB at 4 bits", 16, 16, 4, 2, 0, 0, 0, 0, "invalid bit depth" },
		{ "palette at 16 bits", 16, 16, 16, 3, 0, 0, 0, 0, "invalid bit depth" },
		{ "colour type 5", 16, 16, 8, 5, 0, 0, 0, 0, "invalid bit depth" },
		{ "interlace 2", 16, 16, 8, 6, 2, 0, 0, 0, "invalid bit depth" },
		{ "bad IHDR CRC", 16, 16, 8, 6, 0, 1, 0, 0, "bad CRC" },
		{ "no IEND", 16, 16, 8, 6, 0, 0, 1, 0, "IEND" },
		{ "IHDR of 12 bytes", 16, 16, 8, 6, 0, 0, 0, 12, "IHDR" },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		unsigned char png[128];
		size_t len = make_png(&cases[i], png);
		const char *type = NULL, *err = NULL;
		int rc = icon_check(png, len, &type, &err);

		if ((rc == 0) != (cases[i].err == NULL) ||
		    (rc == -1 && strstr(err, cases[i].err) == NULL))
			print_error("%s: rc %d (%s)\n", cases[i].what, rc, rc ? err : "");
		assert_int_equal(rc, cases[i].err ? -1 : 0);
		if (rc == 0)
			assert_string_equal(type, "image/png");
		else
			assert_non_null(strstr(err, cases[i].err));
	}
}

#define SVG_OPEN "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">"
#define XLINK "xmlns:xlink=\"http://www.w3.org/1999/xlink\" "

static const struct {
	const char *what;
	const char *svg;
	const char *err;	/* NULL: accepted */
} svg_cases[] = {
	{ "a circle", SVG_OPEN "<circle cx=\"8\" cy=\"8\" r=\"7\" fill=\"#c00\"/></svg>", NULL },
	{ "with XML declaration and comment",
	  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- logo -->\n" SVG_OPEN
	  "<title>勤怠</title><path d=\"M0 0L16 16\"/></svg>", NULL },
	{ "local gradient by url(#id)", SVG_OPEN "<defs><linearGradient id=\"g\"><stop "
	  "offset=\"0\" stop-color=\"red\"/></linearGradient></defs>"
	  "<rect width=\"16\" height=\"16\" fill=\"url(#g)\" style=\"stroke: url( '#g' )\"/>"
	  "</svg>", NULL },
	{ "use of a local symbol", "<svg xmlns=\"http://www.w3.org/2000/svg\" " XLINK ">"
	  "<symbol id=\"s\"><circle r=\"2\"/></symbol><use xlink:href=\"#s\"/>"
	  "<use href=\"#s\"/></svg>", NULL },
	{ "a style element drawing only", SVG_OPEN "<style>circle { fill: red; }</style>"
	  "<circle r=\"3\"/></svg>", NULL },
	{ "an animation of a colour", SVG_OPEN "<rect width=\"4\" height=\"4\"><animate "
	  "attributeName=\"fill\" from=\"red\" to=\"blue\" dur=\"1s\"/></rect></svg>", NULL },
	{ "script", SVG_OPEN "<script>alert(1)</script></svg>", "script element" },
	{ "script in CDATA", SVG_OPEN "<script><![CDATA[alert(1)]]></script></svg>",
	  "script element" },
	{ "onload", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
	  "event attribute" },
	{ "ONCLICK on a child", SVG_OPEN "<rect ONCLICK=\"x()\"/></svg>", "event attribute" },
	{ "onbegin of an animation", SVG_OPEN "<animate onbegin=\"x()\"/></svg>",
	  "event attribute" },
	{ "foreignObject", SVG_OPEN "<foreignObject><div xmlns=\"http://www.w3.org/1999/xhtml\">"
	  "x</div></foreignObject></svg>", "foreignObject" },
	{ "iframe in XHTML", SVG_OPEN "<iframe xmlns=\"http://www.w3.org/1999/xhtml\" "
	  "src=\"https://evil.example/\"/></svg>", "iframe" },
	{ "embed", SVG_OPEN "<embed src=\"x.swf\"/></svg>", "embed element" },
	{ "object", SVG_OPEN "<object data=\"x\"/></svg>", "object element" },
	{ "element of another namespace", SVG_OPEN "<x:b xmlns:x=\"urn:x\"/></svg>",
	  "outside the SVG namespace" },
	{ "element without namespace", "<svg xmlns=\"http://www.w3.org/2000/svg\">"
	  "<g xmlns=\"\"/></svg>", "outside the SVG namespace" },
	{ "XInclude", SVG_OPEN "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
	  "href=\"/etc/passwd\"/></svg>", "outside the SVG namespace" },
	{ "external image", SVG_OPEN "<image href=\"https://evil.example/a.png\"/></svg>",
	  "href other than #id" },
	{ "data: image", SVG_OPEN "<image href=\"data:image/png;base64,AAAA\"/></svg>",
	  "href other than #id" },
	{ "javascript: link", "<svg xmlns=\"http://www.w3.org/2000/svg\" " XLINK ">"
	  "<a xlink:href=\"javascript:alert(1)\"><rect/></a></svg>", "href other than #id" },
	{ "use of another file", SVG_OPEN "<use href=\"other.svg#s\"/></svg>",
	  "href other than #id" },
	{ "empty href", SVG_OPEN "<use href=\"\"/></svg>", "href other than #id" },
	{ "xml:base", "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	  "xml:base=\"https://evil.example/\"><use href=\"#s\"/></svg>", "xml:base" },
	{ "external url() attribute", SVG_OPEN "<rect fill=\"url(https://evil.example/#g)\"/>"
	  "</svg>", "url(" },
	{ "external url() in style attribute", SVG_OPEN "<rect style=\"fill: URL(//evil/x)\"/>"
	  "</svg>", "url(" },
	{ "@import in a style element", SVG_OPEN "<style>@import 'https://evil.example/a.css';"
	  "</style></svg>", "@import" },
	{ "url() in a style element", SVG_OPEN "<style>rect { background: url(https://e/x) }"
	  "</style></svg>", "url(" },
	{ "CSS escape in a style", SVG_OPEN "<style>rect { background: \\75rl(x) }</style></svg>",
	  "url(" },
	{ "image-set() in a style", SVG_OPEN "<rect style=\"background: image-set('x' 1x)\"/>"
	  "</svg>", "url(" },
	{ "animated href", SVG_OPEN "<a href=\"#a\"><set attributeName=\"href\" "
	  "to=\"javascript:alert(1)\"/></a></svg>", "animates" },
	{ "animated xlink:href", SVG_OPEN "<a><animate attributeName=\"xlink:href\" "
	  "values=\"javascript:x()\"/></a></svg>", "animates" },
	{ "xml-stylesheet", "<?xml version=\"1.0\"?>"
	  "<?xml-stylesheet href=\"https://evil.example/a.css\"?>" SVG_OPEN "</svg>",
	  "processing instruction" },
	{ "DTD", "<!DOCTYPE svg [<!ENTITY a \"b\">]>" SVG_OPEN "&a;</svg>", "DTD" },
	{ "external DTD", "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
	  "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">" SVG_OPEN "</svg>", "DTD" },
	{ "root without namespace", "<svg><circle r=\"1\"/></svg>", "root is not" },
	{ "root of another name", "<html xmlns=\"http://www.w3.org/2000/svg\"/>", "root is not" },
	{ "not well-formed", SVG_OPEN "<circle></svg>", "not well-formed" },
	{ "UTF-16 declared", "<?xml version=\"1.0\" encoding=\"UTF-16\"?>" SVG_OPEN "</svg>",
	  "UTF-8" },
	{ "neither PNG nor SVG", "GIF89a", "not a PNG or SVG" },
};

static void
test_icon_svg_table(void **state)
{
	for (size_t i = 0; i < NELEM(svg_cases); i++) {
		const char *type = NULL, *err = NULL, *want = svg_cases[i].err;
		int rc = icon_check(svg_cases[i].svg, strlen(svg_cases[i].svg), &type, &err);

		if ((rc == 0) != (want == NULL) || (rc == -1 && strstr(err, want) == NULL))
			print_error("%s: rc %d (%s)\n", svg_cases[i].what, rc, rc ? err : "");
		assert_int_equal(rc, want ? -1 : 0);
		if (rc == 0)
			assert_string_equal(type, "image/svg+xml");
		else
			assert_non_null(strstr(err, want));
	}
}

static void
test_icon_size_limits(void **state)
{
	size_t len = ICON_MAX + 1;
	char *big = malloc(len);
	const char *type, *err = NULL;
	static const char nul[] = SVG_OPEN "\0</svg>";

	assert_non_null(big);
	memset(big, ' ', len);
	memcpy(big, SVG_OPEN, strlen(SVG_OPEN));
	memcpy(big + len - 6, "</svg>", 6);
	assert_int_equal(icon_check(big, len, &type, &err), -1);
	assert_string_equal(err, "larger than 64 KiB");
	/* The same document one byte shorter is fine. */
	memcpy(big + len - 7, "</svg> ", 7);
	assert_int_equal(icon_check(big, len - 1, &type, &err), 0);
	free(big);
	assert_int_equal(icon_check("", 0, &type, &err), -1);
	assert_int_equal(icon_check(nul, sizeof(nul) - 1, &type, &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icon_png_table),
		cmocka_unit_test(test_icon_svg_table),
		cmocka_unit_test(test_icon_size_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
