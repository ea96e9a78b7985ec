#!/usr/bin/python3
"""What the admin API does that only the command line did before (issue 11): importing
users, an app's portal icon, and pruning the assignments of removed users and groups,
each through the admin function the command line uses.

- POST users/import: users with and without e-mail address and display name, with a
  password (they sign in with it) or without (they must choose one); each kind of bad
  user (bad name or address, too long a display name, missing name, unknown member, an
  existing user's name or address in any case, a name or address twice in the request)
  answers 400 naming it by index (users[i].member) and adds nobody; more than 1,000 users,
  none, or a password the policy refuses likewise.  The CLI's `user import` refuses the
  same line with the same words.  The password is in no audit record or log line.
- PUT/GET/DELETE apps/{name}/icon: PNG and SVG round-trip with their type, the portal
  shows the icon set through the API, the CLI sees it; too big, an SVG with a script,
  bytes of another type than declared, an empty body: 400 naming icon; a type other than
  PNG or SVG (or JSON): 415; a stale If-Match: 412; nothing changed after a refusal.
- POST apps/{name}/assignments/prune: after a user and a group are removed, their
  assignments go ({"removed": 2}), the others stay; audited as the CLI does.
- A read key gets 403 on these writes; another tenant's key gets 404.
Every request and answer is validated against the served OpenAPI document (api_common).
"""
import json
import os
import re
import struct
import zlib

import api_common as ac
import sekisho_test as st

t = st.Tap()
PW = "Import-Passw0rd-4417!"


def png(w=16, h=16):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    raw = b"".join(b"\0" + b"\x00\x80\xff\xff" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">%s'
       '<circle cx="8" cy="8" r="7" fill="#0a0"/></svg>')


def users(srv):
    return srv.cli("user", "list").stdout


def audited(srv, event, *fields):
    """An audit check: a record of event with these fields, made by one of the API keys."""
    hit = [f for f in srv.audit_find(event, *fields) if re.search(r"actor=apikey:rw\d", f)]
    return t.ok(hit, "audit: %s %s by an API key" % (event, " ".join(fields)))


def adds(srv):
    return len(srv.audit_find("admin.user.add"))


def refused(r, status, field, what):
    body = r.json() if r.content and "json" in r.headers.get("Content-Type", "") else {}
    return t.ok(r.status_code == status and body.get("field") == field and body.get("detail"),
                "%s: %d naming %s" % (what, status, field), "%d %s" % (r.status_code,
                                                                    r.text[:300]))


def signs_in(srv, name, password):
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), name, password)
    return b if r.status_code == 200 and r.url == srv.base() + "/portal" else None


# ---- users/import ----

def import_valid(srv, api):
    r = api.call("POST", "users/import", json={"users": [
        {"name": "imp1", "email": "imp1@example.com", "display_name": "Imported One"},
        {"name": "imp2"},
        {"name": "imp3", "email": "imp3@example.com", "display_name": None}],
        "password": PW})
    t.eq(r.body, {"imported": 3}, "POST users/import: 200 {imported: 3}")
    lst = users(srv)
    t.ok("imp1\timp1@example.com\tImported One\tenabled" in lst and "imp2\t-\t-\t" in lst
         and "imp3\timp3@example.com\t-\t" in lst, "the CLI lists the three as given", lst)
    t.ok(signs_in(srv, "imp2", PW) is not None, "an imported user signs in with the password")
    for name in ("imp1", "imp2", "imp3"):
        audited(srv, "admin.user.add", "user=%s" % name, "via=import")
    got = api.call("GET", "users/imp1").body
    t.eq((got["email"], got["display_name"]), ("imp1@example.com", "Imported One"),
         "GET users/imp1 shows what was imported")
    r = api.call("POST", "users/import", json={"users": [{"name": "imp4"}]})
    t.eq(r.body, {"imported": 1}, "an import without a password")
    t.ok("must_change_password=on" in srv.cli("user", "show", "imp4").stdout,
         "without a password the user must choose one")
    t.ok(PW not in json.dumps(srv.audit()) and PW not in srv.log(),
         "the password is in no audit record and no log line")


BAD = [
    ("a bad name", [{"name": "ok1"}, {"name": "b@d n@me"}], "users[1].name",
     "bad user name"),
    ("a bad address", [{"name": "ok1"}, {"name": "ok2", "email": "not-an-email"}],
     "users[1].email", "bad email address"),
    ("an existing user", [{"name": "ok1"}, {"name": "ok2"}, {"name": "alice"}],
     "users[2].name", "user alice already exists"),
    ("an existing user in another case", [{"name": "ALICE"}], "users[0].name",
     "already exists"),
    ("an existing user's address", [{"name": "ok1", "email": "Alice@Example.com"}],
     "users[0].email", "another user has the email address"),
    ("a name twice", [{"name": "ok1"}, {"name": "ok2"}, {"name": "OK1"}], "users[2].name",
     "repeated"),
    ("an address twice", [{"name": "ok1", "email": "x@example.com"},
                          {"name": "ok2", "email": "x@example.com"}], "users[1].email",
     "repeated"),
    ("a display name too long", [{"name": "ok1", "display_name": "d" * 300}],
     "users[0].display_name", "display name"),
    ("no name", [{"name": "ok1"}, {"email": "n@example.com"}], "users[1].name", "required"),
    ("an unknown member", [{"name": "ok1", "nick": "x"}], "users[0].nick", "unknown"),
    ("a user that is not an object", [{"name": "ok1"}, "ok2"], "users[1]", "object"),
]


def import_bad(srv, api):
    before, audited = users(srv), adds(srv)
    for what, lst, field, words in BAD:
        r = api.call("POST", "users/import", json={"users": lst}, expect=400, raw=True)
        refused(r, 400, field, "import with %s" % what)
        t.ok(words in r.json().get("detail", ""), "%s: the detail says %r" % (what, words),
             r.text[:300])
    many = [{"name": "m%04d" % i} for i in range(1001)]
    for what, body in (("1,001 users", {"users": many}), ("no user", {"users": []}),
                       ("users not an array", {"users": {"name": "x"}}),
                       ("no users member", {"password": PW})):
        r = api.call("POST", "users/import", json=body, expect=400, raw=True)
        refused(r, 400, "users", "import of %s" % what)
    r = api.call("POST", "users/import", json={"users": [{"name": "ok1"}],
                                               "password": "short"}, expect=400)
    refused(r, 400, "password", "import with a password the policy refuses")
    t.eq(users(srv), before, "after every refusal nobody was added")
    t.eq(adds(srv), audited, "and no admin.user.add record was written")
    r = api.call("POST", "users/import", json={"users": many[:1000]})
    t.eq(r.body, {"imported": 1000}, "1,000 users in one call")
    t.eq(len(users(srv).splitlines()), len(before.splitlines()) + 1000,
         "the CLI lists the 1,000")


def import_same_as_cli(srv, api):
    """The CLI and the API refuse the same user with the same words, and the CLI too adds
    nobody when a later line is bad (it added the lines before a repeated address)."""
    path = os.path.join(srv.tmp, "import.tsv")
    cases = (("fine\nalice\n", [{"name": "fine"}, {"name": "alice"}]),
             ("fine\tf@example.com\nfine2\tF@example.com\n",
              [{"name": "fine", "email": "f@example.com"},
               {"name": "fine2", "email": "F@example.com"}]),
             ("x\tbad address\n", [{"name": "x", "email": "bad address"}]))
    before, said = users(srv), []
    for text, _ in cases:
        with open(path, "w") as f:
            f.write(text)
        cli = srv.cli("user", "import", path, check=False)
        said.append(cli.stderr.strip())
        t.ok(cli.returncode == 1 and users(srv) == before,
             "the CLI refuses %r and adds nobody" % text, cli.stderr + users(srv))
    for (text, lst), cli in zip(cases, said):
        detail = api.call("POST", "users/import", json={"users": lst},
                          expect=400).json()["detail"]
        t.ok(cli.endswith(": " + detail), "CLI and API say the same: %s" % detail, cli)


# ---- icons ----

def icon_get(api, app, expect=200, key=None):
    return api.call("GET", "apps/%s/icon" % app, expect=expect, key=key)


def icons(srv, api):
    good_png, good_svg = png(), (SVG % "").encode()
    r = api.call("PUT", "apps/crm/icon", data=good_png, content_type="image/png")
    t.eq(r.body.get("has_icon"), True, "PUT a PNG: the app has an icon")
    g = icon_get(api, "crm")
    t.ok(g.content == good_png and g.headers.get("Content-Type") == "image/png",
         "GET the icon: the PNG with its type", g.headers.get("Content-Type"))
    t.ok("icon=image/png %d bytes" % len(good_png) in srv.cli("app", "show", "crm").stdout,
         "the CLI sees the PNG")
    r = api.call("PUT", "apps/crm/icon", data=good_svg,
                 content_type="image/svg+xml; charset=utf-8")
    g = icon_get(api, "crm")
    t.ok(g.content == good_svg and g.headers.get("Content-Type") == "image/svg+xml",
         "PUT and GET an SVG with its type", g.headers.get("Content-Type"))
    t.ok("sandbox" in g.headers.get("Content-Security-Policy", ""),
         "an SVG is served sandboxed")
    audited(srv, "admin.app.set", "app=crm", "icon=\"image/svg+xml %d bytes\"" % len(good_svg))
    b = signs_in(srv, "alice", PW)
    page = b.get(srv.base() + "/portal").text if b else ""
    t.ok("portal/icon/crm" in page, "the portal shows the icon set through the API")
    r = b.get(srv.base() + "/portal/icon/crm") if b else None
    t.ok(r is not None and r.content == good_svg, "the portal serves the SVG from the API")
    icon_refusals(srv, api, good_png, good_svg)
    etag = api.call("GET", "apps/crm").headers["ETag"]
    api.call("PATCH", "apps/crm", json={"description": "Customers"})
    r = api.call("PUT", "apps/crm/icon", data=good_png, content_type="image/png",
                 headers={"If-Match": etag}, expect=412)
    t.eq(r.status_code, 412, "PUT with a stale If-Match: 412")
    etag = api.call("GET", "apps/crm").headers["ETag"]
    r = api.call("DELETE", "apps/crm/icon", headers={"If-Match": etag})
    t.eq(r.body.get("has_icon"), False, "DELETE the icon: the app has none")
    t.eq(icon_get(api, "crm", expect=404).status_code, 404, "then GET the icon is 404")
    t.ok("icon=\n" in srv.cli("app", "show", "crm").stdout, "the CLI sees no icon")
    t.eq(api.call("DELETE", "apps/crm/icon").status_code, 200, "DELETE again: 200")
    t.eq(api.call("PUT", "apps/none/icon", data=good_png, content_type="image/png",
                  expect=404).status_code, 404, "PUT the icon of no app: 404")
    t.eq(icon_get(api, "none", expect=404).status_code, 404, "GET the icon of no app: 404")


def icon_refusals(srv, api, good_png, good_svg):
    before = (srv.cli("app", "show", "crm").stdout, len(srv.audit_find("admin.app.set")))
    cases = [("an SVG with a script", (SVG % "<script>alert(1)</script>").encode(),
              "image/svg+xml", "SVG has a script element"),
             ("an SVG with an event attribute",
              (SVG.replace("<svg ", '<svg onload="alert(1)" ') % "").encode(),
              "image/svg+xml", "event attribute"),
             ("an SVG larger than 64 KiB", (SVG % ("<!--%s-->" % ("x" * 70000))).encode(),
              "image/svg+xml", "larger than 64 KiB"),
             ("a PNG sent as SVG", good_png, "image/svg+xml", "image/png"),
             ("an SVG sent as PNG", good_svg, "image/png", "image/svg+xml"),
             ("text sent as PNG", b"hello", "image/png", "not a PNG or SVG"),
             ("an empty body", b"", "image/png", "body")]
    for what, data, ctype, words in cases:
        r = api.call("PUT", "apps/crm/icon", data=data, content_type=ctype, expect=400)
        refused(r, 400, "icon", "PUT %s" % what)
        t.ok(words in r.json().get("detail", ""), "%s: the detail says %r" % (what, words),
             r.text[:300])
    for ctype in ("image/gif", "text/plain", "application/octet-stream"):
        r = api.call("PUT", "apps/crm/icon", data=good_png, content_type=ctype, expect=415)
        t.eq(r.status_code, 415, "PUT the icon as %s: 415" % ctype)
    r = api.call("PUT", "apps/crm/icon", json={"icon": "x"}, raw=True, expect=415)
    t.eq(r.status_code, 415, "PUT the icon as JSON: 415")
    r = api.request("POST", "apps/crm/assignments/prune", data=good_png,
                    content_type="image/png")
    t.eq(r.status_code, 415, "an image body elsewhere: 415")
    t.eq((srv.cli("app", "show", "crm").stdout, len(srv.audit_find("admin.app.set"))),
         before, "after every refusal the icon is unchanged and nothing audited")
    t.eq(icon_get(api, "crm").content, good_svg, "GET still gives the SVG")


# ---- assignments/prune ----

def prune(srv, api):
    r = api.call("POST", "apps/crm/assignments/prune", json={})
    t.eq(r.body, {"removed": 0}, "prune with no assignment: removed 0")
    srv.add_user("gone", PW)
    srv.cli("group", "add", "temp")
    # Only an app's last assignment outlives its user or group (the app stays closed).
    for kind, name, remove in (("users", "gone", ("DELETE", "users/gone")),
                               ("groups", "temp", ("DELETE", "groups/temp"))):
        api.call("PUT", "apps/crm/assignments/%s/%s" % (kind, name), expect=204)
        api.call(*remove, expect=204)
        items = api.call("GET", "apps/crm/assignments").body["items"]
        t.eq(items, [{"kind": kind[:-1], "name": None}],
             "after removing %s the app stays assigned to the removed %s" % (name, kind[:-1]))
        r = api.call("POST", "apps/crm/assignments/prune")
        t.eq(r.body, {"removed": 1}, "POST prune: removed 1 (%s)" % name)
        t.eq(api.call("GET", "apps/crm/assignments").body["items"], [],
             "no assignment is left")
    audited(srv, "admin.app.unassign", "app=crm", "removed=all")
    t.ok("assigned=everyone\n" in srv.cli("app", "show", "crm").stdout, "the CLI agrees")
    api.call("PUT", "apps/crm/assignments/groups/staff", expect=204)
    r = api.call("POST", "apps/crm/assignments/prune")
    t.eq(r.body, {"removed": 0}, "an assignment of a group that exists stays: removed 0")
    t.eq(api.call("GET", "apps/crm/assignments").body["items"],
         [{"kind": "group", "name": "staff"}], "staff stays assigned")
    r = api.call("POST", "apps/crm/assignments/prune", json={"all": True}, expect=400,
                 raw=True)
    refused(r, 400, "all", "prune with an unknown member")
    t.eq(api.call("POST", "apps/none/assignments/prune", json={}, expect=404).status_code,
         404, "prune of no app: 404")


def scope_and_tenant(srv, ro, other):
    calls = (("PUT", "apps/crm/icon", png(), "image/png"),
             ("DELETE", "apps/crm/icon", None, None),
             ("POST", "apps/crm/assignments/prune", None, None),
             ("POST", "users/import", json.dumps({"users": [{"name": "ro1"}]}),
              "application/json"))
    for method, path, data, ctype in calls:
        r = ro.call(method, path, data=data, content_type=ctype, expect=403)
        t.eq(r.status_code, 403, "a read key: %s %s is 403" % (method, path))
    t.eq(ro.call("GET", "apps/crm/icon", expect=(200, 404)).status_code in (200, 404), True,
         "a read key may GET the icon")
    for method, path, data, ctype in calls[:3] + (("GET", "apps/crm/icon", None, None),):
        r = other.call(method, path, data=data, content_type=ctype, expect=404)
        t.eq(r.status_code, 404, "another tenant's key: %s %s is 404" % (method, path))
    t.ok("ro1" not in users(srv), "nothing was imported by the read key")


def user_called_import(srv, api):
    """The import's literal path does not hide a user who happens to be called import."""
    r = api.call("POST", "users/import", json={"users": [{"name": "import"}]})
    t.eq(r.body, {"imported": 1}, "a user called import is imported")
    got = api.call("GET", "users/import").body
    t.eq(got.get("name"), "import", "GET users/import is that user")
    r = api.call("PATCH", "users/import", json={"display_name": "Imp Ort"})
    t.eq(r.body.get("display_name"), "Imp Ort", "PATCH users/import changes that user")
    api.call("DELETE", "users/import", expect=204)
    t.ok("\nimport\t" not in "\n" + users(srv), "DELETE users/import removes that user")
    api.call("GET", "users/import", expect=404)
    r = api.request("PUT", "users/import", json={})
    t.eq((r.status_code, r.headers.get("Allow")), (405, "POST"),
         "PUT users/import: 405, Allow names the import's POST")


def main():
    srv = st.Server()
    try:
        srv.cli("tenant", "add", "other")
        srv.add_user("alice", PW, email="alice@example.com")
        srv.cli("group", "add", "staff")
        srv.cli("group", "add-member", "staff", "alice")
        srv.cli("app", "add-oidc", "crm", "--redirect-uri", "https://crm.example.com/cb")
        api = ac.ApiClient(srv, "default", ac.make_keys(srv, "default", "rw", 8,
                                                        "read,write"))
        ro = ac.ApiClient(srv, "default", [ac.make_key(srv, "default", "ro", "read")])
        other = ac.ApiClient(srv, "other", [ac.make_key(srv, "other", "o", "read,write")])
        t.run("import", import_valid, srv, api)
        t.run("import: bad users change nothing", import_bad, srv, api)
        t.run("import: the CLI and the API agree", import_same_as_cli, srv, api)
        t.run("icons", icons, srv, api)
        t.run("prune", prune, srv, api)
        t.run("a user called import", user_called_import, srv, api)
        t.run("scope and tenant", scope_and_tenant, srv, ro, other)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
