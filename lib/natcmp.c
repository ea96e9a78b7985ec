/*
 * Natural order of names (natcmp.h): runs of digits compare by their value, everything
 * else byte by byte (UTF-8 byte order is code point order), ASCII case ignored.
 */
#include "config.h"

#include <string.h>

#include "natcmp.h"

/* The digit at p (0-9, ASCII or full-width U+FF10..FF19) and its length in *len, or -1. */
static int
digit_at(const char *p, size_t *len)
{
	const unsigned char *u = (const unsigned char *)p;

	if (u[0] >= '0' && u[0] <= '9') {
		*len = 1;
		return u[0] - '0';
	}
	if (u[0] == 0xef && u[1] == 0xbc && u[2] >= 0x90 && u[2] <= 0x99) {
		*len = 3;
		return u[2] - 0x90;
	}
	return -1;
}

/* Skip the leading zeros of the number at *p; how many digits are left in it. */
static size_t
digits(const char **p)
{
	const char *q;
	size_t len, next, n = 0;

	while (digit_at(*p, &len) == 0 && digit_at(*p + len, &next) >= 0)
		*p += len;
	for (q = *p; digit_at(q, &len) >= 0; q += len)
		n++;
	return n;
}

/* Compare the numbers at *a and *b (moving past both): <0, 0, >0. */
static int
number_cmp(const char **a, const char **b)
{
	size_t na = digits(a), nb = digits(b), la = 1, lb = 1;
	int diff = 0;

	if (na != nb)
		return na < nb ? -1 : 1;
	for (; na > 0; na--, *a += la, *b += lb) {
		int da = digit_at(*a, &la), db = digit_at(*b, &lb);
		if (diff == 0)
			diff = da - db;
	}
	return diff;
}

static int
fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int
natcmp(const char *a, const char *b)
{
	const char *sa = a, *sb = b;
	size_t len;
	int d;

	while (*a && *b) {
		if (digit_at(a, &len) >= 0 && digit_at(b, &len) >= 0) {
			if ((d = number_cmp(&a, &b)) != 0)
				return d;
			continue;
		}
		if ((d = fold((unsigned char)*a) - fold((unsigned char)*b)) != 0)
			return d;
		a++, b++;
	}
	if (*a || *b)
		return *a ? 1 : -1;
	return strcmp(sa, sb);
}
