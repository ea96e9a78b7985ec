/*
 * WCAG 2 relative luminance and contrast ratio (lib/contrast.h): an accent colour is
 * accepted whatever it is, and carries black or white text, whichever reads better.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include "contrast.h"

/* An sRGB channel (0..255) as linear light. */
static double
linear(unsigned v)
{
	double c = v / 255.0;

	return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double
luminance(unsigned rgb)
{
	return 0.2126 * linear((rgb >> 16) & 0xff) + 0.7152 * linear((rgb >> 8) & 0xff) +
	    0.0722 * linear(rgb & 0xff);
}

double
contrast_ratio(unsigned a, unsigned b)
{
	double la = luminance(a), lb = luminance(b);

	return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

unsigned
contrast_text_on(unsigned bg)
{
	return contrast_ratio(bg, 0xffffff) >= contrast_ratio(bg, 0) ? 0xffffff : 0;
}

int
contrast_parse(const char *s, unsigned *rgb_r)
{
	size_t n = s ? strlen(s) : 0;
	unsigned rgb = 0;

	if (n < 1 || s[0] != '#' || (n != 4 && n != 7) ||
	    strspn(s + 1, "0123456789abcdefABCDEF") != n - 1)
		return -1;
	for (size_t i = 1; i < n; i++) {
		unsigned d = (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0' :
		    tolower((unsigned char)s[i]) - 'a' + 10);
		rgb = n == 4 ? rgb << 8 | d << 4 | d : rgb << 4 | d;
	}
	*rgb_r = rgb;
	return 0;
}
