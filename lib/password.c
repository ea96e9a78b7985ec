/*
 * argon2id password hashes.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "crypto.h"
#include "password.h"
#include "xmalloc.h"

#define SALT_LEN 16
#define HASH_LEN 32

/*
 * The code point of the UTF-8 sequence at *p (advanced past it), or -1 when it is not
 * valid UTF-8: truncated, overlong, a surrogate or beyond U+10FFFF.
 */
static long
utf8_next(const unsigned char **p)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	const unsigned char *s = *p;
	int n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
	    (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	long cp;

	if (n == 0)
		return -1;
	cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*p = s + n;
	return cp;
}

/* Length rules count characters (code points), so a Japanese password is not 3x long. */
int
password_check_policy(const char *password, const char **errstr)
{
	const unsigned char *p = (const unsigned char *)password;
	size_t chars = 0;

	if (strlen(password) > PASSWORD_MAX_LEN) {
		*errstr = "password too long (at most 1024 bytes)";
		return -1;
	}
	while (*p) {
		long cp = utf8_next(&p);
		if (cp == -1) {
			*errstr = "password is not valid UTF-8";
			return -1;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			*errstr = "password contains control characters";
			return -1;
		}
		chars++;
	}
	if (chars < PASSWORD_MIN_LEN) {
		*errstr = "password too short (at least 8 characters)";
		return -1;
	}
	return 0;
}

char *
password_hash(const struct password_params *pp, const char *password, const char **errstr)
{
	unsigned char salt[SALT_LEN];
	size_t enclen;
	char *enc;
	int rc;

	if (strlen(password) > PASSWORD_MAX_LEN) {
		*errstr = "password too long";
		return NULL;
	}
	crypto_random(salt, sizeof(salt));
	enclen = argon2_encodedlen(pp->t_cost, pp->m_cost, pp->parallelism, SALT_LEN, HASH_LEN,
	    Argon2_id);
	enc = xmalloc(enclen);
	rc = argon2id_hash_encoded(pp->t_cost, pp->m_cost, pp->parallelism, password,
	    strlen(password), salt, SALT_LEN, HASH_LEN, enc, enclen);
	if (rc != ARGON2_OK) {
		free(enc);
		*errstr = argon2_error_message(rc);
		return NULL;
	}
	return enc;
}

int
password_verify(const char *encoded, const char *password)
{
	int rc;

	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return -1;
	if (strlen(password) > PASSWORD_MAX_LEN)
		return 0;
	rc = argon2id_verify(encoded, password, strlen(password));
	if (rc == ARGON2_OK)
		return 1;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return 0;
	return -1;
}

void
password_dummy_verify(const struct password_params *pp, const char *password)
{
	static char *dummy;
	static struct password_params dummy_pp;
	const char *err;

	/* Parameters are fixed per process, so one dummy hash made on first use is enough. */
	dummy_pp = *pp;
	if (dummy == NULL) {
		char *h = password_hash(&dummy_pp, "sekisho-dummy-password", &err);
		if (h && __sync_bool_compare_and_swap(&dummy, NULL, h) == 0)
			free(h);
	}
	if (dummy)
		(void)password_verify(dummy, password);
}

int
password_needs_rehash(const char *encoded, const struct password_params *pp)
{
	unsigned int m, t, p;

	if (sscanf(encoded, "$argon2id$v=19$m=%u,t=%u,p=%u$", &m, &t, &p) != 3)
		return 1;
	return m < pp->m_cost || t < pp->t_cost;
}
