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

int
password_check_policy(const char *password, const char **errstr)
{
	size_t len = strlen(password);

	if (len < PASSWORD_MIN_LEN) {
		*errstr = "password too short (at least 8 characters)";
		return -1;
	}
	if (len > PASSWORD_MAX_LEN) {
		*errstr = "password too long (at most 1024 bytes)";
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)password; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*errstr = "password contains control characters";
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
