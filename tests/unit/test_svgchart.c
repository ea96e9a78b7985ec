/*
 * Unit tests for lib/svgchart.c: the chart parses as XML (libxml2) with role="img" and
 * its <title>/<desc> named by aria-labelledby; labels and names are escaped; there is no
 * script, no event or style attribute; stacked bars have one rectangle per non-zero
 * segment with heights in proportion; every k-th x label (today's always); bad input NULL.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "svgchart.h"

static const char *const labels[] = { "11-30", "12-01", "<b>&\"'", "12-03" };
static const uint64_t ok[] = { 3, 0, 7, 10 };
static const uint64_t refused[] = { 1, 0, 0, 5 };

static xmlDoc *
parse(const char *svg)
{
	xmlDoc *doc = xmlReadMemory(svg, (int)strlen(svg), "chart.svg", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	assert_non_null(doc);
	return doc;
}

static char *
prop(xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? strdup((const char *)v) : NULL;

	xmlFree(v);
	return s;
}

struct census {
	int rects, texts, titles, scripts, bad_attrs;
	double heights[16];
	char fills[16][8];
	char text[2048];	/* the texts of <text> elements, '|' between them */
};

static void
count(xmlNode *n, struct census *c)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		const char *name = (const char *)n->name;

		for (xmlAttr *a = n->properties; a; a = a->next)
			if (!strncasecmp((const char *)a->name, "on", 2) ||
			    !strcasecmp((const char *)a->name, "style") ||
			    !strcasecmp((const char *)a->name, "href"))
				c->bad_attrs++;
		if (!strcmp(name, "script") || !strcmp(name, "foreignObject"))
			c->scripts++;
		if (!strcmp(name, "title"))
			c->titles++;
		if (!strcmp(name, "rect") && c->rects < 16) {
			char *h = prop(n, "height"), *f = prop(n, "fill");

			c->heights[c->rects] = atof(h);
			snprintf(c->fills[c->rects], sizeof(c->fills[0]), "%s", f);
			free(h);
			free(f);
			c->rects++;
		}
		if (!strcmp(name, "text")) {
			xmlChar *t = xmlNodeGetContent(n);
			size_t len = strlen(c->text);

			snprintf(c->text + len, sizeof(c->text) - len, "%s|", (const char *)t);
			xmlFree(t);
			c->texts++;
		}
		count(n->children, c);
	}
}

static struct svgchart
stacked(const struct svgchart_series *series)
{
	struct svgchart c = { .id = "logins", .title = "Logins <30 days>",
		.desc = "20 ok & 6 refused", .n = 4, .labels = labels, .n_series = 2,
		.series = series };

	return c;
}

static void
test_svgchart_well_formed(void **state)
{
	const struct svgchart_series series[] = { { "ok", ok }, { "refused & <x>", refused } };
	struct svgchart c = stacked(series);
	char *svg = svgchart_bars(&c), *v;
	xmlDoc *doc;
	xmlNode *root, *n;

	(void)state;
	assert_non_null(svg);
	assert_null(strstr(svg, "<b>"));
	assert_non_null(strstr(svg, "&lt;b&gt;&amp;&quot;&#39;"));
	doc = parse(svg);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "svg");
	assert_string_equal((const char *)root->ns->href, "http://www.w3.org/2000/svg");
	v = prop(root, "role");
	assert_string_equal(v, "img");
	free(v);
	v = prop(root, "aria-labelledby");
	assert_string_equal(v, "logins-title logins-desc");
	free(v);
	n = root->children;
	assert_string_equal((const char *)n->name, "title");
	v = prop(n, "id");
	assert_string_equal(v, "logins-title");
	free(v);
	v = (char *)xmlNodeGetContent(n);
	assert_string_equal(v, "Logins <30 days>");
	xmlFree(v);
	n = n->next;
	assert_string_equal((const char *)n->name, "desc");
	v = (char *)xmlNodeGetContent(n);
	assert_string_equal(v, "20 ok & 6 refused");
	xmlFree(v);
	xmlFreeDoc(doc);
	free(svg);
}

static void
test_svgchart_no_script(void **state)
{
	const struct svgchart_series series[] = { { "\" onload=\"alert(1)", ok },
		{ "<script>alert(1)</script>", refused } };
	struct svgchart c = stacked(series);
	char *svg = svgchart_bars(&c);
	struct census cs = { 0 };
	xmlDoc *doc = parse(svg);

	(void)state;
	count(xmlDocGetRootElement(doc), &cs);
	assert_int_equal(cs.scripts, 0);
	assert_int_equal(cs.bad_attrs, 0);
	/* the names are there as text, harmless */
	assert_non_null(strstr(cs.text, "<script>alert(1)</script>|"));
	xmlFreeDoc(doc);
	free(svg);
}

static void
test_svgchart_stacked_bars(void **state)
{
	const struct svgchart_series series[] = { { "ok", ok }, { "refused", refused } };
	struct svgchart c = stacked(series);
	char *svg = svgchart_bars(&c);
	struct census cs = { 0 };
	xmlDoc *doc = parse(svg);

	(void)state;
	count(xmlDocGetRootElement(doc), &cs);
	/* 2 legend squares, then 3+1 (3, 1), 0, 7, 10+5 */
	assert_int_equal(cs.rects, 2 + 2 + 1 + 2);
	assert_string_equal(cs.fills[2], cs.fills[0]);
	assert_string_equal(cs.fills[3], cs.fills[1]);
	assert_string_not_equal(cs.fills[0], cs.fills[1]);
	/* heights in proportion: 3 : 1 : 7 : 10 : 5 */
	assert_true(cs.heights[2] > 2.9 * cs.heights[3] && cs.heights[2] < 3.1 * cs.heights[3]);
	assert_true(cs.heights[5] > 9.9 * cs.heights[3] && cs.heights[5] < 10.1 * cs.heights[3]);
	assert_true(cs.heights[6] > 4.9 * cs.heights[3] && cs.heights[6] < 5.1 * cs.heights[3]);
	/* a title per bar names its label and values */
	assert_int_equal(cs.titles, 1 + 4);
	assert_non_null(strstr(svg, "<title>12-03: ok 10, refused 5</title>"));
	/* the y axis's top is 20 (a round number at or above 15), with 4 steps */
	assert_non_null(strstr(cs.text, "|0|5|10|15|20|"));
	xmlFreeDoc(doc);
	free(svg);
}

static void
test_svgchart_label_every(void **state)
{
	const struct svgchart_series series[] = { { "logins", ok } };
	struct svgchart c = { .id = "d", .title = "t", .n = 4, .labels = labels, .label_every = 3,
		.n_series = 1, .series = series };
	char *svg = svgchart_bars(&c);
	struct census cs = { 0 };
	xmlDoc *doc = parse(svg);

	(void)state;
	count(xmlDocGetRootElement(doc), &cs);
	/* no legend for one series; labels of bars 0 and 3 (counted back from today) */
	assert_non_null(strstr(cs.text, "|11-30|12-03|"));
	assert_null(strstr(cs.text, "12-01"));
	assert_int_equal(cs.rects, 3);
	assert_non_null(strstr(svg, "<title>12-03: 10</title>"));
	xmlFreeDoc(doc);
	free(svg);
}

static void
test_svgchart_refused(void **state)
{
	const struct svgchart_series series[] = { { "a", ok } };
	struct svgchart c = { .id = "x", .n = 4, .labels = labels, .n_series = 1,
		.series = series };
	static const uint64_t zeros[] = { 0, 0, 0, 0 };
	const struct svgchart_series none[] = { { "none", zeros } };
	char *svg;

	(void)state;
	c.id = "a b";
	assert_null(svgchart_bars(&c));
	c.id = "a\"b";
	assert_null(svgchart_bars(&c));
	c.id = NULL;
	assert_null(svgchart_bars(&c));
	c.id = "x";
	c.n = 0;
	assert_null(svgchart_bars(&c));
	c.n = 4;
	c.n_series = SVGCHART_SERIES_MAX + 1;
	assert_null(svgchart_bars(&c));
	/* all zero: drawn, with an axis up to 4 */
	c.n_series = 1;
	c.series = none;
	svg = svgchart_bars(&c);
	assert_non_null(svg);
	xmlFreeDoc(parse(svg));
	assert_null(strstr(svg, "<rect"));
	free(svg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_svgchart_well_formed),
		cmocka_unit_test(test_svgchart_no_script),
		cmocka_unit_test(test_svgchart_stacked_bars),
		cmocka_unit_test(test_svgchart_label_every),
		cmocka_unit_test(test_svgchart_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
