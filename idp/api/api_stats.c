/*
 * The admin API's GET stats: the dashboard's numbers (admin_stats) in JSON, for the
 * console's charts and for any monitoring that wants them; read scope.
 */
#include "config.h"

#include "admin_stats.h"
#include "api.h"

static json_t *
days_json(const struct admin_stats *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ADMIN_STATS_DAYS; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:I, s:I}", "date", s->days[i].date,
		    "start", api_time((uint64_t)s->days[i].start),
		    "logins", (json_int_t)s->days[i].logins,
		    "refusals", (json_int_t)s->days[i].refusals));
	return a;
}

static json_t *
reasons_json(const struct admin_stats *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n_reasons; i++) {
		json_t *o = json_pack("{s:s, s:I}", "event", s->reasons[i].event, "count",
		    (json_int_t)s->reasons[i].count);

		/* absent, not null, when the record had none (access.deny) */
		if (s->reasons[i].reason)
			json_object_set_new(o, "reason", json_string(s->reasons[i].reason));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
months_json(const struct admin_stats *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < ADMIN_STATS_MONTHS; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "month", s->months[i].month,
		    "expiring", (json_int_t)s->months[i].expiring));
	return a;
}

static json_t *
keys_json(const struct admin_stats *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n_keys; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:s}",
		    "name", s->keys[i].name, "calls_this_month", (json_int_t)s->keys[i].calls,
		    "quota", (json_int_t)s->keys[i].quota,
		    "percent", (json_int_t)(s->keys[i].calls * 100 / s->keys[i].quota),
		    "state", s->keys[i].state));
	return a;
}

static void
stats_get(struct api_call *c)
{
	struct admin_stats s;
	json_t *o;

	if (admin_stats(&c->adm, &s) == -1) {
		api_admin_error(c);
		return;
	}
	o = json_pack("{s:o, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
	    "time", api_time((uint64_t)s.now), "timezone", s.timezone,
	    "logins", (json_int_t)s.logins, "refusals", (json_int_t)s.refusals,
	    "active_users", (json_int_t)s.active_users, "days", days_json(&s),
	    "refusal_reasons", reasons_json(&s), "certificates_expiring", months_json(&s),
	    "keys_near_quota", keys_json(&s));
	admin_stats_clear(&s);
	api_reply(c, 200, o);
}

const struct api_route api_stats_routes[] = {
	{ "GET", "stats", APIKEY_SCOPE_READ, stats_get },
	{ NULL, NULL, 0, NULL }
};
