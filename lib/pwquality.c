/*
 * Password quality: length counted in characters (a Japanese password is not three times
 * as long as it looks), the user's own name and e-mail address refused, and cracklib's
 * dictionary checks.  cracklib keeps static state, so one mutex serialises it.
 */
#include "config.h"

#include <stddef.h>	/* before crack.h, which uses size_t without it */
#include <crack.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "pwquality.h"
#include "xmalloc.h"

#define NAME_MIN_CHARS 3	/* shorter names would refuse too many passwords by accident */

static pthread_mutex_t crack_lock = PTHREAD_MUTEX_INITIALIZER;

/* Length of the UTF-8 sequence at p (shortest form, no surrogates, <= U+10FFFF), or 0. */
static size_t
utf8_seq(const unsigned char *p)
{
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

long
pwquality_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;

	while (*p) {
		size_t len = utf8_seq(p);

		if (len == 0)
			return -1;
		p += len;
		n++;
	}
	return n;
}

/* ASCII case-insensitive search of needle (n bytes) in hay. */
static int
contains_nocase(const char *hay, const char *needle, size_t n)
{
	size_t h = strlen(hay);

	for (size_t i = 0; n <= h && i <= h - n; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

/* pw equals or contains name (n bytes); names under NAME_MIN_CHARS only when equal. */
static int
like(const char *pw, const char *name, size_t n)
{
	char *s;
	long chars;

	if (n == 0)
		return 0;
	if (strlen(pw) == n && strncasecmp(pw, name, n) == 0)
		return 1;
	s = xstrndup(name, n);
	chars = pwquality_chars(s);
	free(s);
	return chars >= NAME_MIN_CHARS && contains_nocase(pw, name, n);
}

static int
like_user(const char *pw, const char *user, const char *email)
{
	if (user && like(pw, user, strlen(user)))
		return 1;
	return email && like(pw, email, strcspn(email, "@"));
}

/* cracklib's verdict; a dictionary that cannot be read refuses (fail closed). */
static int
crack_ok(const char *pw, const char *dict)
{
	const char *msg;

	pthread_mutex_lock(&crack_lock);
	msg = FascistCheck(pw, dict ? dict : GetDefaultCracklibDict());
	if (msg != NULL && strstr(msg, "error loading") != NULL)
		log_error("cracklib: %s (%s)", msg, dict ? dict : GetDefaultCracklibDict());
	else if (msg != NULL)
		log_debug("cracklib: %s", msg);
	pthread_mutex_unlock(&crack_lock);
	return msg == NULL;
}

int
pwquality_check(const char *pw, size_t min_chars, const char *user, const char *email,
    const char *dict, const char **why)
{
	long chars = pw ? pwquality_chars(pw) : -1;

	*why = NULL;
	if (chars < 0)
		*why = "pw_not_utf8";
	else if ((size_t)chars < min_chars)
		*why = "pw_too_short";
	else if (like_user(pw, user, email))
		*why = "pw_like_name";
	else if (!crack_ok(pw, dict))
		*why = "pw_dictionary";
	return *why ? -1 : 0;
}
