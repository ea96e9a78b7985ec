/*
 * The grammar of the sekisho command line: every command in one table (words, positional
 * arguments, options and their allowed values), parsing against it in one place, the
 * usage made from the same table, and the nearest known name for a typo.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "xmalloc.h"

#define PW_STDIN { "--password-stdin", OPT_FLAG, NULL, NULL, 0 }
#define ASK_PW { "--ask-password", OPT_FLAG, NULL, NULL, 0 }
#define CA_KEY { "--ca-key", OPT_VALUE, "TYPE", "p256|rsa3072", 0 }
#define OUT_FILE { "--out", OPT_VALUE, "FILE", NULL, 1 }
#define USER_OPT { "--user", OPT_VALUE, "U", NULL, 0 }
#define GROUP_OPT { "--group", OPT_VALUE, "G", NULL, 0 }
#define BEFORE_OPT(required) { "--before", OPT_VALUE, "OTHER", NULL, required }
#define SEATS { "--seats", OPT_VALUE, "N", NULL, 0 }
#define DEVICE_SEATS { "--device-seats", OPT_VALUE, "M", NULL, 0 }
#define TRIAL { "--trial-until", OPT_VALUE, "YYYY-MM-DD", NULL, 0 }
#define REASONS "unspecified|keyCompromise|affiliationChanged|superseded|" \
	"cessationOfOperation|privilegeWithdrawn"

static const struct cmd_spec table[] = {
	{ "init", NULL, NULL, 0, 0, CMD_NO_DIR, cmd_init, {
		{ "--url", OPT_VALUE, "https://HOST[:PORT]", NULL, 1 },
		{ "--listen", OPT_VALUE, "ADDR:PORT", NULL, 0 } } },
	{ "help", NULL, "[COMMAND [SUBCOMMAND]]", 0, 2, CMD_NO_DIR, cmd_help, { { 0 } } },
	{ "tenant", "add", "T", 1, 1, CMD_CA | CMD_ANY_TENANT, cmd_tenant_add, {
		{ "--name", OPT_VALUE, "NAME", NULL, 0 }, CA_KEY, SEATS, DEVICE_SEATS, TRIAL } },
	{ "tenant", "ca", "T", 1, 1, CMD_CA | CMD_ANY_TENANT, cmd_tenant_ca, { CA_KEY } },
	{ "tenant", "list", NULL, 0, 0, CMD_ANY_TENANT, cmd_tenant_list, { { 0 } } },
	{ "tenant", "set", "T", 1, 1, CMD_ANY_TENANT, cmd_tenant_set, {
		{ "--timezone", OPT_VALUE, "ZONE", NULL, 0 },
		{ "--default", OPT_VALUE, "EFFECT", "allow|deny", 0 },
		{ "--password-min-length", OPT_VALUE, "N", NULL, 0 },
		{ "--display-name", OPT_VALUE, "TEXT", NULL, 0 },
		{ "--no-display-name", OPT_FLAG, NULL, NULL, 0 },
		{ "--logo", OPT_VALUE, "FILE.png|FILE.svg", NULL, 0 },
		{ "--no-logo", OPT_FLAG, NULL, NULL, 0 },
		{ "--color", OPT_VALUE, "#RGB|#RRGGBB", NULL, 0 },
		{ "--no-color", OPT_FLAG, NULL, NULL, 0 },
		{ "--help-url", OPT_VALUE, "https://...|mailto:...", NULL, 0 },
		{ "--no-help-url", OPT_FLAG, NULL, NULL, 0 }, SEATS, DEVICE_SEATS, TRIAL,
		{ "--no-trial", OPT_FLAG, NULL, NULL, 0 }, { "--force", OPT_FLAG, NULL, NULL, 0 },
		{ "--unlicensed", OPT_FLAG, NULL, NULL, 0 } } },
	{ "tenant", "show", "T", 1, 1, CMD_ANY_TENANT, cmd_tenant_show, { { 0 } } },
	{ "tenant", "erase", "T", 1, 1, CMD_ANY_TENANT, cmd_tenant_erase, {
		{ "--confirm", OPT_VALUE, "T", NULL, 1 } } },
	{ "tenant", "export", "T", 1, 1, CMD_ANY_TENANT, cmd_tenant_export, { OUT_FILE } },
	{ "tenant", "import", "FILE", 1, 1, CMD_CA | CMD_ANY_TENANT, cmd_tenant_import, {
		{ "--as", OPT_VALUE, "T", NULL, 0 } } },
	{ "user", "add", "NAME", 1, 1, 0, cmd_user_add, {
		{ "--email", OPT_VALUE, "E", NULL, 0 },
		{ "--name", OPT_VALUE, "DISPLAY", NULL, 0 }, PW_STDIN, ASK_PW,
		{ "--operator", OPT_FLAG, NULL, NULL, 0 } } },
	{ "user", "list", NULL, 0, 0, 0, cmd_user_list, { { 0 } } },
	{ "user", "disable", "NAME", 1, 1, 0, cmd_user_enable, { { 0 } } },
	{ "user", "enable", "NAME", 1, 1, 0, cmd_user_enable, { { 0 } } },
	{ "user", "remove", "NAME", 1, 1, CMD_CA, cmd_user_remove, { { 0 } } },
	{ "user", "passwd", "NAME", 1, 1, 0, cmd_user_passwd, { PW_STDIN } },
	{ "user", "import", "FILE", 1, 1, 0, cmd_user_import, { PW_STDIN, ASK_PW } },
	{ "user", "set", "NAME", 1, 1, 0, cmd_user_set, {
		{ "--email", OPT_VALUE, "E", NULL, 0 },
		{ "--name", OPT_VALUE, "DISPLAY", NULL, 0 },
		{ "--attr", OPT_LIST, "KEY=VALUE", NULL, 0 },
		{ "--break-glass", OPT_VALUE, "on|off", "on|off", 0 },
		{ "--must-change-password", OPT_VALUE, "on|off", "on|off", 0 },
		{ "--role", OPT_VALUE, "ROLE", "user|helpdesk|admin", 0 },
		{ "--operator", OPT_FLAG, NULL, NULL, 0 },
		{ "--no-operator", OPT_FLAG, NULL, NULL, 0 } } },
	{ "user", "show", "NAME", 1, 1, 0, cmd_user_show, { { 0 } } },
	{ "user", "unlock", "NAME", 1, 1, 0, cmd_user_unlock, { { 0 } } },
	{ "user", "otp", "add NAME", 2, 2, 0, cmd_user_otp, {
		{ "--label", OPT_VALUE, "L", NULL, 0 } } },
	{ "user", "reset-password", "NAME", 1, 1, 0, cmd_user_reset_password, {
		{ "--print-link", OPT_FLAG, NULL, NULL, 0 } } },
	{ "user", "factors", "NAME", 1, 1, 0, cmd_user_factors, { { 0 } } },
	{ "user", "factor", "remove NAME ID", 3, 3, 0, cmd_user_factor, { { 0 } } },
	{ "group", "add", "G", 1, 1, 0, cmd_group_add, { { 0 } } },
	{ "group", "remove", "G", 1, 1, 0, cmd_group_remove, { { 0 } } },
	{ "group", "list", NULL, 0, 0, 0, cmd_group_list, { { 0 } } },
	{ "group", "add-member", "G USER", 2, 2, 0, cmd_group_member, { { 0 } } },
	{ "group", "remove-member", "G USER", 2, 2, 0, cmd_group_member, { { 0 } } },
	{ "group", "members", "G", 1, 1, 0, cmd_group_members, { { 0 } } },
	{ "app", "add-saml", "NAME", 1, 1, 0, cmd_app_add_saml, {
		{ "--metadata", OPT_VALUE, "FILE", NULL, 1 },
		{ "--nameid", OPT_VALUE, "FORMAT", "persistent|transient|email", 0 },
		{ "--sign-response", OPT_FLAG, NULL, NULL, 0 } } },
	{ "app", "add-oidc", "NAME", 1, 1, 0, cmd_app_add_oidc, {
		{ "--redirect-uri", OPT_LIST, "URI", NULL, 0 },
		{ "--public", OPT_FLAG, NULL, NULL, 0 },
		{ "--auth", OPT_VALUE, "METHOD",
		    "client_secret_basic|client_secret_post|private_key_jwt", 0 },
		{ "--jwks", OPT_VALUE, "FILE", NULL, 0 },
		{ "--post-logout-redirect-uri", OPT_LIST, "URI", NULL, 0 },
		{ "--id-token-alg", OPT_VALUE, "ALG", "RS256|ES256", 0 },
		{ "--access-token", OPT_VALUE, "FORMAT", "jwt|opaque", 0 },
		{ "--backchannel-logout-uri", OPT_VALUE, "URI", NULL, 0 },
		{ "--grant", OPT_VALUE, "GRANT[,GRANT...]", NULL, 0 },
		{ "--initiate-login-uri", OPT_VALUE, "URI", NULL, 0 } } },
	{ "app", "catalog", "[TEMPLATE]", 0, 1, CMD_ANY_TENANT, cmd_app_catalog, { { 0 } } },
	{ "app", "add", "NAME", 1, 1, 0, cmd_app_add_template, {
		{ "--template", OPT_VALUE, "TEMPLATE", NULL, 1 },
		{ "--set", OPT_LIST, "KEY=VALUE", NULL, 0 } } },
	{ "app", "list", NULL, 0, 0, 0, cmd_app_list, { { 0 } } },
	{ "app", "remove", "NAME", 1, 1, 0, cmd_app_remove, { { 0 } } },
	{ "app", "assign", "APP", 1, 1, 0, cmd_app_assign, { USER_OPT, GROUP_OPT } },
	{ "app", "unassign", "APP", 1, 1, 0, cmd_app_assign, { USER_OPT, GROUP_OPT,
		{ "--removed", OPT_FLAG, NULL, NULL, 0 } } },
	{ "app", "show", "APP", 1, 1, 0, cmd_app_show, { { 0 } } },
	{ "app", "set", "APP", 1, 1, 0, cmd_app_set, {
		{ "--display-name", OPT_VALUE, "TEXT", NULL, 0 },
		{ "--description", OPT_VALUE, "TEXT", NULL, 0 },
		{ "--icon", OPT_VALUE, "FILE.png|FILE.svg", NULL, 0 },
		{ "--no-icon", OPT_FLAG, NULL, NULL, 0 },
		{ "--initiate-login-uri", OPT_VALUE, "URI", NULL, 0 },
		{ "--no-initiate-login-uri", OPT_FLAG, NULL, NULL, 0 } } },
	{ "key", "list", NULL, 0, 0, 0, cmd_key_list, {
		{ "--use", OPT_VALUE, "USE", "saml|oidc|ca", 0 } } },
	{ "key", "rotate", NULL, 0, 0, 0, cmd_key_rotate, {
		{ "--use", OPT_VALUE, "USE", "saml|oidc", 0 } } },
	{ "apikey", "create", "NAME", 1, 1, 0, cmd_apikey_create, {
		{ "--scope", OPT_VALUE, "read|write|certs|scim[,...]", NULL, 1 },
		{ "--expires", OPT_VALUE, "DURATION", NULL, 0 },
		{ "--trial", OPT_FLAG, NULL, NULL, 0 } } },
	{ "apikey", "list", NULL, 0, 0, 0, cmd_apikey_list, { { 0 } } },
	{ "apikey", "show", "NAME", 1, 1, 0, cmd_apikey_show, { { 0 } } },
	{ "apikey", "suspend", "NAME", 1, 1, 0, cmd_apikey_suspend, { { 0 } } },
	{ "apikey", "resume", "NAME", 1, 1, 0, cmd_apikey_suspend, { { 0 } } },
	{ "apikey", "delete", "NAME", 1, 1, 0, cmd_apikey_delete, { { 0 } } },
	{ "operator", "apikey", "ACTION [NAME]", 1, 2, CMD_ANY_TENANT, cmd_operator_apikey, {
		{ "--scope", OPT_VALUE, "read[,write]", NULL, 0 },
		{ "--expires", OPT_VALUE, "DURATION", NULL, 0 } } },
	{ "tenant", "suspend", "T", 1, 1, CMD_ANY_TENANT, cmd_tenant_suspend, { { 0 } } },
	{ "tenant", "resume", "T", 1, 1, CMD_ANY_TENANT, cmd_tenant_suspend, { { 0 } } },
	{ "cert", "issue", "USER", 1, 1, CMD_CA, cmd_cert_issue, {
		{ "--label", OPT_VALUE, "LABEL", NULL, 1 }, OUT_FILE,
		{ "--csr", OPT_VALUE, "FILE.csr", NULL, 0 }, PW_STDIN,
		{ "--legacy", OPT_FLAG, NULL, NULL, 0 },
		{ "--force", OPT_FLAG, NULL, NULL, 0 } } },
	{ "cert", "list", "[USER]", 0, 1, 0, cmd_cert_list, {
		{ "--expiring-within", OPT_VALUE, "DURATION", NULL, 0 } } },
	{ "cert", "show", "SERIAL", 1, 1, 0, cmd_cert_show, { { 0 } } },
	{ "cert", "revoke", "SERIAL", 1, 1, CMD_CA, cmd_cert_revoke, {
		{ "--reason", OPT_VALUE, "REASON", REASONS, 0 } } },
	{ "cert", "crl", NULL, 0, 0, CMD_CA, cmd_cert_crl, { OUT_FILE } },
	{ "cert", "ca", NULL, 0, 0, 0, cmd_cert_ca, { OUT_FILE } },
	{ "policy", "set", "device-required on|off|inherit", 2, 2, 0, cmd_policy_set, {
		{ "--user", OPT_VALUE, "U", NULL, 0 },
		{ "--group", OPT_VALUE, "G", NULL, 0 },
		{ "--app", OPT_VALUE, "A", NULL, 0 },
		{ "--tenant", OPT_FLAG, NULL, NULL, 0 } } },
	{ "policy", "list", NULL, 0, 0, 0, cmd_policy_list, { { 0 } } },
	{ "policy", "add", "NAME", 1, 1, 0, cmd_policy_add, {
		{ "--effect", OPT_VALUE, "EFFECT", "allow|deny|device|mfa", 1 },
		{ "--user", OPT_LIST, "U", NULL, 0 },
		{ "--group", OPT_LIST, "G", NULL, 0 },
		{ "--app", OPT_LIST, "A", NULL, 0 },
		{ "--from", OPT_LIST, "CIDR", NULL, 0 },
		{ "--not-from", OPT_LIST, "CIDR", NULL, 0 },
		{ "--days", OPT_VALUE, "mon,tue,...", NULL, 0 },
		{ "--hours", OPT_VALUE, "HH:MM-HH:MM", NULL, 0 },
		{ "--enroll", OPT_FLAG, NULL, NULL, 0 },
		{ "--report-only", OPT_FLAG, NULL, NULL, 0 }, BEFORE_OPT(0) } },
	{ "policy", "remove", "NAME", 1, 1, 0, cmd_policy_remove, { { 0 } } },
	{ "policy", "move", "NAME", 1, 1, 0, cmd_policy_move, { BEFORE_OPT(1) } },
	{ "policy", "test", NULL, 0, 0, 0, cmd_policy_test, {
		{ "--user", OPT_VALUE, "U", NULL, 1 },
		{ "--app", OPT_VALUE, "A", NULL, 0 },
		{ "--ip", OPT_VALUE, "IP", NULL, 1 },
		{ "--at", OPT_VALUE, "TIME", NULL, 0 },
		{ "--device", OPT_FLAG, NULL, NULL, 0 },
		{ "--mfa", OPT_FLAG, NULL, NULL, 0 } } },
	{ "audit", NULL, NULL, 0, 0, 0, cmd_audit_list, {
		{ "--event", OPT_VALUE, "EVENT", NULL, 0 },
		{ "--user", OPT_VALUE, "U", NULL, 0 },
		{ "--app", OPT_VALUE, "A", NULL, 0 },
		{ "--since", OPT_VALUE, "WHEN", NULL, 0 },
		{ "--until", OPT_VALUE, "WHEN", NULL, 0 },
		{ "--json", OPT_FLAG, NULL, NULL, 0 },
		{ "--operator", OPT_FLAG, NULL, NULL, 0 } } },
	{ "audit", "verify", NULL, 0, 0, 0, cmd_audit_verify, {
		{ "--operator", OPT_FLAG, NULL, NULL, 0 } } },
	{ "backup", NULL, "PATH", 1, 1, CMD_ANY_TENANT, cmd_backup, { { 0 } } },
	{ "report", NULL, NULL, 0, 0, CMD_ANY_TENANT, cmd_report, {
		{ "--month", OPT_VALUE, "YYYY-MM", NULL, 0 },
		{ "--out", OPT_VALUE, "DIR", NULL, 0 },
		{ "--lang", OPT_VALUE, "LANG", "ja|en", 0 },
		{ "--list", OPT_FLAG, NULL, NULL, 0 } } },
	{ "restore", NULL, "FROM", 1, 1, CMD_NO_DIR, cmd_restore, { { 0 } } },
};

#define NCMDS (sizeof(table) / sizeof(table[0]))

static const char *const globals[] = { "--dir", "--tenant", "--help", "--version", NULL };

/* ---- suggestions ---- */

/* Levenshtein distance of a and b (both short: longer strings count as far apart). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

struct nearest {
	const char *word;
	const char *best;
	size_t dist;
};

/* Consider candidate: close in edit distance, or the only one word is a prefix of. */
static void
consider(struct nearest *n, const char *candidate)
{
	size_t d = distance(n->word, candidate), len = strlen(n->word);

	if (len >= 3 && !strncmp(candidate, n->word, len))
		d = d < 2 ? d : 2;
	if (d <= 2 && d <= len / 2 + 1 && (n->best == NULL || d < n->dist)) {
		n->best = candidate;
		n->dist = d;
	}
}

/* "; did you mean \"X\"?" for the nearest candidate, or "". */
static const char *
hint(const struct nearest *n, const char *prefix, char *buf, size_t size)
{
	if (n->best == NULL)
		return "";
	snprintf(buf, size, "; did you mean \"%s%s%s\"?", prefix ? prefix : "",
	    prefix ? " " : "", n->best);
	return buf;
}

/* ---- the table ---- */

static int
has_command(const char *cmd)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(table[i].cmd, cmd))
			return 1;
	return 0;
}

/* The entry of cmd and sub (NULL: the command without subcommand words), or NULL. */
static const struct cmd_spec *
find(const char *cmd, const char *sub)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(table[i].cmd, cmd) && (sub ? table[i].sub && !strcmp(table[i].sub, sub) :
		    table[i].sub == NULL))
			return &table[i];
	return NULL;
}

static int
has_subcommands(const char *cmd)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(table[i].cmd, cmd) && table[i].sub)
			return 1;
	return 0;
}

static const struct opt_spec *
find_opt(const struct cmd_spec *s, const char *name)
{
	for (const struct opt_spec *o = s->opts; o < s->opts + MAX_OPTS && o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

/* "user add", or "audit": how messages name a command. */
static const char *
spec_name(const struct cmd_spec *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", s->cmd, s->sub ? " " : "", s->sub ? s->sub : "");
	return buf;
}

/* ---- usage ---- */

/* One option as the usage shows it: "[--use saml|oidc|ca]", "--out FILE", "[--uri URI]...". */
static void
render_opt(struct buf *b, const struct opt_spec *o)
{
	const char *v = o->values && strlen(o->values) <= 40 ? o->values : o->metavar;

	buf_printf(b, "%s%s%s%s%s%s", o->required ? "" : "[", o->name, v ? " " : "", v ? v : "",
	    o->required ? "" : "]", o->kind == OPT_LIST ? "..." : "");
}

/* The usage line of s, wrapped before 80 columns under its first argument. */
static void
print_spec(FILE *fp, const struct cmd_spec *s)
{
	struct buf item;
	int indent, col;

	col = fprintf(fp, "  %s%s%s", s->cmd, s->sub ? " " : "", s->sub ? s->sub : "");
	indent = col + 1;
	if (s->args)
		col += fprintf(fp, " %s", s->args);
	for (const struct opt_spec *o = s->opts; o < s->opts + MAX_OPTS && o->name; o++) {
		buf_init(&item, 0);
		render_opt(&item, o);
		if (col + 1 + (int)item.len > 79)
			col = fprintf(fp, "\n%*s%s", indent, "", item.data) - 1;
		else
			col += fprintf(fp, " %s", item.data);
		buf_free(&item);
	}
	fputc('\n', fp);
}

void
args_usage(FILE *fp, const char *cmd, const char *sub)
{
	fputs("usage: sekisho --dir DIR [--tenant T] COMMAND [ARGUMENTS] [OPTIONS]\n"
	    "       sekisho help [COMMAND] | --help | --version\n"
	    "commands:\n", fp);
	for (size_t i = 0; i < NCMDS; i++)
		if (cmd == NULL || (!strcmp(table[i].cmd, cmd) && (sub == NULL ||
		    (table[i].sub && !strcmp(table[i].sub, sub)))))
			print_spec(fp, &table[i]);
}

static int
vusage_fail(const char *cmd, const char *sub, const char *fmt, va_list ap)
{
	fputs("sekisho: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	args_usage(stderr, cmd, sub);
	return EXIT_USAGE;
}

static int
scope_fail(const char *cmd, const char *sub, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
scope_fail(const char *cmd, const char *sub, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vusage_fail(cmd, sub, fmt, ap);
	va_end(ap);
	return rc;
}

int
usage_fail(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vusage_fail(c->spec ? c->spec->cmd : NULL, c->spec ? c->spec->sub : NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- parsing ---- */

/* An option name, not an argument: "-1" stays an argument (a serial, say), and "-" too. */
static int
is_option(const char *a)
{
	return a[0] == '-' && a[1] && !isdigit((unsigned char)a[1]);
}

/* What the parser has seen besides what goes into struct cli. */
struct parse {
	const char *cmd;	/* the first command word */
	int help;
	int dashdash;		/* after "--": positional arguments only */
	int status;		/* the exit status when parsing stops early */
};

/* "X, Y or Z" of an allowed-values string "X|Y|Z", into b. */
static void
list_values(struct buf *b, const char *values)
{
	const char *p = values;

	while (*p) {
		size_t n = strcspn(p, "|");
		buf_printf(b, "%s%.*s", p == values ? "" : p[n] ? ", " : " or ", (int)n, p);
		p += n + (p[n] == '|');
	}
}

static int
value_allowed(const char *values, const char *v)
{
	size_t len = strlen(v);

	for (const char *p = values; *p; p += strcspn(p, "|") + (p[strcspn(p, "|")] == '|'))
		if (strcspn(p, "|") == len && !strncmp(p, v, len))
			return 1;
	return 0;
}

static int
bad_value(const struct cli *c, const struct opt_spec *o, const char *v)
{
	struct buf b;
	int rc, n = 1;

	for (const char *p = o->values; *p; p++)
		n += *p == '|';
	buf_init(&b, 0);
	list_values(&b, o->values);
	rc = usage_fail(c, "%s must be %s%s, not \"%s\"", o->name, n > 3 ? "one of " : "",
	    b.data, v);
	buf_free(&b);
	return rc;
}

static int
unknown_option(const struct cli *c, const char *a)
{
	struct nearest n = { .word = a };
	char buf[160], name[64];

	if (c->spec)
		for (const struct opt_spec *o = c->spec->opts; o < c->spec->opts + MAX_OPTS &&
		    o->name; o++)
			consider(&n, o->name);
	for (size_t i = 0; globals[i]; i++)
		consider(&n, globals[i]);
	if (c->spec)
		return usage_fail(c, "unknown option \"%s\" for \"%s\"%s", a,
		    spec_name(c->spec, name, sizeof(name)), hint(&n, NULL, buf, sizeof(buf)));
	return usage_fail(c, "unknown option \"%s\"%s", a, hint(&n, NULL, buf, sizeof(buf)));
}

/* An option of the command at argv[*i] (its value consumed); 0 or an exit status. */
static int
take_option(struct cli *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = NULL;
	const struct opt_spec *o = find_opt(c->spec, a);

	if (o == NULL)
		return unknown_option(c, a);
	if (o->kind != OPT_FLAG) {
		if (*i + 1 >= argc)
			return usage_fail(c, "%s needs a value (%s)", a, o->metavar);
		v = argv[++*i];
		if (o->values && !value_allowed(o->values, v))
			return bad_value(c, o, v);
	}
	if (o->kind != OPT_LIST && flag(c, o->name))
		return usage_fail(c, "%s given twice", a);
	if (c->nopts == MAX_ARGS)
		return usage_fail(c, "too many options");
	c->opts[c->nopts].name = o->name;
	c->opts[c->nopts++].value = v;
	return 0;
}

/*
 * "policy set --tenant device-required on": there --tenant is the scope, not the global
 * option naming a tenant; the scope is followed by the policy name or nothing.
 */
static int
is_tenant_scope(const struct cli *c, int argc, char **argv, int i)
{
	return c->spec && find_opt(c->spec, "--tenant") && !strcmp(argv[i], "--tenant") &&
	    (i + 1 == argc || !strcmp(argv[i + 1], "device-required"));
}

/* A global option at argv[*i]: 1 taken, 0 not one, -1 to stop with p->status. */
static int
take_global(struct cli *c, struct parse *p, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
		p->help = 1;
		return 1;
	}
	if (!strcmp(a, "--version")) {
		printf("sekisho %s\n", PACKAGE_VERSION);
		p->status = 0;
		return -1;
	}
	if (strcmp(a, "--dir") && strcmp(a, "--tenant"))
		return 0;
	if (*i + 1 >= argc) {
		p->status = usage_fail(c, "%s needs a value", a);
		return -1;
	}
	if (!strcmp(a, "--dir"))
		c->dir = argv[++*i];
	else
		c->tenant = argv[++*i];
	return 1;
}

static int
unknown_command(const char *cmd, const char *sub)
{
	struct nearest n = { .word = sub ? sub : cmd };
	char buf[160];

	for (size_t i = 0; i < NCMDS; i++) {
		if (sub == NULL && (i == 0 || strcmp(table[i].cmd, table[i - 1].cmd)))
			consider(&n, table[i].cmd);
		if (sub && !strcmp(table[i].cmd, cmd) && table[i].sub)
			consider(&n, table[i].sub);
	}
	return scope_fail(sub ? cmd : NULL, NULL, "unknown command \"%s%s%s\"%s", cmd,
	    sub ? " " : "", sub ? sub : "", hint(&n, sub ? cmd : NULL, buf, sizeof(buf)));
}

/* A command word at argv[*i] before the command is known; 0 or an exit status. */
static int
take_word(struct cli *c, struct parse *p, char **argv, int *i)
{
	const char *a = argv[*i];

	if (p->cmd == NULL) {
		if (is_option(a))
			return unknown_option(c, a);
		if (!has_command(a))
			return unknown_command(a, NULL);
		p->cmd = a;
		if (!has_subcommands(a))
			c->spec = find(a, NULL);
		return 0;
	}
	/* "audit --since 1d": options straight after a command that also stands alone. */
	if (is_option(a) && find(p->cmd, NULL)) {
		c->spec = find(p->cmd, NULL);
		--*i;
		return 0;
	}
	if (is_option(a))
		return scope_fail(p->cmd, NULL, "\"%s\" needs a subcommand before %s", p->cmd, a);
	if ((c->spec = find(p->cmd, a)) == NULL)
		return unknown_command(p->cmd, a);
	return 0;
}

/* A token after the command words: an option or a positional argument. */
static int
take_token(struct cli *c, struct parse *p, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (!p->dashdash && !strcmp(a, "--")) {
		p->dashdash = 1;
		return 0;
	}
	if (!p->dashdash && is_option(a))
		return take_option(c, argc, argv, i);
	if (c->nargs == MAX_ARGS)
		return usage_fail(c, "too many arguments");
	c->args[c->nargs++] = a;
	return 0;
}

/* What must hold once every token is read; 0 or an exit status. */
static int
complete(struct cli *c, const struct parse *p)
{
	char name[64];

	if (p->cmd == NULL)
		return scope_fail(NULL, NULL, "no command given");
	if (c->spec == NULL && (c->spec = find(p->cmd, NULL)) == NULL)
		return scope_fail(p->cmd, NULL, "\"%s\" needs a subcommand", p->cmd);
	spec_name(c->spec, name, sizeof(name));
	if (c->nargs < c->spec->min)
		return usage_fail(c, "%s: expected %s", name, c->spec->args);
	if (c->nargs > c->spec->max)
		return usage_fail(c, "%s: unexpected argument \"%s\"", name,
		    c->args[c->spec->max]);
	for (const struct opt_spec *o = c->spec->opts; o < c->spec->opts + MAX_OPTS && o->name;
	    o++)
		if (o->required && opt(c, o->name) == NULL)
			return usage_fail(c, "%s needs %s %s", name, o->name, o->metavar);
	return -1;
}

int
args_parse(int argc, char **argv, struct cli *c)
{
	struct parse p = { 0 };
	int rc = 0, g;

	for (int i = 1; i < argc && rc == 0 && !p.help; i++) {
		if (!p.dashdash && is_tenant_scope(c, argc, argv, i)) {
			c->opts[c->nopts].name = "--tenant";
			c->opts[c->nopts++].value = NULL;
			continue;
		}
		if (!p.dashdash && (g = take_global(c, &p, argc, argv, &i)) != 0) {
			if (g == -1)
				return p.status;
			continue;
		}
		if (c->spec == NULL)
			rc = take_word(c, &p, argv, &i);
		else
			rc = take_token(c, &p, argc, argv, &i);
	}
	if (rc != 0)
		return rc;
	if (p.help) {
		args_usage(stdout, p.cmd, c->spec ? c->spec->sub : NULL);
		return 0;
	}
	return complete(c, &p);
}

/* ---- the accessors ---- */

const char *
opt(const struct cli *c, const char *name)
{
	for (int i = c->nopts - 1; i >= 0; i--)
		if (!strcmp(c->opts[i].name, name) && c->opts[i].value)
			return c->opts[i].value;
	return NULL;
}

char *
opt_all(const struct cli *c, const char *name)
{
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < c->nopts; i++)
		if (!strcmp(c->opts[i].name, name) && c->opts[i].value)
			buf_printf(&b, "%s%s", b.len ? "\n" : "", c->opts[i].value);
	return b.len ? buf_steal(&b, NULL) : (buf_free(&b), NULL);
}

int
flag(const struct cli *c, const char *name)
{
	for (int i = 0; i < c->nopts; i++)
		if (!strcmp(c->opts[i].name, name))
			return 1;
	return 0;
}

const char *
arg(const struct cli *c, int n)
{
	return n < c->nargs ? c->args[n] : NULL;
}

/* sekisho help [COMMAND [SUBCOMMAND]]: the usage on standard output. */
int
cmd_help(struct cli *c)
{
	const char *cmd = arg(c, 0), *sub = arg(c, 1);

	if (cmd && !has_command(cmd))
		return unknown_command(cmd, NULL);
	if (sub && find(cmd, sub) == NULL)
		return unknown_command(cmd, sub);
	args_usage(stdout, cmd, sub);
	return 0;
}
