/*
 * The byte layout of stored records: a format version, then tag-length-value fields.
 * Readers skip tags they do not know, so a newer writer does not break an older reader.
 */
#ifndef SEKISHO_REC_H
#define SEKISHO_REC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct rec_reader {
	const unsigned char *p, *end;
	uint8_t version;
};

void rec_begin(struct buf *b, uint8_t version);
void rec_put_bytes(struct buf *b, uint8_t tag, const void *p, size_t n);
/* NULL strings are not written. */
void rec_put_str(struct buf *b, uint8_t tag, const char *s);
void rec_put_u64(struct buf *b, uint8_t tag, uint64_t v);

/* 0, or -1 when the record is empty. */
int rec_open(struct rec_reader *r, const void *p, size_t n);
/* 1 with the next field, 0 at the end, -1 when truncated. */
int rec_next(struct rec_reader *r, uint8_t *tag_r, const unsigned char **val_r, size_t *len_r);
/* Field decoders; -1 when the field has the wrong size. */
int rec_u64(const unsigned char *val, size_t len, uint64_t *v_r);
/* A new NUL-terminated copy; NULL when it contains a NUL. */
char *rec_str(const unsigned char *val, size_t len);

#endif

/*
 * Table-driven records: a struct is described once by its fields, then encoded, decoded
 * and released generically.  Strings are char *; byte fields are a pointer plus a size_t
 * length at lenoff; u64 fields are uint64_t.  Unknown tags are skipped on decode.
 */
enum rec_ftype {
	REC_STR,
	REC_U64,
	REC_BYTES,
};

struct rec_field {
	uint8_t tag;
	enum rec_ftype type;
	size_t off;
	size_t lenoff;	/* REC_BYTES only */
};

#define REC_END { 0, REC_STR, 0, 0 }

void rec_encode(const struct rec_field *fields, uint8_t version, const void *obj, struct buf *out);
/* 0, or -1 when malformed (obj is then cleared). */
int rec_decode(const struct rec_field *fields, void *obj, const void *p, size_t n);
/* Free (and wipe) what decode or the caller allocated; the struct is zeroed field by field. */
void rec_clear(const struct rec_field *fields, void *obj);
