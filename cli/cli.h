/*
 * What the files of the sekisho command line share: the grammar of its commands (one
 * table in args.c), the parsed command line, and the helpers every command uses.
 * sekisho.c has main() and the tenant, key, backup and init commands; user.c users and
 * groups; factor.c users' second factors and password-reset links; app.c the apps, their
 * assignments and portal display; catalog.c apps from the catalog's templates; cert.c
 * device certificates; policy.c access rules and the device-required settings; apikey.c
 * the tenant's API keys; audit.c the audit trail and the records of changes made here;
 * report.c the monthly report; prompt.c passwords from standard input or a terminal.
 */
#ifndef SEKISHO_CLI_H
#define SEKISHO_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "admin.h"
#include "instance.h"

#define MAX_ARGS 64
#define MAX_OPTS 18

/* Exit statuses (sekisho(8), EXIT STATUS). */
#define EXIT_FAIL 1	/* the command failed */
#define EXIT_USAGE 2	/* the command line is wrong */
#define EXIT_LIMIT 3	/* a certificate limit was reached */

enum opt_kind {
	OPT_FLAG,	/* --public */
	OPT_VALUE,	/* --email E, at most once */
	OPT_LIST,	/* --redirect-uri URI, repeatable */
};

struct opt_spec {
	const char *name;	/* "--use" */
	enum opt_kind kind;
	const char *metavar;	/* the value as the usage shows it ("FILE"); NULL for flags */
	const char *values;	/* the only values allowed ("saml|oidc|ca"), or NULL */
	int required;
};

/* Flags of a command. */
#define CMD_CA		0x1	/* starts a ca process before the store is opened */
#define CMD_ANY_TENANT	0x2	/* --tenant need not name an existing tenant */
#define CMD_NO_DIR	0x4	/* runs without opening DIR (init, help) */

struct cli;

/* One command: its words, positional arguments, options and handler. */
struct cmd_spec {
	const char *cmd;	/* "user" */
	const char *sub;	/* "add", or NULL for a command without subcommand words */
	const char *args;	/* positional arguments as the usage shows them, or NULL */
	int min, max;		/* how many positional arguments it takes */
	int flags;
	int (*run)(struct cli *c);	/* returns the exit status */
	struct opt_spec opts[MAX_OPTS];
};

struct cli_opt {
	const char *name;
	const char *value;	/* NULL for flags */
};

struct cli {
	const char *dir;
	const char *tenant;
	struct instance in;
	struct ca_client *ca;	/* the ca process, for commands that need the CA */
	struct admin adm;	/* for admin_* (admin/): tenant, ca, actor; the last failure */
	const struct cmd_spec *spec;
	int nargs;
	const char *args[MAX_ARGS];	/* positional arguments after the command words */
	int nopts;
	struct cli_opt opts[MAX_ARGS];	/* options in the order given */
};

/*
 * Parse argv against the command table into c (which keeps pointers into argv).  -1 when
 * c->spec is to be run; otherwise the exit status: 0 after --help or --version (printed
 * on standard output), EXIT_USAGE after a message and the usage on standard error.
 */
int args_parse(int argc, char **argv, struct cli *c);
/* Print the usage of cmd (and sub), or of everything when cmd is NULL. */
void args_usage(FILE *fp, const char *cmd, const char *sub);
/* "sekisho: MESSAGE" and the usage of c's command on stderr; returns EXIT_USAGE. */
int usage_fail(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "sekisho: MESSAGE" on stderr; returns EXIT_FAIL. */
int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The value of option name (borrowed), or NULL; every value of a repeatable one (new). */
const char *opt(const struct cli *c, const char *name);
char *opt_all(const struct cli *c, const char *name);
/* Whether flag name was given. */
int flag(const struct cli *c, const char *name);
/* The n-th positional argument after the command words, or NULL. */
const char *arg(const struct cli *c, int n);

/*
 * The password a command needs: with --password-stdin the first line of standard input;
 * otherwise, when required or --ask-password was given, asked twice without echo on the
 * terminal of standard input.  0 with *pw_r (NULL when none was asked for; free with
 * freezero_str), or an exit status after a message.  what names it in the prompt.
 */
int prompt_password(const struct cli *c, int required, const char *what, char **pw_r);
/* The first line of standard input (a password), or NULL. */
char *read_password(void);

/* 1 when --tenant names an existing tenant; 0 after a message. */
int tenant_exists(struct cli *c);
/* A file of at most max bytes, NUL-terminated, without NUL bytes; NULL with *errstr. */
char *slurp(const char *path, size_t max, size_t *len_r, const char **errstr);
/* The same for a file that may hold NUL bytes (an image). */
char *slurp_binary(const char *path, size_t max, size_t *len_r, const char **errstr);

struct audit_entry;
/*
 * An audit entry for a change made with sekisho: key, value pairs as for audit_entry_make,
 * then actor (the operating-system user who ran it) and, under sudo, sudo_user.  The store
 * writes it with the change; cli_audit_event writes one on its own, for changes the store
 * makes without one.
 */
void cli_audit(struct audit_entry *ae, const char *event, ...) __attribute__((sentinel));
void cli_audit_event(const struct cli *c, const char *tenant, const char *event, ...)
    __attribute__((sentinel));
/* Who runs this command, for a request to the ca process (its audit records). */
struct ca_request;
void cli_actor(struct ca_request *rq);

/* The handlers of the command table. */
int cmd_help(struct cli *c);
int cmd_init(struct cli *c);
int cmd_backup(struct cli *c);
int cmd_restore(struct cli *c);
int cmd_tenant_add(struct cli *c);
int cmd_tenant_ca(struct cli *c);
int cmd_tenant_show(struct cli *c);
/* licence.c: whether a licence option was given; set it (tenant set), or after tenant add. */
int cli_licence_given(struct cli *c);
int cli_licence_set(struct cli *c, const char *id);
int cli_licence_add(struct cli *c, const char *id);
/* tenant add's licence options checked before the tenant is made: 0, or an exit status. */
int cli_licence_check(struct cli *c);
int cmd_tenant_list(struct cli *c);
int cmd_tenant_set(struct cli *c);
int cmd_tenant_erase(struct cli *c);
int cmd_tenant_export(struct cli *c);
int cmd_tenant_import(struct cli *c);
int cmd_user_add(struct cli *c);
int cmd_user_list(struct cli *c);
int cmd_user_enable(struct cli *c);
int cmd_user_remove(struct cli *c);
int cmd_user_passwd(struct cli *c);
int cmd_user_import(struct cli *c);
int cmd_user_set(struct cli *c);
int cmd_user_show(struct cli *c);
int cmd_user_unlock(struct cli *c);
int cmd_user_otp(struct cli *c);
int cmd_user_reset_password(struct cli *c);
int cmd_user_factors(struct cli *c);
int cmd_user_factor(struct cli *c);
int cmd_group_add(struct cli *c);
int cmd_group_remove(struct cli *c);
int cmd_group_list(struct cli *c);
int cmd_group_member(struct cli *c);
int cmd_group_members(struct cli *c);
int cmd_key_list(struct cli *c);
int cmd_key_rotate(struct cli *c);
int cmd_apikey_create(struct cli *c);
int cmd_apikey_list(struct cli *c);
int cmd_apikey_show(struct cli *c);
int cmd_apikey_suspend(struct cli *c);
int cmd_apikey_delete(struct cli *c);
/* operator.c */
int cmd_tenant_suspend(struct cli *c);
int cmd_operator_apikey(struct cli *c);
int cmd_app_add_saml(struct cli *c);
int cmd_app_add_oidc(struct cli *c);
int cmd_app_list(struct cli *c);
int cmd_app_remove(struct cli *c);
int cmd_app_assign(struct cli *c);
int cmd_app_show(struct cli *c);
int cmd_app_set(struct cli *c);
int cmd_app_catalog(struct cli *c);
int cmd_app_add_template(struct cli *c);
int cmd_cert_issue(struct cli *c);
int cmd_cert_list(struct cli *c);
int cmd_cert_show(struct cli *c);
int cmd_cert_revoke(struct cli *c);
int cmd_cert_crl(struct cli *c);
int cmd_cert_ca(struct cli *c);
int cmd_policy_set(struct cli *c);
int cmd_policy_list(struct cli *c);
int cmd_policy_add(struct cli *c);
int cmd_policy_remove(struct cli *c);
int cmd_policy_move(struct cli *c);
int cmd_policy_test(struct cli *c);
int cmd_audit_list(struct cli *c);
int cmd_audit_verify(struct cli *c);
int cmd_report(struct cli *c);

#endif
