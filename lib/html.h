/*
 * HTML escaping for text and attribute values.
 */
#ifndef SEKISHO_HTML_H
#define SEKISHO_HTML_H

#include "buf.h"

/* Append s escaped for HTML text and double- or single-quoted attributes; -1 if capped. */
int html_escape(struct buf *b, const char *s);
/* A new escaped string (caller frees). */
char *html_escape_str(const char *s);

#endif
