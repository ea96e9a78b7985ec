/*
 * The admin API's tenant settings and signing keys (to be filled by the settings work:
 * settings, signing-keys, signing-keys/rotate), through admin/tenant.c as
 * `sekisho tenant set` and `sekisho key` do.
 */
#include "config.h"

#include "api.h"

const struct api_route api_tenant_routes[] = {
	{ NULL, NULL, 0, NULL }
};
