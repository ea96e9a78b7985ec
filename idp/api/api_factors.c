/*
 * The admin API's view of a user's second factors and password-reset links (to be filled
 * by the factors work), through admin/factor.c as `sekisho user otp|factors|factor|
 * reset-password` do.
 */
#include "config.h"

#include "api.h"

const struct api_route api_factor_routes[] = {
	{ NULL, NULL, 0, NULL }
};
