/*
 * HTML escaping: & < > " and '; enough for text and quoted attributes.
 */
#include "config.h"

#include <string.h>

#include "html.h"

int
html_escape(struct buf *b, const char *s)
{
	while (*s) {
		size_t run = strcspn(s, "&<>\"'");
		const char *e = NULL;

		if (run && buf_append(b, s, run) == -1)
			return -1;
		s += run;
		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: return 0;
		}
		if (buf_puts(b, e) == -1)
			return -1;
		s++;
	}
	return 0;
}

char *
html_escape_str(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	html_escape(&b, s);
	return buf_steal(&b, NULL);
}
