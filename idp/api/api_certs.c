/*
 * The admin API's certs routes (see api.h): being written; the table is empty until then.
 */
#include "config.h"

#include "api.h"

const struct api_route api_cert_routes[] = {
	{ NULL, NULL, 0, NULL }
};
