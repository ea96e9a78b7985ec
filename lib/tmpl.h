/*
 * Page templates: text with {{name}} (HTML-escaped value), {{_key}} (message in the
 * page's language, escaped), {{#name}}...{{/name}} (shown when name is set and not empty),
 * {{^name}}...{{/name}} (shown when it is not) and {{*list}}...{{/list}} (once per item).
 * {{>name}} includes another template (a partial) rendered with the same values.
 * There is no unescaped output: every byte that reaches a page from data is escaped.
 */
#ifndef SEKISHO_TMPL_H
#define SEKISHO_TMPL_H

#include "buf.h"

struct tmpl_vars;
struct tmpl_msgs;

struct tmpl_vars *tmpl_vars_new(void);
void tmpl_vars_free(struct tmpl_vars *v);
/* Copy value under name (NULL value: leave unset). */
void tmpl_set(struct tmpl_vars *v, const char *name, const char *value);
/* Append an item to list name; returns the item's vars (owned by v).  Items see v's names. */
struct tmpl_vars *tmpl_add_item(struct tmpl_vars *v, const char *name);

/* Parse a catalog of "key = text" lines (caller frees with tmpl_msgs_free); NULL on error. */
struct tmpl_msgs *tmpl_msgs_parse(const char *text, size_t len, const char **errstr);
void tmpl_msgs_free(struct tmpl_msgs *m);
/* Borrowed message text, or NULL. */
const char *tmpl_msg(const struct tmpl_msgs *m, const char *key);

/* Finds a partial's text by name; 0 or -1 when there is none. */
typedef int (*tmpl_partial_fn)(const char *name, size_t nlen, const char **text_r,
    size_t *len_r, void *arg);

struct tmpl_env {
	const struct tmpl_msgs *msgs;
	tmpl_partial_fn partial;
	void *arg;
};

/* Render into out; 0, or -1 with *errstr on a template syntax error or unknown message. */
int tmpl_render(const char *text, size_t len, const struct tmpl_vars *v,
    const struct tmpl_env *env, struct buf *out, const char **errstr);

#endif
