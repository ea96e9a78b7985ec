/*
 * The admin API's keys routes (see api.h): being written; the table is empty until then.
 */
#include "config.h"

#include "api.h"

const struct api_route api_key_routes[] = {
	{ NULL, NULL, 0, NULL }
};
