/*
 * Query-string and form-body parsing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "form.h"
#include "xmalloc.h"

int
form_parse(struct form *fm, const char *s, size_t len, const char **errstr)
{
	const char *p = s, *end = s + len;

	memset(fm, 0, sizeof(*fm));
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *ne = eq ? eq : pe;
		struct form_field *f;
		char *name, *value;

		if (pe == p) {	/* empty pair, as in "a=1&&b=2" */
			p = pe + 1;
			continue;
		}
		if (fm->n == FORM_MAX_FIELDS) {
			*errstr = "too many parameters";
			return -1;
		}
		/* Names are plain: an encoded name would give one parameter two spellings. */
		if (memchr(p, '%', (size_t)(ne - p)) || memchr(p, '+', (size_t)(ne - p))) {
			*errstr = "encoded parameter name";
			return -1;
		}
		name = url_decode(p, (size_t)(ne - p), 1, NULL);
		value = eq ? url_decode(eq + 1, (size_t)(pe - eq - 1), 1, NULL) : xstrdup("");
		if (name == NULL || value == NULL) {
			free(name);
			free(value);
			*errstr = "malformed parameter encoding";
			return -1;
		}
		if (form_get(fm, name) != NULL) {
			free(name);
			free(value);
			*errstr = "duplicated parameter";
			return -1;
		}
		f = &fm->f[fm->n++];
		f->name = name;
		f->value = value;
		f->raw = eq ? eq + 1 : pe;
		f->rawlen = eq ? (size_t)(pe - eq - 1) : 0;
		p = amp ? amp + 1 : end;
	}
	return 0;
}

const struct form_field *
form_get_field(const struct form *fm, const char *name)
{
	for (size_t i = 0; i < fm->n; i++)
		if (strcmp(fm->f[i].name, name) == 0)
			return &fm->f[i];
	return NULL;
}

const char *
form_get(const struct form *fm, const char *name)
{
	const struct form_field *f = form_get_field(fm, name);

	return f ? f->value : NULL;
}

void
form_free(struct form *fm)
{
	for (size_t i = 0; i < fm->n; i++) {
		freezero_str(fm->f[i].name);
		freezero_str(fm->f[i].value);
	}
	fm->n = 0;
}
