/*
 * Unit tests for lib/qrsvg.c: the SVG is well-formed XML (libxml2), has one path whose
 * relative moves redraw exactly libqrencode's dark modules inside the quiet zone, the
 * label is escaped, and text too long for any QR code gives NULL.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <qrencode.h>

#include "qrsvg.h"

#define URI "otpauth://totp/Sekisho:taro%40example.jp?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" \
	"&issuer=Sekisho&algorithm=SHA1&digits=6&period=30"

static xmlNode *
only_child(xmlNode *parent, const char *name, int *count_r)
{
	xmlNode *found = NULL;

	*count_r = 0;
	for (xmlNode *n = parent->children; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0) {
			found = n;
			(*count_r)++;
		}
	}
	return found;
}

static void
assert_attr(xmlNode *n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);

	assert_non_null(v);
	assert_string_equal((const char *)v, want);
	xmlFree(v);
}

/* Draw the path "m dx dy h n v1 h-n z ..." into grid (w x w); -1 on anything else. */
static int
draw(const char *d, unsigned char *grid, int w)
{
	int x = 0, y = 0;

	while (*d) {
		int dx, dy, n, n2, used = 0;

		if (sscanf(d, "m%d %dh%dv1h-%dz%n", &dx, &dy, &n, &n2, &used) != 4 || used == 0 ||
		    n != n2 || n <= 0)
			return -1;
		x += dx;
		y += dy;
		if (x < 0 || y < 0 || y >= w || x + n > w)
			return -1;
		for (int i = 0; i < n; i++)
			grid[y * w + x + i]++;
		d += used;
	}
	return 0;
}

static void
test_qrsvg_well_formed(void **state)
{
	char *svg = qr_svg(URI, "QR <code> & \"enrol\"");
	QRcode *qr = QRcode_encodeString(URI, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	xmlDoc *doc;
	xmlNode *root, *path;
	xmlChar *d;
	unsigned char *grid;
	int count, w;
	char vb[64];

	(void)state;
	assert_non_null(svg);
	assert_non_null(qr);
	assert_null(strstr(svg, "style"));
	doc = xmlReadMemory(svg, (int)strlen(svg), "qr.svg", NULL, XML_PARSE_NONET);
	assert_non_null(doc);
	root = xmlDocGetRootElement(doc);
	assert_string_equal((const char *)root->name, "svg");
	assert_attr(root, "role", "img");
	assert_attr(root, "aria-label", "QR <code> & \"enrol\"");
	assert_attr(root, "shape-rendering", "crispEdges");
	w = qr->width + 8;
	snprintf(vb, sizeof(vb), "0 0 %d %d", w, w);
	assert_attr(root, "viewBox", vb);
	path = only_child(root, "path", &count);
	assert_int_equal(count, 1);
	d = xmlGetProp(path, (const xmlChar *)"d");
	grid = calloc((size_t)w * w, 1);
	assert_int_equal(draw((const char *)d, grid, w), 0);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++) {
			int in = x >= 4 && y >= 4 && x < w - 4 && y < w - 4;
			int dark = in && (qr->data[(y - 4) * qr->width + x - 4] & 1);

			assert_int_equal(grid[y * w + x], dark);
		}
	free(grid);
	xmlFree(d);
	xmlFreeDoc(doc);
	QRcode_free(qr);
	free(svg);
}

static void
test_qrsvg_too_long(void **state)
{
	char *text = malloc(3001);
	char *svg;

	(void)state;
	memset(text, 'x', 3000);
	text[3000] = '\0';
	assert_null(qr_svg(text, "label"));
	text[2000] = '\0';	/* fits version 40 at level M in 8-bit mode (2331 bytes) */
	svg = qr_svg(text, "label");
	assert_non_null(svg);
	free(svg);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qrsvg_well_formed),
		cmocka_unit_test(test_qrsvg_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
