/*
 * Bar charts drawn as SVG text on the server (the console's dashboard): plain or stacked
 * bars, axis labels, a legend, <title> and <desc> for screen readers, colours with enough
 * contrast on white, and no script or event attribute, so a page can embed one under a
 * CSP without unsafe-inline.  The numbers themselves belong in a table beside the chart.
 */
#ifndef SEKISHO_SVGCHART_H
#define SEKISHO_SVGCHART_H

#include <stddef.h>
#include <stdint.h>

#define SVGCHART_SERIES_MAX 4

struct svgchart_series {
	const char *name;		/* for the legend (escaped) */
	const uint64_t *values;		/* one per bar */
};

struct svgchart {
	const char *id;			/* prefix of the element ids (unique in the page), [A-Za-z0-9_-] */
	const char *title;		/* <title>: what the chart shows */
	const char *desc;		/* <desc>: the gist ("1,204 logins, 31 refused") */
	size_t n;			/* bars */
	const char *const *labels;	/* n labels of the x axis */
	size_t label_every;		/* show every k-th x label (0 or 1: all) */
	size_t n_series;		/* 1 .. SVGCHART_SERIES_MAX; more than one stacks */
	const struct svgchart_series *series;
};

/* The <svg> element (a new string), or NULL when c is not drawable (no bars, bad id). */
char *svgchart_bars(const struct svgchart *c);

#endif
