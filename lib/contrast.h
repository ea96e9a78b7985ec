/*
 * WCAG 2 contrast between sRGB colours (0xRRGGBB), for the tenant's accent colour: which
 * of black or white text reads on it.
 */
#ifndef SEKISHO_CONTRAST_H
#define SEKISHO_CONTRAST_H

/* The contrast ratio of a and b, 1 to 21 (order does not matter). */
double contrast_ratio(unsigned a, unsigned b);
/* 0x000000 or 0xffffff, whichever has more contrast on bg: at least 4.58:1 on any colour. */
unsigned contrast_text_on(unsigned bg);
/* "#rgb" or "#rrggbb" into *rgb_r: 0, or -1 when s is neither. */
int contrast_parse(const char *s, unsigned *rgb_r);

#endif
