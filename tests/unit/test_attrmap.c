/*
 * Unit tests for connectors/attrmap.c: which attributes an SP receives.  Requested names
 * are matched against synonyms by Name, then by FriendlyName, case-insensitively, keeping the
 * SP's own spelling; unknown names are skipped; an SP that requests nothing gets defaults.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attrmap.h"
#include "spmeta.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
test_attrmap_defaults_when_nothing_requested(void **state)
{
	struct attrmap_entry out[ATTRMAP_MAX];
	struct spmeta m = { 0 };
	const struct spmeta *inputs[] = { &m, NULL };

	for (size_t k = 0; k < NELEM(inputs); k++) {
		size_t n = attrmap_for_sp(inputs[k], out);

		assert_int_equal(n, 3);
		assert_int_equal(out[0].source, ATTRMAP_EMAIL);
		assert_string_equal(out[0].name, "email");
		assert_int_equal(out[1].source, ATTRMAP_DISPLAY_NAME);
		assert_string_equal(out[1].name, "displayName");
		assert_int_equal(out[2].source, ATTRMAP_GROUPS);
		assert_string_equal(out[2].name, "groups");
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(out[i].name_format, ATTRMAP_BASIC);
			assert_null(out[i].friendly_name);
		}
		attrmap_clear(out, n);
	}
}

static void
test_attrmap_synonyms_by_name(void **state)
{
	static const struct {
		const char *name;
		enum attrmap_source src;
	} cases[] = {
		{ "email", ATTRMAP_EMAIL },
		{ "mail", ATTRMAP_EMAIL },
		{ "emailAddress", ATTRMAP_EMAIL },
		{ "EMAILADDRESS", ATTRMAP_EMAIL },
		{ "urn:oid:0.9.2342.19200300.100.1.3", ATTRMAP_EMAIL },
		{ "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
		    ATTRMAP_EMAIL },
		{ "displayName", ATTRMAP_DISPLAY_NAME },
		{ "cn", ATTRMAP_DISPLAY_NAME },
		{ "urn:oid:2.16.840.1.113730.3.1.241", ATTRMAP_DISPLAY_NAME },
		{ "urn:oid:2.5.4.3", ATTRMAP_DISPLAY_NAME },
		{ "groups", ATTRMAP_GROUPS },
		{ "memberOf", ATTRMAP_GROUPS },
		{ "isMemberOf", ATTRMAP_GROUPS },
		{ "urn:oid:1.3.6.1.4.1.5923.1.5.1.1", ATTRMAP_GROUPS },
		{ "uid", ATTRMAP_USERNAME },
		{ "username", ATTRMAP_USERNAME },
		{ "urn:oid:0.9.2342.19200300.100.1.1", ATTRMAP_USERNAME },
	};

	for (size_t i = 0; i < NELEM(cases); i++) {
		struct spmeta m = { 0 };
		struct attrmap_entry out[ATTRMAP_MAX];
		size_t n;

		m.requested[0].name = (char *)cases[i].name;
		m.nrequested = 1;
		n = attrmap_for_sp(&m, out);
		assert_int_equal(n, 1);
		assert_int_equal(out[0].source, cases[i].src);
		/* The SP gets the attribute under the name it asked for. */
		assert_string_equal(out[0].name, cases[i].name);
		assert_string_equal(out[0].name_format, ATTRMAP_BASIC);
		attrmap_clear(out, n);
	}
}

static void
test_attrmap_synonyms_by_friendly_name(void **state)
{
	struct spmeta m = { 0 };
	struct attrmap_entry out[ATTRMAP_MAX];
	size_t n;

	m.requested[0].name = "urn:example:custom-mail";
	m.requested[0].friendly_name = "mail";
	m.requested[0].name_format = ATTRMAP_URI;
	m.requested[1].name = "urn:example:unknown";
	m.requested[1].friendly_name = "shoeSize";
	m.requested[2].name = "urn:example:grp";
	m.requested[2].friendly_name = "MemberOf";
	m.nrequested = 3;
	n = attrmap_for_sp(&m, out);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].source, ATTRMAP_EMAIL);
	assert_string_equal(out[0].name, "urn:example:custom-mail");
	assert_string_equal(out[0].friendly_name, "mail");
	assert_string_equal(out[0].name_format, ATTRMAP_URI);
	assert_int_equal(out[1].source, ATTRMAP_GROUPS);
	assert_string_equal(out[1].name, "urn:example:grp");
	attrmap_clear(out, n);
}

static void
test_attrmap_name_wins_over_friendly_name(void **state)
{
	struct spmeta m = { 0 };
	struct attrmap_entry out[ATTRMAP_MAX];
	size_t n;

	m.requested[0].name = "uid";
	m.requested[0].friendly_name = "mail";
	m.nrequested = 1;
	n = attrmap_for_sp(&m, out);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].source, ATTRMAP_USERNAME);
	attrmap_clear(out, n);
}

static void
test_attrmap_unknown_only(void **state)
{
	static const char *const unknown[] = { "emai", "e-mail", "mail ", "", "urn:oid:2.5.4.4",
		"urn:oid:0.9.2342.19200300.100.1.3.1", "password" };
	struct spmeta m = { 0 };
	struct attrmap_entry out[ATTRMAP_MAX];

	/* An SP that requests only unknown names gets nothing, not the defaults. */
	for (size_t i = 0; i < NELEM(unknown); i++)
		m.requested[i].name = (char *)unknown[i];
	m.nrequested = NELEM(unknown);
	assert_int_equal(attrmap_for_sp(&m, out), 0);
}

static void
test_attrmap_full_table(void **state)
{
	struct spmeta m = { 0 };
	struct attrmap_entry out[ATTRMAP_MAX];
	size_t n;

	for (size_t i = 0; i < SPMETA_MAX_REQUESTED; i++)
		m.requested[i].name = i % 2 ? "mail" : "cn";
	m.nrequested = SPMETA_MAX_REQUESTED;
	n = attrmap_for_sp(&m, out);
	assert_int_equal(n, ATTRMAP_MAX);
	attrmap_clear(out, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attrmap_defaults_when_nothing_requested),
		cmocka_unit_test(test_attrmap_synonyms_by_name),
		cmocka_unit_test(test_attrmap_synonyms_by_friendly_name),
		cmocka_unit_test(test_attrmap_name_wins_over_friendly_name),
		cmocka_unit_test(test_attrmap_unknown_only),
		cmocka_unit_test(test_attrmap_full_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
