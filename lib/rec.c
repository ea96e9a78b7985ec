/*
 * Tag-length-value records: 1-byte tag, 4-byte big-endian length, value.
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "rec.h"
#include "xmalloc.h"

static void
put(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) == -1)
		fatal("%s: record too large", __func__);
}

void
rec_begin(struct buf *b, uint8_t version)
{
	buf_init(b, 0);
	put(b, &version, 1);
}

void
rec_put_bytes(struct buf *b, uint8_t tag, const void *p, size_t n)
{
	unsigned char hdr[5] = { tag, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
		(unsigned char)(n >> 8), (unsigned char)n };

	if (n > UINT32_MAX)
		fatal("%s: field too large", __func__);
	put(b, hdr, sizeof(hdr));
	put(b, p, n);
}

void
rec_put_str(struct buf *b, uint8_t tag, const char *s)
{
	if (s)
		rec_put_bytes(b, tag, s, strlen(s));
}

void
rec_put_u64(struct buf *b, uint8_t tag, uint64_t v)
{
	unsigned char be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (unsigned char)(v >> (56 - 8 * i));
	rec_put_bytes(b, tag, be, sizeof(be));
}

int
rec_open(struct rec_reader *r, const void *p, size_t n)
{
	if (n < 1)
		return -1;
	r->p = (const unsigned char *)p + 1;
	r->end = (const unsigned char *)p + n;
	r->version = *(const unsigned char *)p;
	return 0;
}

int
rec_next(struct rec_reader *r, uint8_t *tag_r, const unsigned char **val_r, size_t *len_r)
{
	size_t len;

	if (r->p == r->end)
		return 0;
	if (r->end - r->p < 5)
		return -1;
	len = (size_t)r->p[1] << 24 | (size_t)r->p[2] << 16 | (size_t)r->p[3] << 8 | r->p[4];
	if ((size_t)(r->end - r->p - 5) < len)
		return -1;
	*tag_r = r->p[0];
	*val_r = r->p + 5;
	*len_r = len;
	r->p += 5 + len;
	return 1;
}

int
rec_u64(const unsigned char *val, size_t len, uint64_t *v_r)
{
	uint64_t v = 0;

	if (len != 8)
		return -1;
	for (int i = 0; i < 8; i++)
		v = v << 8 | val[i];
	*v_r = v;
	return 0;
}

char *
rec_str(const unsigned char *val, size_t len)
{
	if (memchr(val, '\0', len))
		return NULL;
	return xstrndup((const char *)val, len);
}

#include <stdlib.h>

void
rec_encode(const struct rec_field *fields, uint8_t version, const void *obj, struct buf *out)
{
	const char *base = obj;

	rec_begin(out, version);
	for (const struct rec_field *f = fields; f->tag; f++) {
		switch (f->type) {
		case REC_STR:
			rec_put_str(out, f->tag, *(char *const *)(base + f->off));
			break;
		case REC_U64:
			rec_put_u64(out, f->tag, *(const uint64_t *)(base + f->off));
			break;
		case REC_BYTES: {
			const void *p = *(void *const *)(base + f->off);
			size_t n = *(const size_t *)(base + f->lenoff);
			if (p)
				rec_put_bytes(out, f->tag, p, n);
			break;
		}
		}
	}
}

static const struct rec_field *
field_by_tag(const struct rec_field *fields, uint8_t tag)
{
	for (const struct rec_field *f = fields; f->tag; f++)
		if (f->tag == tag)
			return f;
	return NULL;
}

int
rec_decode(const struct rec_field *fields, void *obj, const void *p, size_t n)
{
	char *base = obj;
	struct rec_reader r;
	const unsigned char *val;
	size_t len;
	uint8_t tag;
	int rc;

	if (rec_open(&r, p, n) == -1)
		goto bad;
	while ((rc = rec_next(&r, &tag, &val, &len)) == 1) {
		const struct rec_field *f = field_by_tag(fields, tag);
		if (f == NULL)
			continue;
		switch (f->type) {
		case REC_STR: {
			char **sp = (char **)(base + f->off);
			free(*sp);
			if ((*sp = rec_str(val, len)) == NULL)
				goto bad;
			break;
		}
		case REC_U64:
			if (rec_u64(val, len, (uint64_t *)(base + f->off)) == -1)
				goto bad;
			break;
		case REC_BYTES: {
			void **pp = (void **)(base + f->off);
			free(*pp);
			*pp = xmemdup(val, len ? len : 1);
			*(size_t *)(base + f->lenoff) = len;
			break;
		}
		}
	}
	if (rc == 0)
		return 0;
bad:
	rec_clear(fields, obj);
	return -1;
}

void
rec_clear(const struct rec_field *fields, void *obj)
{
	char *base = obj;

	for (const struct rec_field *f = fields; f->tag; f++) {
		switch (f->type) {
		case REC_STR: {
			char **sp = (char **)(base + f->off);
			freezero_str(*sp);
			*sp = NULL;
			break;
		}
		case REC_U64:
			*(uint64_t *)(base + f->off) = 0;
			break;
		case REC_BYTES: {
			void **pp = (void **)(base + f->off);
			size_t *lp = (size_t *)(base + f->lenoff);
			freezero(*pp, *lp);
			*pp = NULL;
			*lp = 0;
			break;
		}
		}
	}
}
