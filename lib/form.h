/*
 * application/x-www-form-urlencoded parsing for query strings and POST bodies.  A name
 * that appears twice, or that is percent-encoded, is an error: SAML and OAuth messages
 * must read one way only.
 */
#ifndef SEKISHO_FORM_H
#define SEKISHO_FORM_H

#include <stddef.h>

#define FORM_MAX_FIELDS 64

struct form_field {
	char *name;
	char *value;
	const char *raw;	/* the still-encoded value inside the parsed input */
	size_t rawlen;
};

struct form {
	struct form_field f[FORM_MAX_FIELDS];
	size_t n;
};

/*
 * Parse s[0..len).  0 on success; -1 with *errstr set on malformed escapes, NUL bytes,
 * duplicated names or too many fields.  form_free() is safe after either outcome.
 */
int form_parse(struct form *fm, const char *s, size_t len, const char **errstr);
/* Borrowed value or NULL. */
const char *form_get(const struct form *fm, const char *name);
const struct form_field *form_get_field(const struct form *fm, const char *name);
void form_free(struct form *fm);

#endif
