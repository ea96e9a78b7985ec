/*
 * App icons for the portal, as an administrator uploads them: PNG (checked by its
 * signature and IHDR) or SVG (parsed with libxml2 and refused when it holds anything that
 * runs or loads: scripts, event attributes, foreignObject, external references, DTDs).
 */
#ifndef SEKISHO_ICON_H
#define SEKISHO_ICON_H

#include <stddef.h>

#define ICON_MAX (64 * 1024)

/*
 * Check an icon file's bytes: 0 with *type_r "image/png" or "image/svg+xml", or -1 with
 * *errstr saying what is wrong ("larger than 64 KiB", "SVG has a script element", ...).
 */
int icon_check(const void *data, size_t len, const char **type_r, const char **errstr);

#endif
