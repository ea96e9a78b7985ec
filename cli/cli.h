/*
 * What the files of the sekisho command line share: the parsed command line and the
 * helpers every command uses.  sekisho.c has main() and the tenant, user, group, key,
 * audit and backup commands; app.c the apps; cert.c device certificates and policies.
 */
#ifndef SEKISHO_CLI_H
#define SEKISHO_CLI_H

#include <stddef.h>

#include "instance.h"

#define MAX_ARGS 32

struct cli {
	const char *dir;
	const char *tenant;
	struct instance in;
	struct ca_client *ca;	/* the ca process, for commands that need the CA */
	int argc;
	char **argv;	/* the command and its own arguments */
};

/* Print the usage and exit 2. */
__attribute__((noreturn)) void usage(void);
/* "sekisho: MESSAGE" on stderr; returns 1 (the exit status). */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The value of option name, or NULL; every value of a repeatable one, newline-joined. */
const char *opt(struct cli *c, const char *name);
char *opt_all(struct cli *c, const char *name);
/* Whether flag name was given. */
int flag(struct cli *c, const char *name);
/* Refuse options other than these (with_value take an argument): 1 after a message. */
int check_opts(struct cli *c, const char *const *with_value, const char *const *flags);
/* The n-th positional argument after the subcommand, or NULL. */
const char *arg(struct cli *c, int n, const char *const *with_value);
/* The first line of standard input (a password), or NULL. */
char *read_password(void);
/* 1 when --tenant names an existing tenant; 0 after a message. */
int tenant_exists(struct cli *c);
/* A file of at most max bytes, NUL-terminated, without NUL bytes; NULL with *errstr. */
char *slurp(const char *path, size_t max, size_t *len_r, const char **errstr);

int cmd_app(struct cli *c);
int cmd_cert(struct cli *c);
int cmd_policy(struct cli *c);

#endif
