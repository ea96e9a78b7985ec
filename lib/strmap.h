/*
 * A hash map from strings to pointers, for look-ups by id on hot paths (access rules by
 * the user or group they name).  Built by one thread, then read by many without locks.
 */
#ifndef SEKISHO_STRMAP_H
#define SEKISHO_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map, its copies of the keys and, when free_val is given, each value. */
void strmap_free(struct strmap *m, void (*free_val)(void *));
/* The value of key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Where key's value is kept, with key added (value NULL) when it was not there. */
void **strmap_slot(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);

#endif
