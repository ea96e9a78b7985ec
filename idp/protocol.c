/*
 * The list of sign-in protocols the core fans out to.  Adding a protocol means adding it
 * here (and its context pointer in struct tenant_ctx); the others stay untouched.
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "protocol.h"

extern const struct protocol saml_protocol;
extern const struct protocol oidc_protocol;

const struct protocol *const protocols[] = {
	&saml_protocol,
	&oidc_protocol,
	NULL,
};

const struct protocol *
protocol_find(const char *name)
{
	for (const struct protocol *const *p = protocols; name && *p; p++)
		if (!strcmp((*p)->name, name))
			return *p;
	return NULL;
}

const struct protocol *
protocol_for_pending(const char *kind)
{
	for (const struct protocol *const *p = protocols; kind && *p; p++)
		if ((*p)->resume && !strncmp(kind, (*p)->pending_prefix,
		    strlen((*p)->pending_prefix)))
			return *p;
	return NULL;
}

int
protocols_global_init(void)
{
	for (const struct protocol *const *p = protocols; *p; p++)
		if ((*p)->global_init && (*p)->global_init() == -1) {
			log_error("%s: initialisation failed", (*p)->name);
			return -1;
		}
	return 0;
}

void
protocols_global_shutdown(void)
{
	for (const struct protocol *const *p = protocols; *p; p++)
		if ((*p)->global_shutdown)
			(*p)->global_shutdown();
}

int
protocols_start(void)
{
	for (const struct protocol *const *p = protocols; *p; p++)
		if ((*p)->start && (*p)->start() == -1) {
			log_error("%s: cannot start its background work", (*p)->name);
			protocols_stop();
			return -1;
		}
	return 0;
}

void
protocols_stop(void)
{
	for (const struct protocol *const *p = protocols; *p; p++)
		if ((*p)->stop)
			(*p)->stop();
}
