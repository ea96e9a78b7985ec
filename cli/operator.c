/*
 * The service operator's commands: `sekisho tenant suspend|resume T` and `sekisho
 * operator apikey ACTION [NAME]` (the operator's own API keys, which work only at
 * /operator/api/v1/).  The rules are admin/operator.c's and admin/apikey.c's; the keys
 * and the audit trail live under the tenant id STORE_OPERATOR.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "admin_operator.h"
#include "apikey.h"
#include "cli.h"

int
cmd_tenant_suspend(struct cli *c)
{
	const char *id = arg(c, 0);
	int on = !strcmp(c->spec->sub, "suspend"), ended;

	if (admin_operator_suspend(&c->adm, id, on, &ended) < 0)
		return fail("%s", c->adm.msg);
	if (on)
		printf("tenant %s suspended (%d sessions ended)\n", id, ended);
	else
		printf("tenant %s resumed\n", id);
	return 0;
}

static const struct {
	const char *action;
	int (*run)(struct cli *c);
	int named;
} actions[] = {
	{ "create", cmd_apikey_create, 1 },
	{ "list", cmd_apikey_list, 0 },
	{ "show", cmd_apikey_show, 1 },
	{ "suspend", cmd_apikey_suspend, 1 },
	{ "resume", cmd_apikey_suspend, 1 },
	{ "delete", cmd_apikey_delete, 1 },
};

/* The apikey command's own spec for action, so its handler sees its usual words. */
static const struct cmd_spec *
apikey_spec(const struct cmd_spec *op, const char *action)
{
	static struct cmd_spec spec;

	spec = *op;
	spec.cmd = "apikey";
	spec.sub = action;
	return &spec;
}

int
cmd_operator_apikey(struct cli *c)
{
	const char *action = arg(c, 0), *scope = opt(c, "--scope");
	const struct cmd_spec *own = c->spec;
	int rc;

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(action, actions[i].action))
			continue;
		if ((c->nargs == 2) != actions[i].named)
			return usage_fail(c, "operator apikey %s %s", action, actions[i].named ?
			    "takes the key's NAME" : "takes no NAME");
		if (!strcmp(action, "create") && scope == NULL)
			return usage_fail(c, "operator apikey create needs --scope read[,write]");
		if (scope && (strstr(scope, "certs") || strstr(scope, "scim")))
			return usage_fail(c, "--scope: operator keys have the scopes read and "
			    "write");
		c->tenant = STORE_OPERATOR;
		c->adm.tenant = STORE_OPERATOR;
		c->args[0] = c->args[1];	/* the handlers take NAME as their first argument */
		c->nargs--;
		c->spec = apikey_spec(own, action);
		rc = actions[i].run(c);
		c->spec = own;
		return rc;
	}
	return usage_fail(c, "unknown action %s (create, list, show, suspend, resume, delete)",
	    action);
}
