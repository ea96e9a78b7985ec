/*
 * The admin API: authentication by API key, limits, dispatch over the resource files'
 * route tables, JSON answers, paging, ETags, and one audit record per call.
 */
#include "config.h"

#include "api.h"

static const struct api_route *const tables[] = {
	api_user_routes, api_app_routes, api_catalog_routes, api_policy_routes,
	api_cert_routes, api_audit_routes, api_key_routes, NULL
};

/* The route tables, for the test that holds them against the OpenAPI document. */
const struct api_route *const *
api_tables(void)
{
	return tables;
}
