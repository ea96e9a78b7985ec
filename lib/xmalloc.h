/*
 * Allocation wrappers that abort on out-of-memory, so no caller carries an OOM branch,
 * and freezero() for memory that held secrets.
 */
#ifndef SEKISHO_XMALLOC_H
#define SEKISHO_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wipe n bytes at p, then free p.  Accepts NULL. */
void freezero(void *p, size_t n);
/* Wipe and free a NUL-terminated secret string.  Accepts NULL. */
void freezero_str(char *s);

#endif
