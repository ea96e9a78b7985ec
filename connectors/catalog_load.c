/*
 * The catalog as a whole: the templates built into the binary, then those of a
 * catalog_dir (which add apps or replace built-in ones by name), kept in name order.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_int.h"
#include "xmalloc.h"

#define TEMPLATE_MAX (64 * 1024)
#define CATALOG_MAX 512

struct catalog {
	struct catalog_tmpl **t;
	size_t n;
};

/* Add t, replacing a template of the same name. */
static void
put(struct catalog *cat, struct catalog_tmpl *t)
{
	size_t i;

	for (i = 0; i < cat->n && strcmp(cat->t[i]->name, t->name) < 0; i++)
		;
	if (i < cat->n && !strcmp(cat->t[i]->name, t->name)) {
		catalog_tmpl_free(cat->t[i]);
		cat->t[i] = t;
		return;
	}
	cat->t = xreallocarray(cat->t, cat->n + 1, sizeof(*cat->t));
	memmove(&cat->t[i + 1], &cat->t[i], (cat->n - i) * sizeof(*cat->t));
	cat->t[i] = t;
	cat->n++;
}

/* A template file's text (new), at most TEMPLATE_MAX bytes, without NUL bytes. */
static char *
read_text(const char *path, struct buf *err)
{
	FILE *fp = fopen(path, "r");
	char *s = xmalloc(TEMPLATE_MAX + 1);
	size_t n = fp ? fread(s, 1, TEMPLATE_MAX + 1, fp) : 0;

	if (fp == NULL || ferror(fp) || n > TEMPLATE_MAX || memchr(s, '\0', n)) {
		buf_printf(err, "%s:0: %s\n", path, fp == NULL ? strerror(errno) : ferror(fp) ?
		    "read error" : n > TEMPLATE_MAX ? "larger than 64 KiB" : "holds a NUL byte");
		if (fp)
			fclose(fp);
		free(s);
		return NULL;
	}
	fclose(fp);
	s[n] = '\0';
	return s;
}

static int
is_template(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".tmpl");
}

/* Every template file (NAME.tmpl) of dir into cat; -1 after messages. */
static int
load_dir(struct catalog *cat, const char *dir, struct buf *err)
{
	struct dirent **list;
	int n = scandir(dir, &list, is_template, alphasort), rc = 0;

	if (n < 0) {
		buf_printf(err, "%s:0: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, list[i]->d_name), *text;
		struct catalog_tmpl *t = NULL;
		if (cat->n >= CATALOG_MAX)
			buf_printf(err, "%s:0: more than %d templates\n", path, CATALOG_MAX);
		else if ((text = read_text(path, err)) != NULL) {
			t = catalog_parse(path, text, err);
			free(text);
		}
		if (t)
			put(cat, t);
		else
			rc = -1;
		free(path);
		free(list[i]);
	}
	free(list);
	return rc;
}

struct catalog *
catalog_load(const char *dir, struct buf *err)
{
	struct catalog *cat = xcalloc(1, sizeof(*cat));
	int rc = 0;

	for (const struct catalog_file *f = catalog_files; f->name; f++) {
		struct catalog_tmpl *t = catalog_parse(f->name, f->data, err);
		if (t)
			put(cat, t);
		else
			rc = -1;
	}
	if (dir && load_dir(cat, dir, err) == -1)
		rc = -1;
	if (rc == -1) {
		catalog_free(cat);
		return NULL;
	}
	return cat;
}

void
catalog_free(struct catalog *cat)
{
	if (cat == NULL)
		return;
	for (size_t i = 0; i < cat->n; i++)
		catalog_tmpl_free(cat->t[i]);
	free(cat->t);
	free(cat);
}

const struct catalog_tmpl *
catalog_at(const struct catalog *cat, size_t i)
{
	return i < cat->n ? cat->t[i] : NULL;
}

const struct catalog_tmpl *
catalog_find(const struct catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->n; i++)
		if (!strcmp(cat->t[i]->name, name))
			return cat->t[i];
	return NULL;
}
