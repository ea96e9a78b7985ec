/*
 * SCIM PATCH (RFC 7644 3.5.2): a PatchOp request's operations applied to a resource's
 * JSON representation, which the caller then writes as it writes a PUT.  Accepts what
 * Entra ID and Okta send: capitalised op names, no path with a map of attributes (keys
 * may be paths themselves), value filters in paths.
 */
#ifndef SEKISHO_SCIM_PATCH_H
#define SEKISHO_SCIM_PATCH_H

#include <jansson.h>

#include "scim_filter.h"

#define SCIM_URN_PATCHOP "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_PATCH_OPS_MAX 1000

/*
 * Apply body's Operations to res in order (res is changed in place, also on failure:
 * apply to a copy).  0, or -1 with e (400 invalidSyntax, invalidPath, invalidValue,
 * noTarget, mutability).  id, meta and groups are read-only.
 */
int scim_patch_apply(json_t *res, const json_t *body, struct scim_err *e);

#endif
