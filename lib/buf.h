/*
 * Growable byte buffers with a hard maximum: anything fed from the network goes into one,
 * and an append past the maximum fails instead of growing.
 */
#ifndef SEKISHO_BUF_H
#define SEKISHO_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;	/* 0: no maximum (only for data we produce ourselves) */
};

void buf_init(struct buf *b, size_t max);
/* 0, or -1 when the result would exceed b->max (b is unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take ownership of the data (caller frees); b is reset to empty. */
char *buf_steal(struct buf *b, size_t *len_r);
void buf_reset(struct buf *b);
/* Wipe and release (for buffers that held secrets too). */
void buf_free(struct buf *b);

#endif
