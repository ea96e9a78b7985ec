/*
 * Open addressing with linear probing, FNV-1a hashes, at most half full; keys are copied.
 * No removal: the maps are built once per configuration and thrown away whole.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xmalloc.h"

struct entry {
	char *key;
	void *val;
};

struct strmap {
	struct entry *e;
	size_t cap;	/* a power of two */
	size_t n;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct strmap *
strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof(*m));

	m->cap = 16;
	m->e = xcalloc(m->cap, sizeof(*m->e));
	return m;
}

void
strmap_free(struct strmap *m, void (*free_val)(void *))
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->e[i].key == NULL)
			continue;
		free(m->e[i].key);
		if (free_val)
			free_val(m->e[i].val);
	}
	free(m->e);
	free(m);
}

/* The entry of key, or the empty one where it would go. */
static struct entry *
find(const struct strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);

	while (m->e[i].key && strcmp(m->e[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->e[i];
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	return find(m, key)->val;
}

static void
grow(struct strmap *m)
{
	struct strmap old = *m;

	m->cap *= 2;
	m->e = xcalloc(m->cap, sizeof(*m->e));
	for (size_t i = 0; i < old.cap; i++)
		if (old.e[i].key)
			*find(m, old.e[i].key) = old.e[i];
	free(old.e);
}

void **
strmap_slot(struct strmap *m, const char *key)
{
	struct entry *e = find(m, key);

	if (e->key)
		return &e->val;
	if (2 * (m->n + 1) > m->cap) {
		grow(m);
		e = find(m, key);
	}
	e->key = xstrdup(key);
	e->val = NULL;
	m->n++;
	return &e->val;
}

size_t
strmap_count(const struct strmap *m)
{
	return m->n;
}
