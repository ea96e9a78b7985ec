#!/usr/bin/python3
"""End to end: apps and assignments through the admin API (issue 11), against apache2 +
mod_auth_mellon (app "hr", registered from its own metadata by POST apps) and apache2 +
mod_auth_openidc (app "wiki", an OIDC client made by POST apps, configured with the
client_id and client_secret of that answer), both Debian's and unmodified.

Covered: both apps assigned to a group through the API, then a member gets in at both and a
user outside is refused at both; the secret appears only in the creation answer (not in GET,
lists, the audit trail or the log); the metadata only at apps/{name}/metadata; bad inputs
(bad metadata, an http endpoint, bad or http redirect URIs, unknown type, grant or NameID
format, duplicate name, unknown user or group, unknown member) answer 400/409 naming the
field and change nothing; If-Match with a stale ETag answers 412; paging and the type
filter; a read-only key cannot write (nor set an icon or prune assignments); another
tenant's apps (and their icons) are 404; DELETE removes.  Icons and pruning themselves are
test_api_import.py's.
Every request and answer body is validated against the OpenAPI document (api_common).
"""
import json
import re
import secrets
import signal
import sys
import time

import access_common as ac
import api_common
from api_common import ApiClient
from sekisho_test import Server, Tap
from peers.mellon import MellonSP, parse_env as mellon_env
from peers.openidc import OidcRP
from peers import samlforge

USERS = {"alice": ["staff"], "bob": []}


class ApiOidcRP(OidcRP):
    """mod_auth_openidc registered through POST apps instead of the command line."""

    api = None
    answer = None

    def _register(self, id_token_alg):
        r = self.api.call("POST", "apps", json={
            "name": self.app, "type": "oidc", "redirect_uris": [self.redirect_uri],
            "post_logout_redirect_uris": [self.logged_out],
            "token_endpoint_auth_method": "client_secret_basic"}, expect=201)
        ApiOidcRP.answer = r
        body = r.json()
        self.client_id = body["client_id"]
        self.client_secret = body["client_secret"]
        return 'OIDCClientSecret "%s"\nOIDCProviderTokenEndpointAuth client_secret_basic' % (
            self.client_secret)


class Scenario:
    def __init__(self, t, srv, api, pw):
        self.t = t
        self.srv = srv
        self.api = api
        self.pw = pw
        self.hr = self.wiki = None
        self.hr_answer = None

    def names(self):
        """The app names as GET apps lists them (one page is enough here)."""
        return [a["name"] for a in self.api.call("GET", "apps").json()["items"]]

    def refused(self, r, status, field, what):
        body = r.json() if r.content else {}
        self.t.ok(r.status_code == status and body.get("field") == field and
                  body.get("detail"), "%s: %d naming %s" % (what, status, field),
                  "%d %s" % (r.status_code, r.text[:400]))

    def at_hr(self, r):
        return r.status_code == 200 and r.url == self.hr.protected and \
            bool(mellon_env(r.text).get("REMOTE_USER"))

    def at_wiki(self, r):
        return r.status_code == 200 and r.url == self.wiki.protected and \
            "OIDC_CLAIM_sub=" in r.text

    def outcome(self, app, user):
        b = ac.browser(self.srv)
        start = len(b.history)
        r = b.get(app.protected)
        if ac.login_page(b, r):
            r = b.submit_login(r, user, self.pw[user])
        if app is self.hr:
            return ac.classify(self.srv, b, r, start, reached=self.at_hr)
        return ac.classify(self.srv, b, r, start, reached=self.at_wiki,
                           redirect_uri=self.wiki.redirect_uri)


def part_create(s):
    t, api = s.t, s.api
    with open(s.hr.metadata) as f:
        md = f.read()
    r = api.call("POST", "apps", json={"name": "hr", "type": "saml", "metadata": md,
                                       "nameid_format": "persistent"}, expect=201)
    body = r.json()
    t.ok(r.headers.get("Location", "").endswith("/api/v1/apps/hr"),
         "POST apps (SAML): Location apps/hr", r.headers.get("Location"))
    t.ok(body["name"] == "hr" and body["type"] == "saml" and
         body["entity_id"] == s.hr.entity_id and body["nameid_format"] == "persistent" and
         body["sign_response"] is False and "metadata" not in body and
         body["has_icon"] is False,
         "POST apps (SAML): the app with the SP's entity ID, without the metadata", body)
    got = api.call("GET", "apps/hr/metadata").json()
    t.ok(got["metadata"] == md and got["entity_id"] == s.hr.entity_id,
         "GET apps/hr/metadata: the metadata as registered")
    show = s.srv.cli("app", "show", "hr").stdout
    t.ok("entity_id=%s\n" % s.hr.entity_id in show, "the command line sees the app", show)

    r = ApiOidcRP.answer
    body = r.json()
    t.ok(r.status_code == 201 and body["type"] == "oidc" and body["client_id"] and
         body["client_secret"] and body["redirect_uris"] == [s.wiki.redirect_uri] and
         body["token_endpoint_auth_method"] == "client_secret_basic" and
         body["public"] is False and "secret_hash" not in body,
         "POST apps (OIDC): client_id, client_secret once, the redirect URI", body)
    got = api.call("GET", "apps/wiki")
    text = got.text + api.call("GET", "apps").text
    t.ok(got.json()["client_id"] == s.wiki.client_id and s.wiki.client_secret not in text
         and "client_secret" not in got.json() and "secret_hash" not in text and
         not re.search(r"[0-9a-f]{64}", text),
         "GET apps/wiki and GET apps: the client_id, never the secret or its hash")
    r = api.call("GET", "apps/wiki/metadata", expect=404)
    t.eq(r.status_code, 404, "an OIDC client has no SAML metadata: 404")


def part_assign(s):
    t, api = s.t, s.api
    for app in ("hr", "wiki"):
        r = api.call("PUT", "apps/%s/assignments/groups/staff" % app, expect=204)
        t.eq(r.status_code, 204, "PUT apps/%s/assignments/groups/staff: 204" % app)
    r = api.call("PUT", "apps/hr/assignments/groups/staff", expect=204)
    t.eq(r.status_code, 204, "assigning again: 204 (it is so)")
    got = api.call("GET", "apps/hr/assignments").json()
    t.eq(got["items"], [{"kind": "group", "name": "staff"}], "GET apps/hr/assignments")
    show = s.srv.cli("app", "show", "wiki").stdout
    t.ok("assigned=group:staff\n" in show, "the command line sees the assignment", show)
    t.eq(s.outcome(s.hr, "alice"), "in", "alice (staff) reaches hr (mellon)")
    t.eq(s.outcome(s.wiki, "alice"), "in", "alice (staff) reaches wiki (openidc) with the "
         "client_secret of the creation answer")
    t.eq(s.outcome(s.hr, "bob"), "refused", "bob (not in staff) is refused at hr")
    t.eq(s.outcome(s.wiki, "bob"), "refused", "bob (not in staff) is refused at wiki")
    r = api.call("PUT", "apps/hr/assignments/users/bob", expect=204)
    t.eq(s.outcome(s.hr, "bob"), "in", "assigned as a user through the API: bob reaches hr")
    api.call("DELETE", "apps/hr/assignments/users/bob", expect=204)
    r = api.call("DELETE", "apps/hr/assignments/users/bob", expect=204)
    t.eq(r.status_code, 204, "unassigning what is not assigned: 204")
    t.eq(s.outcome(s.hr, "bob"), "refused", "unassigned again: bob is refused at hr")
    s.srv.audit_has(t, "admin.app.assign", "app=hr", "group=staff")


def part_bad_input(s):
    t, api, srv = s.t, s.api, s.srv
    before = (s.names(), api.call("GET", "apps/hr/assignments").json(),
              srv.cli("app", "list").stdout)
    http_acs = samlforge.sp_metadata("https://evil.example.com/sp",
                                     ["http://evil.example.com/acs"],
                                     "https://evil.example.com/slo")
    ok_uri = ["https://rp.example.com/cb"]
    cases = [
        ("metadata that is not metadata", {"name": "x1", "type": "saml",
                                           "metadata": "<x/>"}, 400, "metadata"),
        ("metadata with an http ACS on a public host",
         {"name": "x2", "type": "saml", "metadata": http_acs}, 400, "metadata"),
        ("metadata without metadata", {"name": "x3", "type": "saml"}, 400, "metadata"),
        ("an unknown NameID format", {"name": "x4", "type": "saml", "metadata": http_acs,
                                      "nameid_format": "kerberos"}, 400, "nameid_format"),
        ("a redirect URI with a fragment", {"name": "x5", "type": "oidc",
                                            "redirect_uris": ["https://rp.example.com/cb#f"]},
         400, "redirect_uris"),
        ("an http redirect URI to a public host",
         {"name": "x6", "type": "oidc", "redirect_uris": ["http://rp.example.com/cb"]},
         400, "redirect_uris"),
        ("redirect_uris not an array", {"name": "x7", "type": "oidc",
                                        "redirect_uris": "https://rp.example.com/cb"},
         400, "redirect_uris"),
        ("no redirect URI for the code flow", {"name": "x8", "type": "oidc"}, 400,
         "redirect_uris"),
        ("an unknown grant", {"name": "x9", "type": "oidc", "redirect_uris": ok_uri,
                              "grant_types": ["implicit"]}, 400, "grant_types"),
        ("a public client with client_credentials",
         {"name": "x10", "type": "oidc", "public": True,
          "grant_types": ["client_credentials"]}, 400, "token_endpoint_auth_method"),
        ("an http back-channel logout URI",
         {"name": "x11", "type": "oidc", "redirect_uris": ok_uri,
          "backchannel_logout_uri": "http://rp.example.com/bc"}, 400,
         "backchannel_logout_uri"),
        ("private_key_jwt without keys", {"name": "x12", "type": "oidc",
                                          "redirect_uris": ok_uri,
                                          "token_endpoint_auth_method": "private_key_jwt"},
         400, "jwks"),
        ("an unknown type", {"name": "x13", "type": "ldap"}, 400, "type"),
        ("a bad name", {"name": "a b", "type": "oidc", "redirect_uris": ok_uri}, 400, "name"),
        ("a duplicate name", {"name": "hr", "type": "oidc", "redirect_uris": ok_uri}, 409,
         "name"),
        ("an unknown member", {"name": "x14", "type": "oidc", "redirect_uris": ok_uri,
                               "colour": "red"}, 400, "colour"),
    ]
    for what, body, status, field in cases:
        s.refused(api.call("POST", "apps", json=body, expect=status, raw=True),
                  status, field, "POST apps with " + what)
    with open(s.hr.metadata) as f:
        md = f.read()
    s.refused(api.call("POST", "apps", json={"name": "hr2", "type": "saml", "metadata": md},
                       expect=409), 409, "metadata", "the same SP a second time (entity ID)")
    s.refused(api.call("PUT", "apps/hr/assignments/users/nobody", expect=400), 400, "user",
              "assigning an unknown user")
    s.refused(api.call("PUT", "apps/hr/assignments/groups/nogroup", expect=400), 400, "group",
              "assigning an unknown group")
    r = api.call("PUT", "apps/noapp/assignments/groups/staff", expect=404)
    t.eq(r.status_code, 404, "assigning an unknown app: 404")
    s.refused(api.call("PATCH", "apps/hr", json={"display_name": "a\tb"}, expect=400,
                       raw=True), 400, "display_name",
              "PATCH with a control character")
    s.refused(api.call("PATCH", "apps/hr", json={"entity_id": "x"}, expect=400,
                       raw=True), 400, "entity_id", "PATCH of a read-only member")
    s.refused(api.call("GET", "apps?type=ldap", expect=400), 400, "type", "GET apps?type=ldap")
    after = (s.names(), api.call("GET", "apps/hr/assignments").json(),
             srv.cli("app", "list").stdout)
    t.eq(after, before, "after the refused inputs: the same apps and assignments")
    t.eq(api.call("GET", "apps/hr").json()["display_name"], None,
         "after the refused PATCH: no display name")


def part_patch(s):
    t, api = s.t, s.api
    r = api.call("GET", "apps/hr")
    etag = r.headers.get("ETag")
    t.ok(etag, "GET apps/hr has an ETag")
    r = api.call("PATCH", "apps/hr", json={"display_name": "Human Resources",
                                           "description": "Leave and pay"},
                 headers={"If-Match": etag})
    body = r.json()
    t.ok(body["display_name"] == "Human Resources" and body["description"] ==
         "Leave and pay" and r.headers.get("ETag") not in (None, etag),
         "PATCH with the current ETag: 200, the new texts and a new ETag", body)
    show = s.srv.cli("app", "show", "hr").stdout
    t.ok("display_name=Human Resources\n" in show, "the command line sees the new name", show)
    r = api.call("PATCH", "apps/hr", json={"display_name": "Stale"},
                 headers={"If-Match": etag}, expect=412)
    t.eq(r.status_code, 412, "PATCH with a stale ETag: 412")
    t.eq(api.call("GET", "apps/hr").json()["display_name"], "Human Resources",
         "the stale PATCH changed nothing")
    r = api.call("DELETE", "apps/hr", headers={"If-Match": etag}, expect=412)
    t.eq(r.status_code, 412, "DELETE with a stale ETag: 412")
    body = api.call("PATCH", "apps/hr", json={"description": None}).json()
    t.ok(body["description"] is None and body["display_name"] == "Human Resources",
         "PATCH description null: cleared, the rest unchanged", body)
    s.srv.audit_has(t, "admin.app.set", "app=hr")


def part_list(s):
    t, api = s.t, s.api
    page = api.call("GET", "apps?limit=1").json()
    t.ok(len(page["items"]) == 1 and page["items"][0]["name"] == "hr" and
         page.get("next_cursor"), "GET apps?limit=1: hr and a cursor", page)
    page2 = api.call("GET", "apps?limit=1&cursor=" + page["next_cursor"]).json()
    t.ok([a["name"] for a in page2["items"]] == ["wiki"] and "next_cursor" not in page2,
         "the next page: wiki, and no cursor", page2)
    t.eq([a["name"] for a in api.call("GET", "apps?type=oidc").json()["items"]], ["wiki"],
         "GET apps?type=oidc")
    t.eq([a["name"] for a in api.call("GET", "apps?type=saml").json()["items"]], ["hr"],
         "GET apps?type=saml")


def part_scope_and_tenant(s, ro, other):
    t, srv = s.t, s.srv
    r = ro.call("GET", "apps/hr")
    t.eq(r.status_code, 200, "a read-only key reads")
    for method, path, body in (("POST", "apps", {"name": "ro1", "type": "oidc",
                                                 "redirect_uris": ["https://r.example/cb"]}),
                               ("DELETE", "apps/hr", None),
                               ("PUT", "apps/hr/assignments/users/alice", None),
                               ("POST", "apps/hr/assignments/prune", {}),
                               ("DELETE", "apps/hr/icon", None)):
        r = ro.call(method, path, json=body, expect=403)
        t.eq(r.status_code, 403, "a read-only key: %s %s is 403" % (method, path))
    for method, path in (("GET", "apps/hr"), ("GET", "apps/hr/metadata"),
                         ("GET", "apps/hr/assignments"), ("PATCH", "apps/hr"),
                         ("DELETE", "apps/hr"), ("PUT", "apps/hr/assignments/groups/staff"),
                         ("DELETE", "apps/wiki/assignments/groups/staff"),
                         ("GET", "apps/hr/icon"), ("DELETE", "apps/hr/icon"),
                         ("POST", "apps/hr/assignments/prune")):
        r = other.call(method, path, json={} if method in ("PATCH", "POST") else None,
                       expect=404)
        t.eq(r.status_code, 404, "another tenant's key: %s %s is 404" % (method, path))
    t.eq(other.call("GET", "apps").json()["items"], [], "another tenant lists no app")
    t.eq(s.names(), ["hr", "wiki"], "the apps are untouched")
    t.eq(s.api.call("GET", "apps/wiki/assignments").json()["items"],
         [{"kind": "group", "name": "staff"}], "wiki's assignment is untouched")


def part_delete(s):
    t, api, srv = s.t, s.api, s.srv
    r = api.call("DELETE", "apps/wiki", expect=204)
    t.eq(r.status_code, 204, "DELETE apps/wiki: 204")
    t.eq(api.call("GET", "apps/wiki", expect=404).status_code, 404, "then GET is 404")
    t.eq(api.call("DELETE", "apps/wiki", expect=404).status_code, 404, "and DELETE again 404")
    t.ok("wiki\t" not in srv.cli("app", "list").stdout, "the command line no longer sees it")
    api.call("DELETE", "apps/hr/assignments/groups/staff", expect=204)
    t.eq(api.call("GET", "apps/hr/assignments").json()["items"], [],
         "the last assignment of hr removed")
    t.eq(s.outcome(s.hr, "bob"), "in", "hr without assignment: bob reaches it")


def part_secrets(s):
    t, srv = s.t, s.srv
    secret = s.wiki.client_secret
    audit = json.dumps(srv.audit())
    t.ok(secret not in audit and secret not in srv.log(),
         "the client secret is in neither the audit trail nor the log")
    t.ok("EntityDescriptor" not in audit, "no metadata XML in the audit trail")
    srv.audit_has(t, "admin.app.add", "app=wiki", "type=oidc")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t = Tap()
    began = time.time()
    srv = None
    peers = []
    try:
        srv = Server()
        pw = {}
        srv.cli("group", "add", "staff")
        for name, groups in USERS.items():
            pw[name] = secrets.token_urlsafe(12)
            srv.add_user(name, pw[name], email=name + "@example.com")
            for g in groups:
                srv.cli("group", "add-member", g, name)
        srv.cli("tenant", "add", "other")
        api = ApiClient(srv, "default", api_common.make_keys(srv, "default", "rw", 8,
                                                             "read,write"))
        ro = ApiClient(srv, "default", [api_common.make_key(srv, "default", "ro", "read")])
        other = ApiClient(srv, "other", [api_common.make_key(srv, "other", "o",
                                                               "read,write")])
        s = Scenario(t, srv, api, pw)
        s.hr = MellonSP(srv, "hr", register=False)
        peers.append(s.hr)
        ApiOidcRP.api = api
        s.wiki = ApiOidcRP(srv, "wiki")
        peers.append(s.wiki)
        t.run("create", part_create, s)
        t.run("assign and log in", part_assign, s)
        t.run("bad input", part_bad_input, s)
        t.run("patch", part_patch, s)
        t.run("list", part_list, s)
        t.run("scope and tenant", part_scope_and_tenant, s, ro, other)
        t.run("secrets", part_secrets, s)
        t.run("delete", part_delete, s)
    except Exception as e:
        t.ok(False, "set-up", "%s\n%s" % (e, srv.log()[-3000:] if srv else ""))
    finally:
        for p in peers:
            p.close()
        if srv:
            srv.close()
    print("# api apps scenario took %.1f s" % (time.time() - began))
    t.done()


if __name__ == "__main__":
    main()
