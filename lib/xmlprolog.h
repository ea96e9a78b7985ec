/*
 * The bytes before an XML document's first element, checked before any parser runs.
 * Sekisho's own checks parse as UTF-8 whatever a document declares, while lasso's parser
 * follows the declaration and byte-order mark: with encoding="UTF-7" the two would read
 * different documents.  So a document whose encoding is not plainly UTF-8 is refused.
 */
#ifndef SEKISHO_XMLPROLOG_H
#define SEKISHO_XMLPROLOG_H

#include <stddef.h>

enum xml_prolog {
	XML_PROLOG_OK = 0,
	XML_PROLOG_BOM,		/* a byte-order mark (of another encoding, or any) */
	XML_PROLOG_NUL,		/* a NUL byte: UTF-16 or UTF-32, or a truncation */
	XML_PROLOG_DECL,	/* a malformed XML declaration */
	XML_PROLOG_ENCODING,	/* a declared encoding other than UTF-8 */
};

/*
 * XML_PROLOG_OK when xml[0..len) has no NUL, no byte-order mark (but UTF-8's when
 * utf8_bom_ok) and, if it starts with one, the plain XML declaration: version 1.0,
 * encoding UTF-8 if named, standalone yes or no.
 */
enum xml_prolog xml_prolog_check(const char *xml, size_t len, int utf8_bom_ok);

#endif
