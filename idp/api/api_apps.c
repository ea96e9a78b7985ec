/*
 * The admin API's apps routes (see api.h): being written; the table is empty until then.
 */
#include "config.h"

#include "api.h"

const struct api_route api_app_routes[] = {
	{ NULL, NULL, 0, NULL }
};
