/*
 * A QR code as inline SVG: libqrencode gives the module matrix, and each run of dark
 * modules in a row becomes one rectangle of a single path (relative moves keep it short),
 * drawn over a light square that includes the four-module quiet zone.
 */
#include "config.h"

#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "log.h"
#include "qrsvg.h"
#include "xmalloc.h"

#define QUIET 4	/* modules of light margin the standard asks for */
#define SCALE 4	/* default pixels per module; a style sheet may size the element */

/* Append the rectangles of the dark runs; the pen is at (*px, *py) after each "z". */
static void
dark_runs(struct buf *b, const QRcode *qr)
{
	int px = 0, py = 0;

	for (int y = 0; y < qr->width; y++) {
		const unsigned char *row = qr->data + (size_t)y * qr->width;

		for (int x = 0; x < qr->width; x++) {
			int n = 0;

			while (x + n < qr->width && (row[x + n] & 1))
				n++;
			if (n == 0)
				continue;
			buf_printf(b, "m%d %dh%dv1h-%dz", x + QUIET - px, y + QUIET - py, n, n);
			px = x + QUIET;
			py = y + QUIET;
			x += n;
		}
	}
}

char *
qr_svg(const char *text, const char *label)
{
	QRcode *qr = text ? QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) : NULL;
	struct buf b;
	char *esc;
	int w;

	if (qr == NULL) {
		log_debug("QRcode_encodeString: text of %zu bytes does not fit", text ? strlen(text) : 0);
		return NULL;
	}
	w = qr->width + 2 * QUIET;
	esc = html_escape_str(label ? label : "");
	buf_init(&b, 0);
	buf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\" role=\"img\" "
	    "aria-label=\"%s\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path fill=\"#000\" d=\"", w, w, w * SCALE, w * SCALE, esc, w, w);
	dark_runs(&b, qr);
	buf_puts(&b, "\"/></svg>");
	free(esc);
	QRcode_free(qr);
	return buf_steal(&b, NULL);
}
