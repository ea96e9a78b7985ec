/*
 * HTML escaping: & < > " ' and control characters; enough for text and quoted attributes.
 */
#include "config.h"

#include "html.h"

int
html_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		const char *e = NULL;
		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default:
			break;
		}
		if (e ? buf_puts(b, e) : buf_putc(b, *s))
			return -1;
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
