/*
 * Password policy: a minimum length in characters (UTF-8 code points, not bytes) and
 * cracklib's dictionary and pattern checks (FascistCheck, serialised: it is not
 * thread-safe), plus the user's own name and e-mail refused as passwords.
 */
#ifndef SEKISHO_PWQUALITY_H
#define SEKISHO_PWQUALITY_H

#include <stddef.h>

#define PWQUALITY_DEFAULT_MIN 10

/*
 * 0 when pw is acceptable; -1 with *why a key of the pages' messages saying why:
 * "pw_too_short", "pw_not_utf8", "pw_like_name", "pw_dictionary" (cracklib's reason is
 * logged at debug level only, never the password).  dict NULL: cracklib's default.
 */
int pwquality_check(const char *pw, size_t min_chars, const char *user, const char *email,
    const char *dict, const char **why);
/* Characters (code points) in a valid UTF-8 string, or -1 when it is not valid UTF-8. */
long pwquality_chars(const char *s);

#endif
