/*
 * The admin API's users routes (see api.h): being written; the table is empty until then.
 */
#include "config.h"

#include "api.h"

const struct api_route api_user_routes[] = {
	{ NULL, NULL, 0, NULL }
};
