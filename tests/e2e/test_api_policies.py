#!/usr/bin/python3
"""End to end: access rules through the admin API (policies/rules, policies/settings,
policies/test), against the running server and the command line.

A rule created through the API refuses a real login at /t/default/login; the simulator
answers exactly as `sekisho policy test` for the same requests; the order after create
with before, move before another and move to the end is the CLI's `policy list` order;
PUT replaces a rule's conditions (If-Match: a stale ETag is 412 and changes nothing);
bad input (unknown effect, unknown group, bad CIDR, bad hours, unknown member, enroll on
a deny rule, a name that exists, an unknown before) is 400 or 409 naming the field and
changes nothing; the device-required settings patched as a whole or not at all; scopes
(read may simulate, not write); every write audited with the key's name.
"""
import access_common as ac
import api_common
from sekisho_test import Server, Tap

t = Tap()
PW = {u: u + "-password-1" for u in ("alice", "bob", "carol", "dave")}


def setup(srv):
    for u, pw in PW.items():
        srv.add_user(u, pw)
    for g, members in (("staff", ("bob", "dave")), ("admins", ("carol",))):
        srv.cli("group", "add", g)
        for m in members:
            srv.cli("group", "add-member", g, m)
    ac.add_stub_client(srv, "crm", "http://127.0.0.1:9/crm")


def names(api):
    return [r["name"] for r in api.all_items("policies/rules", limit=2)]


def cli_names(srv):
    lines = srv.cli("policy", "list").stdout.splitlines()[1:]
    return [ln.split("\t")[1] for ln in lines if ln[:1].isdigit()]


def cli_list(srv):
    return srv.cli("policy", "list").stdout


def login(srv, user):
    b = ac.browser(srv)
    return ac.classify(srv, b, ac.portal_login(srv, b, user, PW[user]))


def create_and_login(srv, api):
    t.eq(login(srv, "bob"), "in", "bob logs in before any rule")
    r = api.call("POST", "policies/rules", {"name": "deny-staff", "effect": "deny",
                                            "groups": ["staff"]}, expect=201)
    t.ok(r.headers.get("Location", "").endswith("/api/v1/policies/rules/deny-staff"),
         "201 with Location", r.headers.get("Location"))
    t.eq((r.body["name"], r.body["position"], r.body["effect"], r.body["groups"]),
         ("deny-staff", 1, "deny", ["staff"]), "the created rule")
    t.ok(r.headers.get("ETag"), "with an ETag")
    t.eq(login(srv, "bob"), "refused", "a member of the denied group is refused at login")
    t.eq(login(srv, "alice"), "in", "someone else still gets in")
    t.ok("deny-staff\teffect=deny groups=staff" in cli_list(srv),
         "sekisho policy list shows the API's rule", cli_list(srv))
    t.ok(srv.audit_find("admin.policy.add", "rule=deny-staff", "actor=apikey:w0"),
         "admin.policy.add audited with the key's name")


def order(srv, api):
    api.call("POST", "policies/rules", {"name": "office", "effect": "allow",
                                        "from": ["10.0.0.0/8", "192.0.2.7"],
                                        "days": ["mon", "tue"], "hours": "09:00-18:00"},
             expect=201)
    r = api.call("POST", "policies/rules", {"name": "admins-mfa", "effect": "mfa",
                                            "groups": ["admins"], "enroll": True,
                                            "before": "deny-staff"}, expect=201)
    t.eq(r.body["position"], 1, "before: put first")
    api.call("POST", "policies/rules", {"name": "watch", "effect": "deny", "users": ["alice"],
                                        "apps": ["crm"], "report_only": True}, expect=201)
    want = ["admins-mfa", "deny-staff", "office", "watch"]
    t.eq(names(api), want, "the list is in evaluation order (pages of 2)")
    t.eq(cli_names(srv), want, "the CLI's order is the same")
    got = api.call("GET", "policies/rules/office").body
    t.eq((got["from"], got["days"], got["hours"]),
         (["10.0.0.0/8", "192.0.2.7/32"], ["mon", "tue"], "09:00-18:00"),
         "conditions in their canonical form")
    r = api.call("POST", "policies/rules/admins-mfa/move", {"before": None})
    t.eq(r.body["position"], 4, "move with before null: to the end")
    api.call("POST", "policies/rules/watch/move", {"before": "deny-staff"})
    want = ["watch", "deny-staff", "office", "admins-mfa"]
    t.eq(names(api), want, "move before another")
    t.eq(cli_names(srv), want, "the CLI agrees after the moves")
    api.call("POST", "policies/rules/nosuch/move", {"before": None}, expect=404)
    r = api.call("POST", "policies/rules/watch/move", {"before": "nosuch"}, expect=400)
    t.eq(r.body.get("field"), "before", "move before an unknown rule: 400 before")
    t.eq(names(api), want, "and nothing moved")


SIM_CASES = [
    dict(user="bob"),
    dict(user="alice"),
    dict(user="alice", app="crm"),
    dict(user="carol", app="crm", ip="10.1.2.3"),
    dict(user="carol", app="crm", ip="10.1.2.3", mfa=True),
    dict(user="dave", ip="2001:db8::1", at="2026-04-06T10:00:00+09:00"),
    dict(user="alice", ip="10.9.9.9", at="2026-04-06T10:00:00+09:00"),
    dict(user="alice", ip="10.9.9.9", at="2026-04-05T10:00:00+09:00", device=True),
]


def simulate(srv, api):
    for case in SIM_CASES:
        body = {"user": case["user"], "ip": case.get("ip", "127.0.0.1")}
        for k, member in (("app", "app"), ("at", "time")):
            if k in case:
                body[member] = case[k]
        for k in ("device", "mfa"):
            if case.get(k):
                body[k] = True
        got = api.call("POST", "policies/test", body).body
        cli = ac.policy_test(srv, case["user"], app=case.get("app"),
                             ip=case.get("ip", "127.0.0.1"), at=case.get("at"),
                             device=case.get("device", False), mfa=case.get("mfa", False))
        want = {"decision": cli.get("decision"), "rule": cli.get("rule"),
                "requires": cli.get("requires"), "missing": cli.get("missing"),
                "reports": cli["report"], "break_glass": cli.get("break_glass"),
                "reasons": [ln for ln in cli["explain"].splitlines() if ln]}
        mine = dict(got, reports=["%s:%s" % (x["rule"], x["effect"]) for x in got["reports"]])
        t.eq(mine, want, "policies/test answers as sekisho policy test: %r" % case)
    r = api.call("POST", "policies/test", {"user": "nobody", "ip": "127.0.0.1"}, expect=400)
    t.eq(r.body.get("field"), "user", "simulator: an unknown user is 400 user")
    r = api.call("POST", "policies/test", {"user": "bob", "ip": "here"}, expect=400)
    t.eq(r.body.get("field"), "ip", "simulator: not an address is 400 ip")
    r = api.call("POST", "policies/test", {"user": "bob", "ip": "127.0.0.1",
                                           "time": "tomorrow"}, expect=400)
    t.eq(r.body.get("field"), "time", "simulator: a bad time is 400 time")


BAD = [
    ("unknown effect", {"name": "x1", "effect": "maybe"}, 400, "effect"),
    ("unknown group", {"name": "x2", "effect": "deny", "groups": ["nosuch"]}, 400, "groups"),
    ("unknown user", {"name": "x3", "effect": "deny", "users": ["nosuch"]}, 400, "users"),
    ("bad CIDR", {"name": "x4", "effect": "deny", "from": ["10.0.0.300/8"]}, 400, "from"),
    ("host bits", {"name": "x5", "effect": "deny", "not_from": ["10.1.2.3/8"]}, 400,
     "not_from"),
    ("bad time window", {"name": "x6", "effect": "deny", "hours": "25:00-18:00"}, 400,
     "hours"),
    ("unknown day", {"name": "x7", "effect": "deny", "days": ["fun"]}, 400, "days"),
    ("unknown member", {"name": "x8", "effect": "deny", "countries": ["JP"]}, 400,
     "countries"),
    ("enroll on deny", {"name": "x9", "effect": "deny", "enroll": True}, 400, "enroll"),
    ("bad name", {"name": "a b", "effect": "deny"}, 400, "name"),
    ("reserved name", {"name": "default", "effect": "deny"}, 400, "name"),
    ("a list that is not one", {"name": "x10", "effect": "deny", "users": "bob"}, 400,
     "users"),
    ("name exists", {"name": "office", "effect": "deny"}, 409, "name"),
    ("before an unknown rule", {"name": "x11", "effect": "deny", "before": "nosuch"}, 400,
     "before"),
]


def bad_input(srv, api):
    before_api, before_cli = names(api), cli_list(srv)
    for what, body, status, field in BAD:
        r = api.call("POST", "policies/rules", body, expect=status, raw=True)
        t.eq(r.body.get("field"), field, "%s: %d naming %s (%s)" % (what, status, field,
                                                                    r.body.get("detail")))
        t.ok("--" not in r.body.get("detail", ""), "%s: the detail names no command-line "
             "option" % what, r.body.get("detail"))
    t.eq(names(api), before_api, "bad rules change nothing (API)")
    t.eq(cli_list(srv), before_cli, "bad rules change nothing (CLI)")


def replace(srv, api):
    r = api.call("GET", "policies/rules/office")
    etag, old = r.headers["ETag"], r.body
    r = api.call("PUT", "policies/rules/office", {"effect": "deny", "not_from": ["10.0.0.0/8"]},
                 headers={"If-Match": etag})
    t.eq((r.body["effect"], r.body["not_from"], r.body["from"], r.body["days"],
          r.body["hours"], r.body["position"], r.body["created"]),
         ("deny", ["10.0.0.0/8"], [], [], None, old["position"], old["created"]),
         "PUT replaces every condition, keeps position and creation time")
    now = cli_list(srv)
    r = api.call("PUT", "policies/rules/office", {"effect": "allow"},
                 headers={"If-Match": etag}, expect=412)
    t.eq(cli_list(srv), now, "a stale If-Match: 412 and nothing changed")
    r = api.call("PUT", "policies/rules/office", {"effect": "deny", "groups": ["nosuch"]},
                 expect=400)
    t.eq((r.body.get("field"), cli_list(srv)), ("groups", now),
         "PUT with an unknown group: 400 groups, nothing changed")
    r = api.call("PUT", "policies/rules/office", {"effect": "deny", "name": "x"}, expect=400,
                 raw=True)
    t.eq((r.body.get("field"), cli_list(srv)), ("name", now),
         "PUT with a member it does not take: 400, nothing changed")
    api.call("PUT", "policies/rules/nosuch", {"effect": "deny"}, expect=404)
    t.ok(srv.audit_find("admin.policy.replace", "rule=office", "actor=apikey:w0") or
         srv.audit_find("admin.policy.replace", "rule=office"),
         "admin.policy.replace audited")
    calls = [f for e, f in srv.audit() if e == "api.call" and "PUT" in f and "office" in f]
    t.ok(any("before" in f and "after" in f for f in calls),
         "the api.call record of the PUT has before and after", calls[-1:])


def delete(srv, api):
    etag = api.call("GET", "policies/rules/watch").headers["ETag"]
    api.call("POST", "policies/rules/watch/move", {"before": None})
    api.call("DELETE", "policies/rules/watch", headers={"If-Match": etag}, expect=412)
    t.ok("watch" in cli_names(srv), "DELETE with a stale ETag: 412, the rule stays")
    api.call("DELETE", "policies/rules/watch", expect=204)
    api.call("GET", "policies/rules/watch", expect=404)
    t.ok("watch" not in cli_names(srv), "DELETE removes the rule")
    api.call("DELETE", "policies/rules/watch", expect=404)


def settings(srv, api):
    r = api.call("GET", "policies/settings")
    t.eq(r.body, {"device_required": {"tenant": None, "users": {}, "groups": {}, "apps": {}}},
         "no device-required setting at first")
    r = api.call("PATCH", "policies/settings",
                 {"device_required": {"groups": {"staff": "on"}, "users": {"dave": "off"}}})
    t.eq(r.body["device_required"]["groups"], {"staff": "on"}, "PATCH sets a group's")
    lst = cli_list(srv)
    t.ok("group:staff\tdevice_required\ton" in lst and "user:dave\tdevice_required\toff" in lst,
         "sekisho policy list shows the settings", lst)
    cli = ac.policy_test(srv, "bob")
    got = api.call("POST", "policies/test", {"user": "bob", "ip": "127.0.0.1"}).body
    t.eq((got["requires"], got["rule"]), (cli["requires"], cli["rule"]),
         "the simulator sees the setting as the CLI does")
    r = api.call("PATCH", "policies/settings",
                 {"device_required": {"tenant": "on", "users": {"nosuch": "on"}}}, expect=400)
    t.eq((r.body.get("field"), cli_list(srv)), ("device_required", lst),
         "an unknown user: 400 and nothing changed (not even the tenant's)")
    r = api.call("PATCH", "policies/settings", {"device_required": {"tenant": "maybe"}},
                 expect=400, raw=True)
    t.eq(cli_list(srv), lst, "a bad value: 400, nothing changed")
    etag = api.call("GET", "policies/settings").headers["ETag"]
    api.call("PATCH", "policies/settings",
             {"device_required": {"groups": {"staff": None}, "users": {"dave": None}}},
             headers={"If-Match": etag})
    api.call("PATCH", "policies/settings", {"device_required": {"tenant": "on"}},
             headers={"If-Match": etag}, expect=412)
    t.ok("device_required" not in cli_list(srv), "null inherits; a stale ETag changes nothing",
         cli_list(srv))


def scopes(srv, api, reader):
    reader.call("POST", "policies/test", {"user": "bob", "ip": "127.0.0.1"})
    reader.call("GET", "policies/rules")
    before = cli_list(srv)
    reader.call("POST", "policies/rules", {"name": "r1", "effect": "deny"}, expect=403)
    reader.call("DELETE", "policies/rules/office", expect=403)
    reader.call("PATCH", "policies/settings", {"device_required": {"tenant": "on"}},
                expect=403)
    t.eq(cli_list(srv), before, "a read key simulates and reads, changes nothing")


def main():
    srv = Server()
    try:
        setup(srv)
        api = api_common.ApiClient(srv, "default",
                                   api_common.make_keys(srv, "default", "w", 8, "read,write"))
        reader = api_common.ApiClient(srv, "default",
                                      api_common.make_keys(srv, "default", "r", 2, "read"))
        t.run("create, login", create_and_login, srv, api)
        t.run("order", order, srv, api)
        t.run("simulator", simulate, srv, api)
        t.run("bad input", bad_input, srv, api)
        t.run("replace", replace, srv, api)
        t.run("delete", delete, srv, api)
        t.run("settings", settings, srv, api)
        t.run("scopes", scopes, srv, api, reader)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
