/*
 * A small logic-less template engine for HTML pages (mustache-like, escape-only).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "tmpl.h"
#include "xmalloc.h"

#define TMPL_MAX_DEPTH 8

struct tmpl_var {
	char *name;
	char *value;			/* scalar, or NULL for a list */
	struct tmpl_vars **items;	/* list items */
	size_t nitems;
	int markup;			/* set by tmpl_set_markup: {{&name}} may show it as is */
};

struct tmpl_vars {
	struct tmpl_var *v;
	size_t n;
	const struct tmpl_vars *parent;
};

struct tmpl_msgs {
	char **keys, **texts;
	size_t n;
};

struct tmpl_vars *
tmpl_vars_new(void)
{
	return xcalloc(1, sizeof(struct tmpl_vars));
}

void
tmpl_vars_free(struct tmpl_vars *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].name);
		free(v->v[i].value);
		for (size_t j = 0; j < v->v[i].nitems; j++)
			tmpl_vars_free(v->v[i].items[j]);
		free(v->v[i].items);
	}
	free(v->v);
	free(v);
}

static struct tmpl_var *
find_local(const struct tmpl_vars *v, const char *name, size_t len)
{
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->v[i].name) == len && memcmp(v->v[i].name, name, len) == 0)
			return &v->v[i];
	return NULL;
}

static const struct tmpl_var *
find(const struct tmpl_vars *v, const char *name, size_t len)
{
	for (; v; v = v->parent) {
		const struct tmpl_var *var = find_local(v, name, len);
		if (var)
			return var;
	}
	return NULL;
}

static struct tmpl_var *
get_or_add(struct tmpl_vars *v, const char *name)
{
	struct tmpl_var *var = find_local(v, name, strlen(name));

	if (var)
		return var;
	v->v = xreallocarray(v->v, v->n + 1, sizeof(*v->v));
	var = &v->v[v->n++];
	memset(var, 0, sizeof(*var));
	var->name = xstrdup(name);
	return var;
}

void
tmpl_set(struct tmpl_vars *v, const char *name, const char *value)
{
	struct tmpl_var *var;

	if (value == NULL)
		return;
	var = get_or_add(v, name);
	free(var->value);
	var->value = xstrdup(value);
	var->markup = 0;
}

void
tmpl_set_markup(struct tmpl_vars *v, const char *name, const char *markup)
{
	tmpl_set(v, name, markup);
	if (markup)
		get_or_add(v, name)->markup = 1;
}

struct tmpl_vars *
tmpl_add_item(struct tmpl_vars *v, const char *name)
{
	struct tmpl_var *var = get_or_add(v, name);
	struct tmpl_vars *item = tmpl_vars_new();

	item->parent = v;
	var->items = xreallocarray(var->items, var->nitems + 1, sizeof(*var->items));
	var->items[var->nitems++] = item;
	return item;
}

struct tmpl_msgs *
tmpl_msgs_parse(const char *text, size_t len, const char **errstr)
{
	struct tmpl_msgs *m = xcalloc(1, sizeof(*m));
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *eq, *k0 = p, *k1, *v0, *v1;
		p = nl ? nl + 1 : end;
		while (k0 < le && (*k0 == ' ' || *k0 == '\t'))
			k0++;
		if (k0 == le || *k0 == '#')
			continue;
		if ((eq = memchr(k0, '=', (size_t)(le - k0))) == NULL) {
			*errstr = "message line without '='";
			tmpl_msgs_free(m);
			return NULL;
		}
		for (k1 = eq; k1 > k0 && (k1[-1] == ' ' || k1[-1] == '\t'); k1--)
			;
		for (v0 = eq + 1; v0 < le && (*v0 == ' ' || *v0 == '\t'); v0++)
			;
		for (v1 = le; v1 > v0 && (v1[-1] == ' ' || v1[-1] == '\r'); v1--)
			;
		m->keys = xreallocarray(m->keys, m->n + 1, sizeof(char *));
		m->texts = xreallocarray(m->texts, m->n + 1, sizeof(char *));
		m->keys[m->n] = xstrndup(k0, (size_t)(k1 - k0));
		m->texts[m->n] = xstrndup(v0, (size_t)(v1 - v0));
		m->n++;
	}
	return m;
}

void
tmpl_msgs_free(struct tmpl_msgs *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->keys[i]);
		free(m->texts[i]);
	}
	free(m->keys);
	free(m->texts);
	free(m);
}

static const char *
msg_lookup(const struct tmpl_msgs *m, const char *key, size_t len)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (strlen(m->keys[i]) == len && memcmp(m->keys[i], key, len) == 0)
			return m->texts[i];
	return NULL;
}

const char *
tmpl_msg(const struct tmpl_msgs *m, const char *key)
{
	return msg_lookup(m, key, strlen(key));
}

/* Find the {{/name}} that closes a section starting at p, honouring nesting of the same name. */
static const char *
find_close(const char *p, const char *end, const char *name, size_t nlen, const char **after_r)
{
	int depth = 1;

	while (p < end) {
		const char *o = memmem(p, (size_t)(end - p), "{{", 2), *c;
		if (o == NULL || (c = memmem(o, (size_t)(end - o), "}}", 2)) == NULL)
			return NULL;
		if (strchr("#^*", o[2]) && (size_t)(c - o - 3) == nlen && !memcmp(o + 3, name, nlen))
			depth++;
		if (o[2] == '/' && (size_t)(c - o - 3) == nlen && !memcmp(o + 3, name, nlen) &&
		    --depth == 0) {
			*after_r = c + 2;
			return o;
		}
		p = c + 2;
	}
	return NULL;
}

static int
render(const char *p, const char *end, const struct tmpl_vars *v, const struct tmpl_env *env,
    struct buf *out, int depth, const char **errstr)
{
	if (depth > TMPL_MAX_DEPTH) {
		*errstr = "template sections nested too deeply";
		return -1;
	}
	while (p < end) {
		const char *o = memmem(p, (size_t)(end - p), "{{", 2), *c, *name, *close, *after;
		size_t nlen;
		char kind;
		const struct tmpl_var *var;

		if (o == NULL) {
			buf_append(out, p, (size_t)(end - p));
			break;
		}
		buf_append(out, p, (size_t)(o - p));
		if ((c = memmem(o, (size_t)(end - o), "}}", 2)) == NULL) {
			*errstr = "unterminated {{";
			return -1;
		}
		kind = o[2];
		name = strchr("#^*/_>&", kind) ? o + 3 : o + 2;
		nlen = (size_t)(c - name);
		p = c + 2;
		if (kind == '>') {
			const char *pt;
			size_t plen;
			if (env->partial == NULL || env->partial(name, nlen, &pt, &plen, env->arg)) {
				*errstr = "unknown partial";
				return -1;
			}
			if (render(pt, pt + plen, v, env, out, depth + 1, errstr) == -1)
				return -1;
			continue;
		}
		if (kind == '_') {
			const char *t = msg_lookup(env->msgs, name, nlen);
			if (t == NULL) {
				*errstr = "unknown message key";
				return -1;
			}
			html_escape(out, t);
			continue;
		}
		if (kind == '/') {
			*errstr = "unexpected {{/...}}";
			return -1;
		}
		var = find(v, name, nlen);
		if (!strchr("#^*", kind)) {
			/* Only markup the code made itself goes out unescaped, and only where asked. */
			if (var && var->value && kind == '&' && var->markup)
				buf_puts(out, var->value);
			else if (var && var->value)
				html_escape(out, var->value);
			continue;
		}
		if ((close = find_close(p, end, name, nlen, &after)) == NULL) {
			*errstr = "unclosed section";
			return -1;
		}
		if (kind == '*') {
			for (size_t i = 0; var && i < var->nitems; i++)
				if (render(p, close, var->items[i], env, out, depth + 1, errstr) == -1)
					return -1;
		} else {
			int set = var && ((var->value && *var->value) || var->nitems);
			if ((kind == '#') == set &&
			    render(p, close, v, env, out, depth + 1, errstr) == -1)
				return -1;
		}
		p = after;
	}
	return 0;
}

int
tmpl_render(const char *text, size_t len, const struct tmpl_vars *v,
    const struct tmpl_env *env, struct buf *out, const char **errstr)
{
	return render(text, text + len, v, env, out, 0, errstr);
}
