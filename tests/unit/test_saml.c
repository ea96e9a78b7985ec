/*
 * Unit tests for idp/saml.c's process set-up: after saml_global_init() every lasso type a
 * worker thread may meet is registered, so threads never race lasso's unlocked lazy type
 * registration (which crashed a fresh worker under concurrent first requests).
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <lasso/lasso.h>

#include "saml.h"

#define NTHREADS 8

/* Types lasso_init() leaves for their first use (LassoKey crashed the worker). */
static void
test_saml_types_registered(void **state)
{
	static const char *const names[] = { "LassoKey", "LassoServer", "LassoLogin",
		"LassoLogout", "LassoSaml2Assertion", "LassoSamlp2Response",
		"LassoSamlp2LogoutRequest", "LassoSaml2NameID" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (g_type_from_name(names[i]) == 0)
			fail_msg("%s is not registered after saml_global_init()", names[i]);
}

static void *
make_objects(void *arg)
{
	GObject *o = g_object_new(g_type_from_name("LassoKey"), NULL);

	(void)arg;
	if (o)
		g_object_unref(o);
	return o;
}

/* Threads creating lasso objects at once after start-up: every one gets its object. */
static void
test_saml_threads_create_objects(void **state)
{
	pthread_t t[NTHREADS];
	void *r;

	(void)state;
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, make_objects, NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_non_null(r);
	}
}

static int
setup(void **state)
{
	(void)state;
	return saml_global_init() == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	saml_global_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saml_types_registered),
		cmocka_unit_test(test_saml_threads_create_objects),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
