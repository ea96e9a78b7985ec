#!/usr/bin/python3
"""The admin API's users, groups and members (issue 11), against the running server.

- Users are created, read, changed (merge patch: e-mail, display name, attributes with null
  removing a key, break-glass, must-change), renamed (same id, same groups), given a
  password, unlocked and removed; what the API did is what `sekisho user show` sees.
- Every bad input (bad name, bad e-mail, an unknown member user, an unknown JSON member,
  wrong types, too long values, a password the policy refuses, a name or an e-mail address
  another user has) gets 400 (409 for the taken ones) naming the field, and changes
  nothing; a stale If-Match gets 412 and changes nothing.
- A user made through the API signs in; a disabled one cannot; disabling ends the user's
  session; a new password replaces the old one at the login form.
- Paging over 7 users with limit=3 gives every user once, in name order; the filters.
- Another tenant's users and groups are 404 (no oracle); a read-only key gets 403 on
  writes; the audit records name the key, carry before and after, and never a password.
"""
import json
import re
import time

import api_common as ac
import sekisho_test as st

t = st.Tap()
PW = "Api-Users-Passw0rd-31!"
PW2 = "Api-Users-Other-Pw-62!"


class Client(ac.ApiClient):
    """The paced client, each key's second counted from the end of its previous call (the
    server counts when it handles a call, which a loaded machine may delay), and a key of
    its own (key=) paced too."""

    def request(self, method, path, key=None, **kw):
        if key is None:         # the client's own keys: paced from the answer already
            return super().request(method, path, **kw)
        last = self.own.get(key, 0.0)
        if last + 1.1 > time.time():
            time.sleep(last + 1.1 - time.time())
        try:
            return super().request(method, path, key=key, **kw)
        finally:
            with self.lock:
                if key in self.keys:
                    self.last[self.keys.index(key)] = time.time()
                self.own[key] = time.time()

    own = {}


def show(srv, name, tenant=None):
    """`sekisho user show NAME` as a dict (attr.* and group lists kept), or None."""
    r = srv.cli("user", "show", name, check=False, tenant=tenant)
    if r.returncode != 0:
        return None
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        if k == "group":
            out.setdefault("groups", []).append(v)
        else:
            out[k] = v
    return out


def cli_state(srv):
    return (srv.cli("user", "list").stdout, srv.cli("group", "list").stdout)


def signs_in(srv, name, password):
    """A fresh browser through the login form: the browser when it reached the portal."""
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), name, password)
    return b if r.status_code == 200 and r.url == srv.base() + "/portal" else None


def on_portal(srv, b):
    r = b.get(srv.base() + "/portal")
    return r.status_code == 200 and r.url == srv.base() + "/portal"


def err(api, method, path, body, status, field, what):
    r = api.call(method, path, json=body, expect=status, raw=True)
    t.eq((r.body.get("error"), r.body.get("field")),
         ({400: "invalid_request", 409: "conflict", 404: "not_found"}[status], field),
         "%s: %d naming %s" % (what, status, field))
    return r


# ---- users ----

def create_and_read(srv, api):
    body = {"name": "carol", "email": "carol@example.com", "display_name": "Carol C",
            "password": PW, "attributes": {"dept": "sales", "employee_number": "42"},
            "disabled": False}
    r = api.call("POST", "users", json=body, expect=201)
    t.ok(r.headers.get("Location", "").endswith("/t/default/api/v1/users/carol"),
         "201 with Location users/carol", r.headers.get("Location"))
    u = r.body
    t.eq((u["name"], u["email"], u["display_name"], u["attributes"], u["disabled"],
          u["must_change_password"], u["groups"]),
         ("carol", "carol@example.com", "Carol C", {"dept": "sales", "employee_number": "42"},
          False, False, []), "the created user as sent")
    t.ok(PW not in r.text and "password" not in u, "the password is not echoed")
    g = api.call("GET", "users/CAROL")
    t.eq(g.body, u, "GET (any case) shows the same user")
    t.ok(g.headers.get("ETag", "").startswith('W/"'), "with an ETag")
    s = show(srv, "carol")
    t.eq((s["id"], s["email"], s["display_name"], s["password"], s["attr.dept"]),
         (u["id"], "carol@example.com", "Carol C", "set", "sales"), "user show agrees")
    t.ok(signs_in(srv, "carol", PW), "a user made by the API signs in")
    r = api.call("POST", "users", json={"name": "dora"}, expect=201)
    t.eq(r.body["must_change_password"], True, "without a password: must change it")
    api.call("POST", "users", json={"name": "erin", "password": PW, "disabled": True},
             expect=201)
    t.ok(not signs_in(srv, "erin", PW), "a user created disabled cannot sign in")
    t.eq(api.call("GET", "users/nobody", expect=404).body["error"], "not_found",
         "GET of a missing user: 404")


def update(srv, api):
    before = api.call("GET", "users/carol").body
    r = api.call("PATCH", "users/carol", json={
        "email": "carol@example.org", "display_name": None, "break_glass": True,
        "attributes": {"dept": "legal", "employee_number": None, "site": "Osaka"}})
    u = r.body
    t.eq((u["email"], u["display_name"], u["break_glass"], u["attributes"]),
         ("carol@example.org", None, True, {"dept": "legal", "site": "Osaka"}),
         "PATCH: e-mail changed, display name cleared, attribute removed by null")
    t.eq(u["id"], before["id"], "same id")
    s = show(srv, "carol")
    t.eq((s["email"], s["display_name"], s.get("break_glass"), s.get("attr.site"),
          "attr.employee_number" in s),
         ("carol@example.org", "", "on", "Osaka", False), "user show agrees")
    r = api.call("PATCH", "users/carol", json={"must_change_password": True,
                                               "break_glass": False},
                 content_type="application/merge-patch+json")
    t.eq((r.body["must_change_password"], r.body["break_glass"]), (True, False),
         "merge-patch+json: must_change on, break_glass off")
    api.call("PATCH", "users/carol", json={"must_change_password": False})


def bad_input(srv, api):
    state = cli_state(srv)
    carol = api.call("GET", "users/carol")
    long = "x" * 300
    for body, field, what in [
            ({"name": "bad name!"}, "name", "a bad user name"),
            ({"name": ""}, "name", "an empty user name"),
            ({"name": "n" * 129}, "name", "a user name too long"),
            ({"name": 7}, "name", "a number for the name"),
            ({"email": "x@example.com"}, "name", "no name"),
            ({"name": "fred", "email": "not-an-email"}, "email", "a bad e-mail address"),
            ({"name": "fred", "email": ["a@b.c"]}, "email", "a list for the e-mail"),
            ({"name": "fred", "display_name": long}, "display_name", "a display name too long"),
            ({"name": "fred", "nickname": "f"}, "nickname", "an unknown JSON member"),
            ({"name": "fred", "disabled": "yes"}, "disabled", "a string for a boolean"),
            ({"name": "fred", "attributes": "dept=x"}, "attributes", "attributes not an object"),
            ({"name": "fred", "attributes": {"bad key": "x"}}, "attributes", "a bad attribute key"),
            ({"name": "fred", "attributes": {"k": 5}}, "attributes", "a number attribute"),
            ({"name": "fred", "attributes": {"k": "v" * 1100}}, "attributes",
             "an attribute value too long"),
            ({"name": "fred", "attributes": {"k": "a\nb"}}, "attributes",
             "a control character in a value"),
            ({"name": "fred", "password": "short"}, "password", "a password the policy refuses"),
            ({"name": "fred", "password": "p" * 2000}, "password", "a password too long")]:
        err(api, "POST", "users", body, 400, field, "POST users with " + what)
    err(api, "POST", "users", {"name": "Carol"}, 409, "name", "POST users with a taken name")
    err(api, "POST", "users", {"name": "fred", "email": "CAROL@example.org"}, 409, "email",
        "POST users with a taken e-mail address")
    api.call("POST", "users", json={"name": "gina", "email": "gina@example.com"}, expect=201)
    for body, status, field, what in [
            ({"email": "nope"}, 400, "email", "a bad e-mail address"),
            ({"name": "bad name"}, 400, "name", "a bad new name"),
            ({"name": None}, 400, "name", "a null name"),
            ({"name": "gina"}, 409, "name", "another user's name"),
            ({"email": "gina@example.com"}, 409, "email", "another user's e-mail address"),
            ({"disabled": "no"}, 400, "disabled", "a string for disabled"),
            ({"break_glass": 1}, 400, "break_glass", "a number for break_glass"),
            ({"attributes": {"k": 1}}, 400, "attributes", "a number attribute"),
            ({"attributes": ["k"]}, 400, "attributes", "a list for attributes"),
            ({"display_name": long}, 400, "display_name", "a display name too long"),
            ({"password": PW2}, 400, "password", "a password (not a patchable member)"),
            ({"id": "0" * 32}, 400, "id", "the id"),
            # A good member with a bad one: nothing of it is applied.
            ({"email": "new@example.com", "disabled": "x"}, 400, "disabled",
             "a good e-mail address with a bad member")]:
        err(api, "PATCH", "users/carol", body, status, field, "PATCH with " + what)
    err(api, "PUT", "users/carol/password", {"password": "short"}, 400, "password",
        "PUT password refused by the policy")
    err(api, "PUT", "users/carol/password", {"pw": PW2}, 400, "pw",
        "PUT password with an unknown member")
    err(api, "PUT", "users/carol/password", {}, 400, "password", "PUT password without one")
    err(api, "POST", "groups", {"name": "bad name"}, 400, "name", "POST groups with a bad name")
    err(api, "POST", "groups", {"name": "g", "x": 1}, 400, "x", "POST groups, unknown member")
    err(api, "PUT", "groups/staff/members/ghost", None, 400, "user", "PUT an unknown member")
    err(api, "PUT", "groups/ghost/members/carol", None, 404, None, "PUT into a missing group")
    after = api.call("GET", "users/carol")
    t.eq(after.body, carol.body, "carol is unchanged after every refused change")
    t.eq(after.headers["ETag"], carol.headers["ETag"], "her ETag too")
    api.call("DELETE", "users/gina", expect=204)
    t.eq(cli_state(srv), state, "no user or group was added by a refused call")
    t.ok(signs_in(srv, "carol", PW), "carol's password is the old one")


def if_match(srv, api):
    r = api.call("GET", "users/carol")
    old = r.headers["ETag"]
    r = api.call("PATCH", "users/carol", json={"display_name": "Carol One"},
                 headers={"If-Match": old})
    t.eq(r.body["display_name"], "Carol One", "PATCH with the current ETag: applied")
    t.ok(r.headers.get("ETag") not in (None, old), "a new ETag")
    r = api.call("PATCH", "users/carol", json={"display_name": "Carol Two"},
                 headers={"If-Match": old}, expect=412)
    t.eq(r.body["error"], "precondition_failed", "a stale ETag: 412")
    t.eq(show(srv, "carol")["display_name"], "Carol One", "and nothing changed")
    api.call("DELETE", "users/carol", headers={"If-Match": old}, expect=412)
    t.ok(show(srv, "carol") is not None, "DELETE with a stale ETag: 412, the user stays")
    g = api.call("GET", "groups/staff")
    api.call("PATCH", "groups/staff", json={"name": "crew"}, headers={"If-Match": 'W/"0"'},
             expect=412)
    t.eq(api.call("GET", "groups/staff").body, g.body, "group rename with a stale ETag: 412")


def sessions_and_password(srv, api):
    b = signs_in(srv, "carol", PW)
    t.ok(b and on_portal(srv, b), "carol is signed in")
    api.call("PATCH", "users/carol", json={"disabled": True})
    t.ok(not on_portal(srv, b), "disabling her ends her session (the cookie reaches no portal)")
    t.ok(not signs_in(srv, "carol", PW), "a disabled user cannot sign in")
    r = api.call("PATCH", "users/carol", json={"disabled": False})
    t.eq(r.body["disabled"], False, "enabled again")
    t.ok(not on_portal(srv, b), "the ended session stays ended")
    api.call("PUT", "users/carol/password", json={"password": PW2}, expect=204)
    t.ok(not signs_in(srv, "carol", PW) and signs_in(srv, "carol", PW2),
         "PUT password: the new one works, the old one not")
    for _ in range(3):
        signs_in(srv, "carol", "wrong-" + PW)
    t.ok(int(show(srv, "carol").get("failures", "0")) >= 3, "three failures counted")
    api.call("POST", "users/carol/unlock", expect=204)
    t.eq(show(srv, "carol").get("failures", "0"), "0", "unlock clears them")
    api.call("POST", "users/nobody/unlock", expect=404)


def rename(srv, api):
    before = api.call("GET", "users/carol").body
    r = api.call("PATCH", "users/carol", json={"name": "caroline"})
    t.eq((r.body["name"], r.body["id"], r.body["groups"]),
         ("caroline", before["id"], before["groups"]), "renamed: same id, same groups")
    api.call("GET", "users/carol", expect=404)
    t.ok(show(srv, "carol") is None and show(srv, "caroline")["id"] == before["id"],
         "user show knows only the new name")
    t.ok(signs_in(srv, "caroline", PW2), "she signs in with the new name")
    r = api.call("PATCH", "users/caroline", json={"name": "Caroline"})
    t.eq(r.body["name"], "Caroline", "a rename that changes only the case")
    api.call("PATCH", "users/caroline", json={"name": "carol"})


# ---- groups and members ----

def groups(srv, api):
    r = api.call("POST", "groups", json={"name": "sales"}, expect=201)
    t.ok(r.headers.get("Location", "").endswith("/api/v1/groups/sales"), "group: Location")
    t.eq((r.body["name"], r.body["member_count"]), ("sales", 0), "a new group, no members")
    err(api, "POST", "groups", {"name": "sales"}, 409, "name", "a group that exists")
    api.call("PUT", "groups/sales/members/carol", expect=204)
    api.call("PUT", "groups/sales/members/CAROL", expect=204)
    api.call("PUT", "groups/sales/members/dora", expect=204)
    t.eq(api.call("GET", "groups/sales/members").body["items"], ["carol", "dora"],
         "members by name; adding twice is one membership")
    t.eq(api.call("GET", "groups/sales").body["member_count"], 2, "member_count")
    t.ok("sales" in api.call("GET", "users/carol").body["groups"], "carol's groups")
    t.eq(srv.cli("group", "members", "sales").stdout, "carol\ndora\n", "the CLI agrees")
    r = api.call("PATCH", "groups/sales", json={"name": "revenue"})
    t.eq((r.body["name"], r.body["member_count"]), ("revenue", 2), "renamed, members kept")
    api.call("GET", "groups/sales", expect=404)
    t.ok("revenue" in show(srv, "carol")["groups"], "user show has the new group name")
    err(api, "PATCH", "groups/revenue", {"name": "staff"}, 409, "name", "rename onto a group")
    err(api, "PATCH", "groups/revenue", {"name": "bad name"}, 400, "name", "a bad group name")
    api.call("DELETE", "groups/revenue/members/dora", expect=204)
    api.call("DELETE", "groups/revenue/members/dora", expect=204)
    t.eq(api.call("GET", "groups/revenue/members").body["items"], ["carol"],
         "member removed; removing again is no error")
    api.call("GET", "groups/nothing/members", expect=404)
    api.call("DELETE", "groups/nothing/members/carol", expect=404)
    api.call("DELETE", "groups/revenue", expect=204)
    api.call("GET", "groups/revenue", expect=404)
    t.eq(show(srv, "carol").get("groups", []), [], "the removed group's membership went")


def paging(srv, api):
    for i in range(7):
        srv.cli("user", "add", "pg%d" % i, "--email", "pg%d@example.com" % i)
    srv.cli("user", "disable", "pg3")
    got = []
    pages = 0
    cursor = None
    while True:
        r = api.call("GET", "users?q=PG&limit=3" + ("&cursor=" + cursor if cursor else ""))
        got += [u["name"] for u in r.body["items"]]
        pages += 1
        t.ok(len(r.body["items"]) <= 3, "a page holds at most 3")
        cursor = r.body.get("next_cursor")
        if not cursor:
            break
    t.eq(got, ["pg%d" % i for i in range(7)], "7 users over pages of 3: each once, in order")
    t.eq(pages, 3, "in 3 pages")
    t.eq([u["name"] for u in api.call("GET", "users?q=pg&disabled=true").body["items"]],
         ["pg3"], "disabled=true")
    t.eq(len(api.call("GET", "users?q=pg&disabled=false").body["items"]), 6,
         "disabled=false")
    t.eq([u["name"] for u in api.call("GET", "users?email=PG5@example.com").body["items"]],
         ["pg5"], "email filter (any case)")
    err(api, "GET", "users?disabled=maybe", None, 400, "disabled", "a bad disabled filter")
    err(api, "GET", "users?limit=0", None, 400, "limit", "limit 0")
    groups_seen = [g["name"] for g in api.all_items("groups", limit=1)]
    t.eq(groups_seen, ["staff"], "groups paged one by one")


def other_tenant(srv, api):
    srv.add_user("zed", PW, email="zed@example.com", tenant="other")
    srv.cli("group", "add", "zgroup", tenant="other")
    before = show(srv, "zed", tenant="other")
    for method, path, body in [("GET", "users/zed", None),
                               ("PATCH", "users/zed", {"display_name": "Z"}),
                               ("PUT", "users/zed/password", {"password": PW2}),
                               ("POST", "users/zed/unlock", None),
                               ("DELETE", "users/zed", None),
                               ("GET", "groups/zgroup", None),
                               ("PATCH", "groups/zgroup", {"name": "mine"}),
                               ("DELETE", "groups/zgroup", None),
                               ("GET", "groups/zgroup/members", None),
                               ("PUT", "groups/zgroup/members/carol", None)]:
        r = api.call(method, path, json=body, expect=404)
        t.eq(r.body["error"], "not_found", "%s %s of another tenant: 404" % (method, path))
    err(api, "PUT", "groups/staff/members/zed", None, 400, "user",
        "another tenant's user cannot become a member")
    t.eq(show(srv, "zed", tenant="other"), before, "the other tenant's user is unchanged")
    t.ok("zgroup" in srv.cli("group", "list", tenant="other").stdout, "and its group stays")
    t.ok("zed" not in [u["name"] for u in api.all_items("users")], "nor listed here")


def read_only(srv, api, ro):
    state = cli_state(srv)
    r = api.call("POST", "users", json={"name": "rouser"}, expect=403, key=ro)
    t.eq(r.body["error"], "forbidden", "a read-only key: POST users 403")
    api.call("POST", "groups", json={"name": "rogroup"}, expect=403, key=ro)
    api.call("PATCH", "users/carol", json={"display_name": "RO"}, expect=403, key=ro)
    api.call("PUT", "groups/staff/members/dora", expect=403, key=ro)
    api.call("DELETE", "users/dora", expect=403, key=ro)
    t.eq(cli_state(srv), state, "the read-only key changed nothing")
    t.eq(api.call("GET", "users/carol", key=ro).status_code, 200, "but reads")


def delete(srv, api):
    api.call("DELETE", "users/dora", expect=204)
    api.call("GET", "users/dora", expect=404)
    t.ok(show(srv, "dora") is None, "DELETE users/dora: user show finds nobody")
    api.call("DELETE", "users/dora", expect=404)


def audit(srv, keys):
    recs = srv.audit()
    calls = [f for e, f in recs if e == "api.call"]
    patch = [f for f in calls if "method=PATCH" in f and "users/carol" in f and "before=" in f
             and "after=" in f]
    t.ok(patch, "a PATCH's api.call record has before and after", "\n".join(calls[-5:]))
    t.ok(all(re.search(r"(^|\s)key=(w|ro)\d*(\s|$)", f) for f in calls),
         "every api.call record names the key")
    t.ok(srv.audit_find("admin.user.add", "user=carol", "actor=apikey:w0") or
         any(re.search(r"actor=apikey:w\d", f) for f in
             srv.audit_find("admin.user.add", "user=carol")),
         "admin.user.add by the API names the key as actor")
    t.ok(srv.audit_find("admin.user.rename", "user=carol", "new_name=caroline"),
         "admin.user.rename recorded")
    t.ok(srv.audit_find("admin.group.rename", "group=sales", "new_name=revenue"),
         "admin.group.rename recorded")
    text = json.dumps(recs) + srv.log()
    t.ok(PW not in text and PW2 not in text and "$argon2" not in text,
         "no password or hash in any audit record or log line")
    t.ok(not any(k in text for k in keys), "no key string either")


def main():
    srv = st.Server()
    try:
        srv.cli("tenant", "add", "other")
        srv.cli("group", "add", "staff")
        keys = ac.make_keys(srv, "default", "w", 8, "read,write")
        ro = ac.make_key(srv, "default", "ro", "read")
        api = Client(srv, "default", keys)
        t.run("create and read", create_and_read, srv, api)
        t.run("update", update, srv, api)
        t.run("bad input", bad_input, srv, api)
        t.run("If-Match", if_match, srv, api)
        t.run("sessions and password", sessions_and_password, srv, api)
        t.run("rename", rename, srv, api)
        t.run("groups and members", groups, srv, api)
        t.run("paging and filters", paging, srv, api)
        t.run("another tenant", other_tenant, srv, api)
        t.run("read-only key", read_only, srv, api, ro)
        t.run("delete", delete, srv, api)
        t.run("audit", audit, srv, keys + [ro])
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
