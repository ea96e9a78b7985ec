/*
 * SCIM filters and attribute paths: a recursive-descent parser for RFC 7644's filter
 * grammar (not > and > or, parentheses, value filters in brackets) into a small tree,
 * and its evaluation over a resource's JSON.  The parser is bounded (length, depth), so a
 * hostile filter costs a 400 and nothing else.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim_filter.h"
#include "xmalloc.h"

#define DEPTH_MAX 32	/* each parenthesis costs two */

enum node_kind { N_AND, N_OR, N_NOT, N_CMP };
enum op { OP_EQ, OP_NE, OP_CO, OP_SW, OP_EW, OP_GT, OP_GE, OP_LT, OP_LE, OP_PR };

static const char *const op_names[] = {
	"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", NULL
};

struct scim_filter {
	enum node_kind kind;
	struct scim_filter *l, *r;	/* and, or; not uses l */
	struct scim_path path;		/* N_CMP */
	enum op op;
	json_t *value;			/* N_CMP but pr */
};

struct parser {
	const char *s, *p;
	int depth;
	const char *type;		/* invalidFilter or invalidPath */
	struct scim_err *e;
};

/* Attributes whose values compare byte for byte (RFC 7643 caseExact true). */
static const char *const case_exact[] = {
	"id", "externalId", "members.value", "groups.value", "meta.version", "meta.location",
	"members.$ref", "groups.$ref", NULL
};

static const char *const known_urns[] = {
	SCIM_URN_USER, SCIM_URN_GROUP, SCIM_URN_ENTERPRISE, NULL
};

int
scim_fail(struct scim_err *e, int status, const char *type, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->type = type;
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
scim_key(const json_t *o, const char *name)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o) || !name)
		return NULL;
	json_object_foreach((json_t *)o, k, v) {
		if (strcasecmp(k, name) == 0)
			return k;
	}
	return NULL;
}

json_t *
scim_get(const json_t *o, const char *name)
{
	const char *k = scim_key(o, name);

	return k ? json_object_get(o, k) : NULL;
}

static int
perr(struct parser *ps, const char *what)
{
	return scim_fail(ps->e, 400, ps->type, "%s at offset %zu", what, (size_t)(ps->p - ps->s));
}

static void
skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static int
name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '$';
}

/* A word of name characters, ':' and '.' (an attribute path or a keyword): new string. */
static char *
word(struct parser *ps)
{
	const char *b = ps->p;

	while (name_char((unsigned char)*ps->p) || *ps->p == ':' || *ps->p == '.')
		ps->p++;
	return ps->p > b ? xstrndup(b, (size_t)(ps->p - b)) : NULL;
}

/* Does the next word equal kw (any case), followed by a non-name character? */
static int
keyword(struct parser *ps, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(ps->p, kw, n) != 0 || name_char((unsigned char)ps->p[n]))
		return 0;
	ps->p += n;
	return 1;
}

static int
valid_attr_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '$')
		return 0;
	for (; *s; s++)
		if (!name_char((unsigned char)*s))
			return 0;
	return 1;
}

/* Split "attr" or "attr.sub" from w into p (w is consumed). */
static int
split_attr(struct parser *ps, char *w, struct scim_path *p)
{
	char *dot = strchr(w, '.');

	if (dot) {
		*dot = '\0';
		p->sub = xstrdup(dot + 1);
	}
	p->attr = w;
	if (!valid_attr_name(p->attr) || (p->sub && !valid_attr_name(p->sub)))
		return perr(ps, "malformed attribute name");
	return 0;
}

/* The URN part of w (a schema's, then ':' and the attribute), into p; 0 or -1. */
static int
split_urn(struct parser *ps, char *w, struct scim_path *p)
{
	char *colon;

	for (size_t i = 0; known_urns[i]; i++) {
		size_t n = strlen(known_urns[i]);

		if (strncasecmp(w, known_urns[i], n) != 0 || (w[n] != '\0' && w[n] != ':'))
			continue;
		if (i < 2)	/* a core schema: its attributes are the resource's */
			p->urn = NULL;
		else
			p->urn = xstrdup(known_urns[i]);
		if (w[n] == '\0') {
			free(w);
			if (!p->urn)
				return perr(ps, "a core schema is not an attribute");
			return 0;
		}
		memmove(w, w + n + 1, strlen(w + n + 1) + 1);
		return split_attr(ps, w, p);
	}
	colon = strrchr(w, ':');
	p->urn = xstrndup(w, (size_t)(colon - w));
	memmove(w, colon + 1, strlen(colon + 1) + 1);
	return split_attr(ps, w, p);
}

static struct scim_filter *parse_or(struct parser *ps);

/* attrPath, with a value filter in brackets and a sub-attribute after it. */
static int
parse_path(struct parser *ps, struct scim_path *p)
{
	char *w = word(ps);
	int rc;

	memset(p, 0, sizeof(*p));
	if (!w)
		return perr(ps, "attribute name expected");
	if (strncasecmp(w, "urn:", 4) == 0 && strchr(w + 4, ':'))
		rc = split_urn(ps, w, p);
	else
		rc = split_attr(ps, w, p);
	if (rc < 0 || *ps->p != '[')
		return rc;
	if (p->sub || !p->attr)
		return perr(ps, "a value filter follows a multi-valued attribute");
	ps->p++;
	if (!(p->vf = parse_or(ps)))
		return -1;
	skip_ws(ps);
	if (*ps->p != ']')
		return perr(ps, "']' expected");
	ps->p++;
	if (*ps->p == '.') {
		ps->p++;
		if (!(w = word(ps)) || !valid_attr_name(w)) {
			free(w);
			return perr(ps, "sub-attribute name expected");
		}
		p->sub = w;
	}
	return 0;
}

void
scim_path_clear(struct scim_path *p)
{
	free(p->urn);
	free(p->attr);
	free(p->sub);
	scim_filter_free(p->vf);
	memset(p, 0, sizeof(*p));
}

/* A JSON string or number starting at ps->p, as a new JSON value. */
static json_t *
json_literal(struct parser *ps)
{
	const char *b = ps->p;
	json_t *v;

	if (*ps->p == '"') {
		for (ps->p++; *ps->p && *ps->p != '"'; ps->p++)
			if (*ps->p == '\\' && ps->p[1])
				ps->p++;
		if (*ps->p != '"')
			return NULL;
		ps->p++;
	} else {
		while (*ps->p && strchr("+-.0123456789eE", *ps->p))
			ps->p++;
	}
	v = json_loadb(b, (size_t)(ps->p - b), JSON_DECODE_ANY, NULL);
	if (v && !json_is_string(v) && !json_is_number(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

static json_t *
comp_value(struct parser *ps)
{
	if (keyword(ps, "true"))
		return json_true();
	if (keyword(ps, "false"))
		return json_false();
	if (keyword(ps, "null"))
		return json_null();
	return json_literal(ps);
}

static int
parse_op(struct parser *ps, enum op *op_r)
{
	for (size_t i = 0; op_names[i]; i++) {
		if (keyword(ps, op_names[i])) {
			*op_r = (enum op)i;
			return 0;
		}
	}
	return perr(ps, "comparison operator expected");
}

/* Operators that only make sense on some values (RFC 7644: gt on a boolean is an error). */
static int
check_operand(struct parser *ps, enum op op, const json_t *v)
{
	int ordered = op == OP_GT || op == OP_GE || op == OP_LT || op == OP_LE;
	int textual = op == OP_CO || op == OP_SW || op == OP_EW;

	if (textual && !json_is_string(v))
		return perr(ps, "co, sw and ew compare strings");
	if (ordered && !json_is_string(v) && !json_is_number(v))
		return perr(ps, "gt, ge, lt and le compare strings, dates and numbers");
	return 0;
}

static struct scim_filter *
parse_cmp(struct parser *ps)
{
	struct scim_filter *f = xcalloc(1, sizeof(*f));

	f->kind = N_CMP;
	if (parse_path(ps, &f->path) < 0)
		goto fail;
	if (!f->path.attr) {
		perr(ps, "attribute name expected");
		goto fail;
	}
	if (f->path.vf && !f->path.sub) {	/* emails[type eq "work"]: any such value */
		f->op = OP_PR;
		return f;
	}
	skip_ws(ps);
	if (parse_op(ps, &f->op) < 0)
		goto fail;
	if (f->op == OP_PR)
		return f;
	skip_ws(ps);
	if (!(f->value = comp_value(ps))) {
		perr(ps, "a string, number, true, false or null expected");
		goto fail;
	}
	if (check_operand(ps, f->op, f->value) < 0)
		goto fail;
	return f;
fail:
	scim_filter_free(f);
	return NULL;
}

static struct scim_filter *
node(enum node_kind kind, struct scim_filter *l, struct scim_filter *r)
{
	struct scim_filter *f = xcalloc(1, sizeof(*f));

	f->kind = kind;
	f->l = l;
	f->r = r;
	return f;
}

/* "(" filter ")" */
static struct scim_filter *
parse_group(struct parser *ps)
{
	struct scim_filter *f;

	ps->p++;
	if (!(f = parse_or(ps)))
		return NULL;
	skip_ws(ps);
	if (*ps->p != ')') {
		scim_filter_free(f);
		perr(ps, "')' expected");
		return NULL;
	}
	ps->p++;
	return f;
}

static struct scim_filter *
parse_not(struct parser *ps)
{
	const char *save;
	struct scim_filter *f;

	skip_ws(ps);
	if (*ps->p == '(')
		return parse_group(ps);
	save = ps->p;
	if (keyword(ps, "not")) {
		skip_ws(ps);
		if (*ps->p == '(') {
			if (!(f = parse_group(ps)))
				return NULL;
			return node(N_NOT, f, NULL);
		}
		ps->p = save;	/* an attribute called "not" */
	}
	return parse_cmp(ps);
}

/* One level of a left-associative chain: and over not, or over and. */
static struct scim_filter *
parse_chain(struct parser *ps, const char *kw, enum node_kind kind,
    struct scim_filter *(*sub)(struct parser *))
{
	struct scim_filter *l, *r;

	if (++ps->depth > DEPTH_MAX) {
		perr(ps, "filter nested too deeply");
		return NULL;
	}
	if (!(l = sub(ps)))
		return NULL;
	for (;;) {
		const char *save = ps->p;

		skip_ws(ps);
		if (save == ps->p || !keyword(ps, kw)) {
			ps->p = save;
			break;
		}
		if (*ps->p != ' ' && *ps->p != '\t' && *ps->p != '(') {
			ps->p = save;
			break;
		}
		if (!(r = sub(ps))) {
			scim_filter_free(l);
			return NULL;
		}
		l = node(kind, l, r);
	}
	ps->depth--;
	return l;
}

static struct scim_filter *
parse_and(struct parser *ps)
{
	return parse_chain(ps, "and", N_AND, parse_not);
}

static struct scim_filter *
parse_or(struct parser *ps)
{
	return parse_chain(ps, "or", N_OR, parse_and);
}

static int
parser_init(struct parser *ps, const char *s, const char *type, struct scim_err *e)
{
	memset(ps, 0, sizeof(*ps));
	ps->s = ps->p = s;
	ps->type = type;
	ps->e = e;
	if (!s || !*s)
		return scim_fail(e, 400, type, "empty");
	if (strlen(s) > SCIM_FILTER_MAX)
		return scim_fail(e, 400, type, "longer than %d bytes", SCIM_FILTER_MAX);
	return 0;
}

struct scim_filter *
scim_filter_parse(const char *s, struct scim_err *e)
{
	struct parser ps;
	struct scim_filter *f;

	if (parser_init(&ps, s, "invalidFilter", e) < 0)
		return NULL;
	if (!(f = parse_or(&ps)))
		return NULL;
	skip_ws(&ps);
	if (*ps.p) {
		perr(&ps, "unexpected text");
		scim_filter_free(f);
		return NULL;
	}
	return f;
}

int
scim_path_parse(const char *s, struct scim_path *p_r, struct scim_err *e)
{
	struct parser ps;

	memset(p_r, 0, sizeof(*p_r));
	if (parser_init(&ps, s, "invalidPath", e) < 0)
		return -1;
	if (parse_path(&ps, p_r) < 0 || (*ps.p && perr(&ps, "unexpected text") < 0)) {
		scim_path_clear(p_r);
		return -1;
	}
	return 0;
}

void
scim_filter_free(struct scim_filter *f)
{
	if (!f)
		return;
	scim_filter_free(f->l);
	scim_filter_free(f->r);
	scim_path_clear(&f->path);
	json_decref(f->value);
	free(f);
}

/* ---- evaluation ---- */

static int
is_case_exact(const char *parent, const struct scim_path *p)
{
	char full[160];
	const char *a = parent ? parent : p->attr;
	const char *b = parent ? p->attr : p->sub;

	if (b)
		snprintf(full, sizeof(full), "%s.%s", a, b);
	else
		snprintf(full, sizeof(full), "%s", a);
	for (size_t i = 0; case_exact[i]; i++)
		if (strcasecmp(full, case_exact[i]) == 0)
			return 1;
	return 0;
}

/* Append v to out, or each element when v is an array. */
static void
add_values(json_t *out, json_t *v)
{
	size_t i;
	json_t *x;

	if (!v || json_is_null(v))
		return;
	if (!json_is_array(v)) {
		json_array_append(out, v);
		return;
	}
	json_array_foreach(v, i, x)
		if (!json_is_null(x))
			json_array_append(out, x);
}

/* The values p names in v (for a comparison; a complex value stands for its "value"). */
static json_t *
collect(const struct scim_path *p, const json_t *v, const char *parent)
{
	json_t *out = json_array(), *all = json_array(), *x;
	const json_t *c = p->urn ? scim_get(v, p->urn) : v;
	size_t i;

	add_values(all, scim_get(c, p->attr));
	json_array_foreach(all, i, x) {
		if (p->vf && !scim_filter_match(p->vf, x, p->attr))
			continue;
		if (p->sub)
			add_values(out, json_is_object(x) ? scim_get(x, p->sub) : NULL);
		else if (json_is_object(x) && !p->vf && !parent && scim_get(x, "value"))
			add_values(out, scim_get(x, "value"));
		else
			json_array_append(out, x);
	}
	json_decref(all);
	return out;
}

static int
str_cmp(const char *a, const char *b, int exact)
{
	return exact ? strcmp(a, b) : strcasecmp(a, b);
}

static int
str_match(enum op op, const char *a, const char *b, int exact)
{
	size_t la = strlen(a), lb = strlen(b);

	switch (op) {
	case OP_EQ:
	case OP_NE:
		return str_cmp(a, b, exact) == 0;
	case OP_CO:
		if (exact)
			return strstr(a, b) != NULL;
		return strcasestr(a, b) != NULL;
	case OP_SW:
		return la >= lb && (exact ? strncmp(a, b, lb) : strncasecmp(a, b, lb)) == 0;
	case OP_EW:
		return la >= lb && str_cmp(a + la - lb, b, exact) == 0;
	case OP_GT:
		return str_cmp(a, b, exact) > 0;
	case OP_GE:
		return str_cmp(a, b, exact) >= 0;
	case OP_LT:
		return str_cmp(a, b, exact) < 0;
	case OP_LE:
		return str_cmp(a, b, exact) <= 0;
	default:
		return 0;
	}
}

static int
num_match(enum op op, double a, double b)
{
	switch (op) {
	case OP_EQ:
	case OP_NE:
		return a == b;
	case OP_GT:
		return a > b;
	case OP_GE:
		return a >= b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	default:
		return 0;
	}
}

/* Does one value x satisfy the comparison (ne is counted as not eq by the caller)? */
static int
value_match(const struct scim_filter *f, const json_t *x, int exact)
{
	const json_t *w = f->value;

	if (json_is_string(x) && json_is_string(w))
		return str_match(f->op, json_string_value(x), json_string_value(w), exact);
	if (json_is_number(x) && json_is_number(w))
		return num_match(f->op, json_number_value(x), json_number_value(w));
	if (json_is_boolean(x) && json_is_boolean(w))
		return (f->op == OP_EQ || f->op == OP_NE) && json_equal((json_t *)x, (json_t *)w);
	return 0;
}

static int
present(const json_t *x)
{
	if (json_is_string(x))
		return json_string_length(x) > 0;
	if (json_is_array(x))
		return json_array_size(x) > 0;
	if (json_is_object(x))
		return json_object_size(x) > 0;
	return !json_is_null(x);
}

static int
cmp_match(const struct scim_filter *f, const json_t *v, const char *parent)
{
	json_t *vals = collect(&f->path, v, parent), *x;
	int exact = is_case_exact(parent, &f->path), hit = 0;
	size_t i;

	json_array_foreach(vals, i, x) {
		if (f->op == OP_PR ? present(x) : value_match(f, x, exact)) {
			hit = 1;
			break;
		}
	}
	if (json_is_null(f->value) && (f->op == OP_EQ || f->op == OP_NE))
		hit = json_array_size(vals) == 0;	/* "eq null": absent */
	json_decref(vals);
	return f->op == OP_NE ? !hit : hit;
}

int
scim_filter_match(const struct scim_filter *f, const json_t *v, const char *parent)
{
	switch (f->kind) {
	case N_AND:
		return scim_filter_match(f->l, v, parent) && scim_filter_match(f->r, v, parent);
	case N_OR:
		return scim_filter_match(f->l, v, parent) || scim_filter_match(f->r, v, parent);
	case N_NOT:
		return !scim_filter_match(f->l, v, parent);
	case N_CMP:
		return cmp_match(f, v, parent);
	}
	return 0;
}

int
scim_filter_uses(const struct scim_filter *f, const char *attr)
{
	if (!f)
		return 0;
	if (f->kind != N_CMP)
		return scim_filter_uses(f->l, attr) || scim_filter_uses(f->r, attr);
	return !f->path.urn && f->path.attr && strcasecmp(f->path.attr, attr) == 0;
}

const char *
scim_filter_eq(const struct scim_filter *f, const char *attr)
{
	if (!f || f->kind != N_CMP || f->op != OP_EQ || f->path.urn || f->path.vf ||
	    f->path.sub || strcasecmp(f->path.attr, attr) != 0 || !json_is_string(f->value))
		return NULL;
	return json_string_value(f->value);
}

int
scim_filter_template(const struct scim_filter *f, json_t *obj)
{
	if (f->kind == N_AND)
		return scim_filter_template(f->l, obj) < 0 ? -1 : scim_filter_template(f->r, obj);
	if (f->kind != N_CMP || f->op != OP_EQ || f->path.urn || f->path.vf || f->path.sub ||
	    json_is_null(f->value))
		return -1;
	json_object_set(obj, f->path.attr, f->value);
	return 0;
}
