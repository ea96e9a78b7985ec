#!/usr/bin/python3
"""The SCIM 2.0 server (RFC 7643/7644) at /t/TENANT/scim/v2/, driven as its clients drive it.

- Discovery: ServiceProviderConfig (patch, filter with maxResults 200, etag; no bulk, sort
  or changePassword; oauthbearertoken), ResourceTypes, Schemas.
- Keys: only a key with the scim scope reaches SCIM (401 without a key, 403 for a
  read/write key, nothing written); a scim key does not reach the admin API.
- Microsoft Entra ID's provisioning sequence, in the shapes of its SCIM guide: lookup by
  userName (empty list), create, PATCH with "False" strings and without a path, filtered
  e-mail, enterprise attributes; groups looked up by displayName, created, members added
  and removed, renamed, deleted.
- Okta's: create, lookup with startIndex/count, PUT with active false, group push (PATCH
  replace repeating the id, add and remove members), PUT of a group.
- RFC 7644's examples: create, filters, paging, PUT with If-Match (412 for a stale version),
  PATCH of members, delete; errors: invalidFilter, uniqueness (409, any case), invalidValue
  naming the attribute, 404 for another tenant's ids; nothing changes after an error.
- active:false ends at once the session of a signed-in SCIM-made user (the cookie no longer
  reaches the portal) and their OIDC refresh token.
"""
import base64
import hashlib
import json
import os
import re
import time
import urllib.parse

import requests

import api_common as ac
import sekisho_test as st

t = st.Tap()
PW = "Scim-Provisioned-Passw0rd-51!"
U = "urn:ietf:params:scim:schemas:core:2.0:User"
G = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCHOP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    """SCIM calls rotating over keys: one call per second per key, counted from the end of
    the key's previous call (the server counts a call when it starts handling it)."""

    def __init__(self, srv, keys, tenant="default"):
        self.srv = srv
        self.base = srv.base(tenant) + "/scim/v2/"
        self.keys = list(keys)
        self.done = [0.0] * len(self.keys)
        self.turn = 0

    def request(self, method, path, data=None, headers=None, key=None):
        i = None
        if key is None:
            i = self.turn
            self.turn = (i + 1) % len(self.keys)
            time.sleep(max(0.0, self.done[i] + 1.05 - time.time()))
            key = self.keys[i]
        h = {"Authorization": "Bearer " + key}
        if data is not None:
            h["Content-Type"] = "application/scim+json"
        h.update(headers or {})
        try:
            return requests.request(method, self.base + path, data=data, headers=h,
                                    verify=self.srv.ca, timeout=60)
        finally:
            if i is not None:
                self.done[i] = time.time()

    def call(self, method, path, body=None, expect=200, headers=None, key=None):
        data = json.dumps(body) if body is not None else None
        r = self.request(method, path, data=data, headers=headers, key=key)
        if r.status_code != expect:
            raise AssertionError("%s %s: %d, wanted %d: %s" % (method, path, r.status_code,
                                                               expect, r.text[:600]))
        r.body = r.json() if r.content else None
        if r.content:
            ctype = r.headers.get("Content-Type", "")
            assert ctype.startswith("application/scim+json"), ctype
        if r.status_code >= 400:
            check_error(r)
        return r

    def patch(self, path, ops, expect=200, headers=None):
        return self.call("PATCH", path, {"schemas": [PATCHOP], "Operations": ops}, expect,
                         headers)

    def find(self, kind, flt, **extra):
        q = {"filter": flt}
        q.update(extra)
        body = self.call("GET", kind + "?" + urllib.parse.urlencode(q,
                                                                    quote_via=urllib.parse.quote)).body
        assert body["schemas"] == [LIST], body
        return body


def check_error(r):
    b = r.json()
    assert b["schemas"] == [ERROR], b
    assert b["status"] == str(r.status_code), b
    assert b.get("detail"), b


def check_meta(tap, r, kind, name):
    b = r.body
    m = b["meta"]
    tap.eq(m["resourceType"], kind[:-1], "%s: meta.resourceType" % name)
    tap.ok(m["location"].endswith("/scim/v2/%s/%s" % (kind, b["id"])), "%s: meta.location"
           % name, m["location"])
    tap.ok(re.match(r'^W/"[0-9a-f]+"$', m["version"]), "%s: meta.version a weak ETag" % name,
           m["version"])
    tap.eq(r.headers.get("ETag"), m["version"], "%s: ETag header = meta.version" % name)
    tap.ok(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", m["created"]),
           "%s: meta.created" % name, m["created"])


def show(srv, what, name, tenant=None):
    """`sekisho user|group show/members NAME` as a dict of its lines (None when missing)."""
    args = (what, "show", name) if what == "user" else ("group", "members", name)
    r = srv.cli(*args, check=False, tenant=tenant)
    if r.returncode != 0:
        return None
    if what == "group":
        return r.stdout.split()
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        out.setdefault(k, v)
    return out


# ---- discovery and keys ----

def discovery(s):
    spc = s.call("GET", "ServiceProviderConfig").body
    t.eq((spc["patch"]["supported"], spc["bulk"]["supported"], spc["filter"]["supported"],
          spc["filter"]["maxResults"], spc["etag"]["supported"],
          spc["changePassword"]["supported"], spc["sort"]["supported"]),
         (True, False, True, 200, True, False, False), "ServiceProviderConfig features")
    t.eq([a["type"] for a in spc["authenticationSchemes"]], ["oauthbearertoken"],
         "authenticated by bearer token")
    rts = s.call("GET", "ResourceTypes").body
    t.eq(sorted((r["id"], r["endpoint"], r["schema"]) for r in rts["Resources"]),
         [("Group", "/Groups", G), ("User", "/Users", U)], "ResourceTypes")
    t.eq(s.call("GET", "ResourceTypes/User").body["schemaExtensions"],
         [{"schema": ENT, "required": False}], "the enterprise extension")
    schemas = s.call("GET", "Schemas").body
    t.eq(sorted(x["id"] for x in schemas["Resources"]), sorted([U, G, ENT]), "Schemas")
    ent = s.call("GET", "Schemas/" + ENT).body
    t.eq(sorted(a["name"] for a in ent["attributes"]), ["department", "employeeNumber"],
         "EnterpriseUser: the attributes kept")
    user = [x for x in schemas["Resources"] if x["id"] == U][0]
    names = {a["name"] for a in user["attributes"]}
    t.ok({"userName", "name", "displayName", "emails", "active", "groups"} <= names,
         "User schema lists what is mapped", sorted(names))
    s.call("GET", "Schemas/urn:nothing", expect=404)
    s.call("GET", "Nowhere", expect=404)
    s.call("POST", "ServiceProviderConfig", {}, expect=405)
    s.call("POST", "Bulk", {"Operations": []}, expect=501)


def keys(srv, s):
    r = requests.get(srv.base() + "/scim/v2/Users", verify=srv.ca, timeout=30)
    t.eq(r.status_code, 401, "no key: 401")
    check_error(r)
    t.ok(r.headers.get("Content-Type", "").startswith("application/scim+json"),
         "in SCIM's shape")
    rw = ac.make_key(srv, "default", "rw", "read,write")
    body = {"schemas": [U], "userName": "not.created"}
    r = s.call("POST", "Users", body, expect=403, key=rw)
    t.ok("scope" in r.body["detail"], "a read/write key: 403 (scope)", r.body)
    time.sleep(1.1)
    s.call("GET", "Users", expect=403, key=rw)
    t.eq(show(srv, "user", "not.created"), None, "nothing created with it")
    sk = ac.make_key(srv, "default", "scimonly", "scim")
    doc = ac.openapi(srv)
    reads = [p for p in doc["paths"] if "{" not in p and "get" in doc["paths"][p]
             and "openapi" not in p]
    r = requests.get(srv.base() + "/api/v1" + (reads[0] if reads else "/users"), verify=srv.ca,
                     timeout=30, headers={"Authorization": "Bearer " + sk})
    t.eq(r.status_code, 403, "a scim key does not reach the admin API")
    time.sleep(1.1)
    r = requests.get(srv.base() + "/scim/v2/Users", verify=srv.ca, timeout=30,
                     headers={"Authorization": "Bearer " + sk + "x"})
    t.eq(r.status_code, 401, "a wrong key: 401")
    srv.audit_has(t, "scim.call", "key=rw", "status=403")


# ---- Microsoft Entra ID ----

ENTRA_USER = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"


def entra_users(srv, s):
    t.eq(s.find("Users", 'userName eq "%s"' % ENTRA_USER)["totalResults"], 0,
         "Entra: lookup by userName before create: empty list")
    t.eq(s.find("Users", 'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')
         ["Resources"], [], "Entra: lookup by externalId: empty")
    r = s.call("POST", "Users", {
        "schemas": [U, ENT], "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": ENTRA_USER, "active": True,
        "emails": [{"primary": True, "type": "work",
                    "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName",
                 "givenName": "givenName"},
        "roles": []}, expect=201)
    u = r.body
    check_meta(t, r, "Users", "Entra create")
    t.eq(r.headers.get("Location"), u["meta"]["location"], "Location of the new User")
    t.eq((u["userName"], u["externalId"], u["active"], u["name"]["familyName"],
          u["emails"][0]["value"]),
         (ENTRA_USER, "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", True, "familyName",
          "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"), "Entra: created")
    cli = show(srv, "user", ENTRA_USER)
    t.eq((cli["id"], cli["email"], cli["attr.externalId"], cli["attr.givenName"]),
         (u["id"], u["emails"][0]["value"], u["externalId"], "givenName"),
         "the store's user: id, e-mail, attributes")
    found = s.find("Users", 'userName eq "%s"' % ENTRA_USER.upper())
    t.eq([x["id"] for x in found["Resources"]], [u["id"]], "found by userName, any case")
    uid = u["id"]
    r = s.patch("Users/" + uid, [
        {"op": "Replace", "path": 'emails[type eq "work"].value',
         "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}])
    t.eq((r.body["emails"][0]["value"], r.body["name"]["familyName"]),
         ("updatedEmail@microsoft.com", "updatedFamilyName"), "Entra: multi-valued update")
    new_name = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    r = s.patch("Users/" + uid, [{"op": "Replace", "path": "userName", "value": new_name}])
    t.eq((r.body["userName"], r.body["id"]), (new_name, uid), "Entra: userName replaced")
    r = s.patch("Users/" + uid, [{"op": "Replace", "path": "active", "value": "False"}])
    t.eq(r.body["active"], False, 'Entra: active "False" (a string)')
    t.eq(show(srv, "user", new_name)["status"], "disabled", "the store's user is disabled")
    r = s.patch("Users/" + uid, [{"op": "Replace", "value": {"active": True}}])
    t.eq(r.body["active"], True, "Entra: replace without a path, map value")
    r = s.patch("Users/" + uid, [{"op": "Add", "value": {
        ENT + ":employeeNumber": "701984", ENT + ":department": "Tour Operations",
        "displayName": "Test User"}}])
    t.eq(r.body.get(ENT), {"employeeNumber": "701984", "department": "Tour Operations"},
         "Entra: enterprise attributes in a path-less map")
    t.ok(ENT in r.body["schemas"], "schemas lists the extension")
    cli = show(srv, "user", new_name)
    t.eq((cli["attr.employeeNumber"], cli["attr.department"], cli["display_name"]),
         ("701984", "Tour Operations", "Test User"), "kept as user attributes")
    r = s.patch("Users/" + uid, [{"op": "Remove", "path": ENT + ":department"}])
    t.ok("department" not in r.body[ENT] and "attr.department" not in show(srv, "user",
                                                                           new_name),
         "Entra: an enterprise attribute removed")
    return uid


def entra_groups(srv, s, uid):
    body = s.find("Groups", 'displayName eq "displayName"', excludedAttributes="members")
    t.eq(body["totalResults"], 0, "Entra: group lookup by displayName: empty")
    r = s.call("POST", "Groups", {
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName",
        "meta": {"resourceType": "Group"}, "schemas": [G]}, expect=201)
    check_meta(t, r, "Groups", "Entra group create")
    gid = r.body["id"]
    t.eq(r.body["members"], [], "no members yet")
    r = s.call("GET", "Groups/%s?excludedAttributes=members" % gid)
    t.ok("members" not in r.body and r.body["displayName"] == "displayName",
         "excludedAttributes=members", r.body)
    body = s.find("Groups", 'displayName eq "DISPLAYNAME"', excludedAttributes="members")
    t.eq([g["id"] for g in body["Resources"]], [gid], "found by displayName")
    s.patch("Groups/" + gid, [{"op": "Add", "path": "members",
                               "value": [{"$ref": None, "value": uid}]}])
    t.eq(len(show(srv, "group", "displayName")), 1, "Entra: member added")
    u = s.call("GET", "Users/" + uid).body
    t.eq([(g["value"], g["display"]) for g in u["groups"]], [(gid, "displayName")],
         "the User shows its group")
    s.patch("Groups/" + gid, [{"op": "Remove", "path": "members",
                               "value": [{"$ref": None, "value": uid}]}])
    t.eq(show(srv, "group", "displayName"), [], "Entra: member removed (value list)")
    s.patch("Groups/" + gid, [{"op": "Add", "path": "members", "value": [{"value": uid}]}])
    r = s.patch("Groups/" + gid, [{"op": "Remove", "path": 'members[value eq "%s"]' % uid}])
    t.eq((r.body["members"], show(srv, "group", "displayName")), ([], []),
         "Entra: member removed (filter)")
    renamed = "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    r = s.patch("Groups/" + gid, [{"op": "Replace", "path": "displayName", "value": renamed}])
    t.eq((r.body["displayName"], r.body["id"]), (renamed, gid), "Entra: group renamed")
    t.eq(show(srv, "group", renamed), [], "the store's group has the new name")
    s.call("DELETE", "Groups/" + gid, expect=204)
    s.call("GET", "Groups/" + gid, expect=404)
    s.call("DELETE", "Users/" + uid, expect=204)
    s.call("GET", "Users/" + uid, expect=404)
    t.eq(show(srv, "user", "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"), None,
         "Entra: user deleted from the store")


# ---- Okta ----

def okta(srv, s):
    body = {"schemas": [U], "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": True, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [], "password": PW, "active": True}
    found = s.call("GET", "Users?filter=userName%20eq%20%22test.user%40okta.local%22"
                          "&startIndex=1&count=100").body
    t.eq((found["totalResults"], found["startIndex"], found["Resources"]), (0, 1, []),
         "Okta: lookup before create")
    u = s.call("POST", "Users", body, expect=201).body
    t.ok("password" not in u, "the password is never returned")
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), "test.user@okta.local", PW)
    t.ok(b.login_form(r) is None, "Okta: the password given at creation signs in", r.url)
    body.update(id=u["id"], active=False)
    del body["password"]
    r = s.call("PUT", "Users/" + u["id"], body)
    t.eq(r.body["active"], False, "Okta: PUT with active false")
    t.eq(show(srv, "user", "test.user@okta.local")["status"], "disabled", "disabled")
    g = s.call("POST", "Groups", {"schemas": [G], "displayName": "Test.SCIMv2",
                                  "members": []}, expect=201).body
    r = s.patch("Groups/" + g["id"], [{"op": "replace", "value": {
        "id": g["id"], "displayName": "Test.SCIMv2.renamed"}}])
    t.eq(r.body["displayName"], "Test.SCIMv2.renamed", "Okta: rename repeating the id")
    s.patch("Groups/" + g["id"], [{"op": "add", "path": "members", "value": [
        {"value": u["id"], "display": "test.user@okta.local"}]}])
    t.eq(show(srv, "group", "Test.SCIMv2.renamed"), ["test.user@okta.local"],
         "Okta: member added")
    s.patch("Groups/" + g["id"], [{"op": "remove",
                                   "path": 'members[value eq "%s"]' % u["id"]}])
    t.eq(show(srv, "group", "Test.SCIMv2.renamed"), [], "Okta: member removed")
    r = s.call("PUT", "Groups/" + g["id"], {"schemas": [G], "id": g["id"],
                                            "displayName": "Test.SCIMv2",
                                            "members": [{"value": u["id"]}]})
    t.eq(([m["value"] for m in r.body["members"]], show(srv, "group", "Test.SCIMv2")),
         ([u["id"]], ["test.user@okta.local"]), "Okta: PUT of a group: name and members")
    r = s.call("POST", "Groups", {"schemas": [G], "displayName": "Test SCIMv2"}, expect=400)
    t.ok(r.body.get("scimType") == "invalidValue" and "displayName" in r.body["detail"],
         "a group name with a space: 400 invalidValue naming displayName", r.body)


# ---- RFC 7644 ----

def rfc(srv, s, other_ids):
    r = s.call("POST", "Users", {"schemas": [U], "userName": "bjensen", "externalId": "bjensen",
                                 "name": {"formatted": "Ms. Barbara J Jensen III",
                                          "familyName": "Jensen", "givenName": "Barbara"}},
               expect=201)
    bj = r.body
    check_meta(t, r, "Users", "RFC create")
    for n in ("jsmith", "mjones"):
        s.call("POST", "Users", {"schemas": [U], "userName": n,
                                 "name": {"familyName": "O'Malley"}}, expect=201)
    t.eq(s.find("Users", 'userName eq "bjensen"')["Resources"][0]["id"], bj["id"],
         "RFC 3.4.2: userName eq")
    t.eq(s.find("Users", "name.familyName co \"O'Malley\"")["totalResults"], 2,
         "name.familyName co")
    t.eq(s.find("Users", 'userName sw "j" and not (userName eq "bjensen")')["totalResults"], 1,
         "sw, and, not")
    t.eq(s.find("Users", 'externalId eq "BJENSEN"')["totalResults"], 0,
         "externalId is caseExact")
    t.eq(s.find("Users", 'meta.created gt "2000-01-01T00:00:00Z" and externalId pr and '
                         'userName ew "sen"')["totalResults"], 1, "meta.created gt, pr, ew")
    all_users = s.find("Users", "userName pr")["totalResults"]
    p1 = s.find("Users", "userName pr", startIndex="1", count="2")
    p2 = s.find("Users", "userName pr", startIndex="3", count="2")
    t.eq((p1["totalResults"], p1["itemsPerPage"], p2["startIndex"]), (all_users, 2, 3),
         "paging: totalResults, itemsPerPage, startIndex")
    t.eq(len({x["id"] for x in p1["Resources"] + p2["Resources"]}),
         min(all_users, 4), "pages do not overlap")
    t.eq(s.find("Users", "userName pr", count="0")["Resources"], [], "count=0: only the total")
    big = s.call("GET", "Users?count=100000").body
    t.ok(big["itemsPerPage"] <= 200, "count above 200 is cut to 200")
    for f in ('userName eq', 'userName eq "x" and', 'badop xx "a"', '(userName pr',
              'active gt true', "userName eq 'x'"):
        r = s.call("GET", "Users?" + urllib.parse.urlencode({"filter": f}), expect=400)
        t.eq(r.body.get("scimType"), "invalidFilter", "bad filter %r: 400 invalidFilter" % f)
    uri = "Users/" + bj["id"]
    cur = s.call("GET", uri)
    put = {"schemas": [U], "userName": "bjensen", "externalId": "bjensen",
           "name": {"familyName": "Jensen", "givenName": "Babs"},
           "emails": [{"value": "bjensen@example.com", "type": "work"}]}
    r = s.call("PUT", uri, put, headers={"If-Match": cur.headers["ETag"]})
    t.eq((r.body["name"]["givenName"], r.body["emails"][0]["value"]),
         ("Babs", "bjensen@example.com"), "RFC 3.5.1: PUT with If-Match")
    t.ok(r.headers["ETag"] != cur.headers["ETag"], "a new version")
    put["displayName"] = "stale"
    r = s.call("PUT", uri, put, headers={"If-Match": cur.headers["ETag"]}, expect=412)
    t.ok("displayName" not in s.call("GET", uri).body, "412 for a stale version, unchanged")
    dup = s.call("POST", "Users", {"schemas": [U], "userName": "BJensen"}, expect=409)
    t.eq(dup.body.get("scimType"), "uniqueness", "duplicate userName (any case): 409")
    r = s.patch("Users/" + s.find("Users", 'userName eq "jsmith"')["Resources"][0]["id"],
                [{"op": "replace", "path": "userName", "value": "bjensen"}], expect=409)
    t.eq(r.body.get("scimType"), "uniqueness", "renamed onto a taken userName: 409")
    r = s.call("POST", "Users", {"schemas": [U], "userName": "Barbara Jensen"}, expect=400)
    t.ok(r.body.get("scimType") == "invalidValue" and "userName" in r.body["detail"]
         and "Barbara Jensen" in r.body["detail"], "an invalid userName named: 400", r.body)
    r = s.call("POST", "Users", {"schemas": [U], "userName": "x1", "emails": [
        {"value": "not-an-address"}]}, expect=400)
    t.eq(r.body.get("scimType"), "invalidValue", "a bad e-mail: 400 invalidValue")
    r = s.call("POST", "Users", {"schemas": [U], "userName": "x2", "active": "maybe"},
               expect=400)
    t.ok("active" in r.body["detail"], "active neither true nor false: 400")
    t.eq((show(srv, "user", "x1"), show(srv, "user", "x2")), (None, None),
         "nothing created by refused requests")
    r = s.patch(uri, [{"op": "jump", "path": "userName"}], expect=400)
    t.eq(r.body.get("scimType"), "invalidSyntax", "PATCH with an unknown op: 400")
    r = s.patch(uri, [{"op": "replace", "path": "id", "value": "x"}], expect=400)
    t.eq(r.body.get("scimType"), "mutability", "PATCH of id: 400 mutability")
    r = s.patch(uri, [{"op": "replace", "path": "displayName", "value": "Babs"},
                      {"op": "replace", "path": "emails[", "value": "x"}], expect=400)
    t.ok(r.body.get("scimType") == "invalidPath" and
         "displayName" not in s.call("GET", uri).body,
         "a bad second operation: 400 invalidPath, the first not applied either")
    # groups (RFC 3.5.2.1, 3.5.2.2, 3.5.2.3)
    ids = [x["id"] for x in s.find("Users", "userName pr")["Resources"]]
    g = s.call("POST", "Groups", {"schemas": [G], "displayName": "Tour.Guides",
                                  "members": [{"value": ids[0]}]}, expect=201).body
    guri = "Groups/" + g["id"]
    r = s.patch(guri, [{"op": "add", "path": "members",
                        "value": [{"display": "x", "$ref": "ignored", "value": ids[1]}]}])
    t.eq(sorted(m["value"] for m in r.body["members"]), sorted(ids[:2]), "PATCH add member")
    r = s.patch(guri, [{"op": "replace", "path": "members", "value": [{"value": ids[2]}]}])
    t.eq([m["value"] for m in r.body["members"]], [ids[2]], "PATCH replace members")
    r = s.patch(guri, [{"op": "remove", "path": "members"}])
    t.eq(r.body["members"], [], "PATCH remove all members")
    r = s.patch(guri, [{"op": "add", "path": "members", "value": [{"value": "f" * 32}]}],
                expect=400)
    t.ok(r.body.get("scimType") == "invalidValue" and show(srv, "group", "Tour.Guides") == [],
         "a member that is no user: 400, nothing added", r.body)
    dupg = s.call("POST", "Groups", {"schemas": [G], "displayName": "Tour.Guides"},
                  expect=409)
    t.eq(dupg.body.get("scimType"), "uniqueness", "duplicate displayName: 409")
    # another tenant's objects are not there
    ou, og = other_ids
    for m, p, b in (("GET", "Users/" + ou, None), ("DELETE", "Users/" + ou, None),
                    ("PUT", "Users/" + ou, {"schemas": [U], "userName": "stolen"}),
                    ("GET", "Groups/" + og, None),
                    ("PATCH", "Groups/" + og, {"schemas": [PATCHOP], "Operations": [
                        {"op": "add", "path": "members", "value": [{"value": ids[0]}]}]})):
        s.call(m, p, b, expect=404)
    t.ok(True, "another tenant's user and group ids: 404")
    r = s.call("POST", "Groups", {"schemas": [G], "displayName": "mixed",
                                  "members": [{"value": ou}]}, expect=400)
    t.ok("members" in r.body["detail"], "another tenant's user as a member: 400")
    t.eq((show(srv, "user", "ou", tenant="other")["status"],
          show(srv, "group", "og", tenant="other")), ("enabled", []),
         "the other tenant's user and group are untouched")
    s.call("DELETE", uri, expect=204)
    s.call("GET", uri, expect=404)
    s.call("DELETE", uri, expect=404)


# ---- active:false ends sessions and refresh tokens ----

def pkce():
    v = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    c = base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
    return v, c


def refresh_token(srv, b, client_id, cb):
    v, c = pkce()
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": cb,
         "scope": "openid offline_access", "state": "s1", "nonce": "n1",
         "code_challenge": c, "code_challenge_method": "S256"}
    b.stop_at = (cb,)
    r = b.get(srv.base() + "/oidc/authorize?" + urllib.parse.urlencode(q))
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)["code"][0]
    r = requests.post(srv.base() + "/oidc/token", verify=srv.ca, timeout=30, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": cb,
        "client_id": client_id, "code_verifier": v})
    r.raise_for_status()
    return r.json()["refresh_token"]


def use_refresh(srv, client_id, tok):
    return requests.post(srv.base() + "/oidc/token", verify=srv.ca, timeout=30, data={
        "grant_type": "refresh_token", "refresh_token": tok, "client_id": client_id})


def deactivate(srv, s):
    cb = "https://app.example.com/cb"
    out = srv.cli("app", "add-oidc", "app", "--redirect-uri", cb, "--public", "--grant",
                  "authorization_code,refresh_token").stdout
    client_id = re.search(r"^client_id=(\S+)$", out, re.M).group(1)
    u = s.call("POST", "Users", {"schemas": [U], "userName": "carol@contoso.com",
                                 "emails": [{"value": "carol@contoso.com"}]}, expect=201).body
    srv.cli("user", "passwd", "carol@contoso.com", "--password-stdin", input=PW + "\n")
    srv.cli("user", "set", "carol@contoso.com", "--must-change-password", "off")
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), "carol@contoso.com", PW)
    t.ok(b.login_form(r) is None, "a SCIM-made user signs in with a password set by the CLI",
         r.url)
    r = b.get(srv.base() + "/")
    t.ok(b.login_form(r) is None and r.status_code == 200, "the portal with the session")
    tok = refresh_token(srv, b, client_id, cb)
    r = use_refresh(srv, client_id, tok)
    t.eq(r.status_code, 200, "the refresh token works while active")
    tok = r.json()["refresh_token"]
    s.patch("Users/" + u["id"], [{"op": "Replace", "path": "active", "value": "False"}])
    b.stop_at = ()
    r = b.get(srv.base() + "/")
    t.ok(b.login_form(r) is not None, "active false: the cookie no longer reaches the portal",
         r.url)
    r = use_refresh(srv, client_id, tok)
    t.ok(r.status_code == 400 and r.json().get("error") == "invalid_grant",
         "active false: the refresh token is refused", r.text[:200])
    s.patch("Users/" + u["id"], [{"op": "Replace", "path": "active", "value": "True"}])
    r = use_refresh(srv, client_id, tok)
    t.eq(r.status_code, 400, "active again: the ended grant stays ended")
    b2 = st.Browser(verify=srv.ca)
    r = b2.submit_login(b2.get(srv.base() + "/login"), "carol@contoso.com", PW)
    t.ok(b2.login_form(r) is None, "active again: signs in anew")
    recs = srv.audit_find("admin.user.disable", "user=carol@contoso.com")
    t.ok(recs and re.search(r"(^|\s)actor=apikey:scim\d(\s|$)", recs[-1]),
         "audit: the disabling by the SCIM key", recs)


def main():
    srv = st.Server()
    try:
        srv.cli("tenant", "add", "other")
        o = Scim(srv, [ac.make_key(srv, "other", "o", "scim")], tenant="other")
        ou = o.call("POST", "Users", {"schemas": [U], "userName": "ou"}, expect=201).body
        og = o.call("POST", "Groups", {"schemas": [G], "displayName": "og"}, expect=201).body
        other_ids = (ou["id"], og["id"])
        s = Scim(srv, ac.make_keys(srv, "default", "scim", 6, "scim"))
        t.run("discovery", discovery, s)
        t.run("keys and scopes", keys, srv, s)
        uid = t.run("Entra ID: users", entra_users, srv, s)
        if uid:
            t.run("Entra ID: groups", entra_groups, srv, s, uid)
        t.run("Okta", okta, srv, s)
        t.run("RFC 7644", rfc, srv, s, other_ids)
        t.run("active false ends sessions and refresh tokens", deactivate, srv, s)
        t.ok(PW not in srv.log(), "no password in the log")
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
