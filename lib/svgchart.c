/*
 * Bar charts as SVG text (svgchart.h).  Geometry is a fixed 640 x 240 viewBox that a
 * style sheet scales to its box; colours are presentation attributes (not style
 * attributes, which a CSP without unsafe-inline refuses) and every one has at least 4.5:1
 * against white, so bars (3:1 needed) and text alike stay readable.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "svgchart.h"

#define W 640
#define H 240
#define LEFT 56		/* room for the y axis's labels */
#define RIGHT 8
#define TOP 32		/* the legend */
#define BOTTOM 36	/* the x axis's labels */
#define TICKS 4
#define TEXT_COLOUR "#333333"	/* 12.6:1 on white */
#define AXIS_COLOUR "#595959"	/* 7:1 */
#define ID_MAX 64

/* Blue 6.3:1, red 7.5:1, green 5.3:1, purple 9:1 on white; neighbours differ in hue. */
static const char *const colours[SVGCHART_SERIES_MAX] = {
	"#1a5fb4", "#a51d2d", "#2b7a3d", "#613583"
};

static int
id_ok(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	return n > 0 && n <= ID_MAX &&
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static uint64_t
bar_total(const struct svgchart *c, size_t i)
{
	uint64_t sum = 0;

	for (size_t s = 0; s < c->n_series; s++)
		sum += c->series[s].values[i];
	return sum;
}

/* The top of the y axis: 1, 2 or 5 times a power of ten, at least max (and at least TICKS). */
static uint64_t
axis_top(uint64_t max)
{
	static const uint64_t steps[] = { 1, 2, 5 };

	if (max < TICKS)
		return TICKS;
	for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10)
		for (size_t i = 0; i < 3; i++)
			if (steps[i] * p * TICKS >= max)
				return steps[i] * p * TICKS;
	return max;
}

static void
text(struct buf *b, double x, double y, const char *anchor, const char *s)
{
	buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"12\" "
	    "fill=\"" TEXT_COLOUR "\">", x, y, anchor);
	html_escape(b, s);
	buf_puts(b, "</text>");
}

static void
head(struct buf *b, const struct svgchart *c)
{
	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "class=\"svgchart\" role=\"img\" aria-labelledby=\"%s-title %s-desc\">"
	    "<title id=\"%s-title\">", W, H, c->id, c->id, c->id);
	html_escape(b, c->title ? c->title : "");
	buf_printf(b, "</title><desc id=\"%s-desc\">", c->id);
	html_escape(b, c->desc ? c->desc : "");
	buf_puts(b, "</desc>");
}

static void
legend(struct buf *b, const struct svgchart *c)
{
	double x = LEFT;

	if (c->n_series < 2)
		return;
	buf_puts(b, "<g class=\"legend\">");
	for (size_t s = 0; s < c->n_series; s++) {
		const char *name = c->series[s].name ? c->series[s].name : "";

		buf_printf(b, "<rect x=\"%.1f\" y=\"10\" width=\"12\" height=\"12\" fill=\"%s\"/>",
		    x, colours[s]);
		text(b, x + 16, 21, "start", name);
		x += 40 + 8.0 * (double)strlen(name);
	}
	buf_puts(b, "</g>");
}

static void
y_axis(struct buf *b, uint64_t top)
{
	double h = H - TOP - BOTTOM;

	buf_printf(b, "<g class=\"axis\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
	    "stroke=\"" AXIS_COLOUR "\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\""
	    AXIS_COLOUR "\"/>", LEFT, TOP, LEFT, H - BOTTOM, LEFT, H - BOTTOM, W - RIGHT,
	    H - BOTTOM);
	for (int i = 0; i <= TICKS; i++) {
		char v[24];
		double y = H - BOTTOM - h * i / TICKS;

		snprintf(v, sizeof(v), "%llu", (unsigned long long)(top / TICKS * (uint64_t)i));
		text(b, LEFT - 6, y + 4, "end", v);
	}
	buf_puts(b, "</g>");
}

/* One bar: its segments bottom up, with a <title> naming the label and each value. */
static void
bar(struct buf *b, const struct svgchart *c, size_t i, uint64_t top)
{
	double slot = (double)(W - LEFT - RIGHT) / (double)c->n, h = H - TOP - BOTTOM;
	double x = LEFT + slot * (double)i + slot * 0.15, y = H - BOTTOM;

	buf_puts(b, "<g><title>");
	html_escape(b, c->labels[i] ? c->labels[i] : "");
	for (size_t s = 0; s < c->n_series; s++) {
		buf_puts(b, s ? ", " : ": ");
		if (c->n_series > 1) {
			html_escape(b, c->series[s].name ? c->series[s].name : "");
			buf_putc(b, ' ');
		}
		buf_printf(b, "%llu", (unsigned long long)c->series[s].values[i]);
	}
	buf_puts(b, "</title>");
	for (size_t s = 0; s < c->n_series; s++) {
		double bh = h * (double)c->series[s].values[i] / (double)top;

		if (c->series[s].values[i] == 0)
			continue;
		y -= bh;
		buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		    "fill=\"%s\"/>", x, y, slot * 0.7, bh, colours[s]);
	}
	buf_puts(b, "</g>");
}

static void
x_labels(struct buf *b, const struct svgchart *c)
{
	size_t every = c->label_every ? c->label_every : 1;
	double slot = (double)(W - LEFT - RIGHT) / (double)c->n;

	buf_puts(b, "<g class=\"labels\">");
	/* counted from the last bar, so the newest (today) always has its label */
	for (size_t i = 0; i < c->n; i++)
		if ((c->n - 1 - i) % every == 0)
			text(b, LEFT + slot * ((double)i + 0.5), H - BOTTOM + 18, "middle",
			    c->labels[i] ? c->labels[i] : "");
	buf_puts(b, "</g>");
}

char *
svgchart_bars(const struct svgchart *c)
{
	struct buf b;
	uint64_t max = 0;

	if (c->n == 0 || c->labels == NULL || c->n_series == 0 ||
	    c->n_series > SVGCHART_SERIES_MAX || !id_ok(c->id))
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (bar_total(c, i) > max)
			max = bar_total(c, i);
	buf_init(&b, 0);
	head(&b, c);
	legend(&b, c);
	y_axis(&b, axis_top(max));
	buf_puts(&b, "<g class=\"bars\">");
	for (size_t i = 0; i < c->n; i++)
		bar(&b, c, i, axis_top(max));
	buf_puts(&b, "</g>");
	x_labels(&b, c);
	buf_puts(&b, "</svg>");
	return buf_steal(&b, NULL);
}
