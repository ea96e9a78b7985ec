/*
 * The order people expect for names with numbers in them: "第2号" before "第10号",
 * "tool9" before "tool10", with ASCII and full-width digits alike and ASCII case ignored.
 */
#ifndef SEKISHO_NATCMP_H
#define SEKISHO_NATCMP_H

/* <0, 0 or >0 as a sorts before, with or after b (0 only for equal strings). */
int natcmp(const char *a, const char *b);

#endif
