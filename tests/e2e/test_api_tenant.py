#!/usr/bin/python3
"""The admin API's tenant settings, signing keys and device CA certificate (issue 11),
against the running server, and their agreement with the command line.

- GET tenant shows the settings as they apply (defaults when unset) with an ETag; PATCH
  sets the time zone, default effect and minimum password length, all in one audited
  change (one admin.tenant.set record with the key as actor); what the API set is what
  `sekisho policy list` and `tenant set` show, and what the CLI set the API shows.
- Every bad value (unknown zone, an effect other than allow/deny, a length outside 1..128
  or not an integer, an unknown member), alone or next to good ones: 400 naming the
  member, nothing changed (GET shows the old values) and no admin.tenant.set record.
- If-Match: a stale ETag gets 412 and changes nothing.  A read key gets 403 on PATCH and
  on rotate; another tenant's key sees and changes only its own tenant.
- GET signing-keys lists kid, use, alg, state, created, until (never private material),
  the same keys `sekisho key list` shows; POST signing-keys/rotate rotates as `key
  rotate` does, audited admin.key.rotate, and the running server uses it without a
  restart: the tenant's JWKS (from its discovery document) publishes the new kids and
  keeps the retired ones, the SAML metadata publishes the next certificate.
- GET certificates/ca is the PEM `sekisho cert ca` writes.
- No private key in any answer, audit record or log line; no API key string either.
"""
import json
import os
import re

import requests

import api_common as ac
import sekisho_test as st

t = st.Tap()
DEFAULTS = {"id": "default", "name": "Default", "timezone": "Asia/Tokyo",
            "default_effect": "allow", "password_min_length": 10, "display_name": None,
            "color": None, "help_url": None, "has_logo": False}


def policy_defaults(srv, tenant=None):
    """The first line of `sekisho policy list`: "default=E timezone=Z"."""
    return srv.cli("policy", "list", tenant=tenant).stdout.splitlines()[0]


def tenant_sets(srv):
    return srv.audit_find("admin.tenant.set")


def settings(body):
    """A tenant as PATCH answers it: without the licence GET also shows (test_licence)."""
    return {k: v for k, v in body.items() if k != "licence"}


def get(api, **kw):
    return settings(api.call("GET", "tenant", **kw).body)


# ---- tenant ----

def read_and_agree(srv, api):
    r = api.call("GET", "tenant")
    t.eq(settings(r.body), DEFAULTS, "GET tenant: the defaults of a new tenant")
    t.eq(r.body["licence"]["licensed"], False, "and it is unlicensed")
    t.ok(r.headers.get("ETag", "").startswith('W/"'), "with an ETag")
    n = len(tenant_sets(srv))
    srv.cli("tenant", "set", "default", "--timezone", "UTC", "--password-min-length", "12")
    recs = tenant_sets(srv)[n:]
    t.ok(len(recs) == 1 and "timezone=UTC" in recs[0] and "password_min_length=12" in recs[0],
         "tenant set of a zone and a length: one change, one record", recs)
    t.eq((get(api)["timezone"], get(api)["password_min_length"]), ("UTC", 12),
         "what tenant set set, GET tenant shows")
    r = api.call("PATCH", "tenant", json={"default_effect": "deny", "timezone": "Europe/Paris"})
    t.eq((r.body["default_effect"], r.body["timezone"]), ("deny", "Europe/Paris"),
         "PATCH answers the tenant as it is now")
    t.eq(policy_defaults(srv), "default=deny timezone=Europe/Paris",
         "what the API set, policy list shows")
    out = srv.cli("tenant", "set", "default", "--default", "allow").stdout
    t.eq(out, "tenant default timezone=Europe/Paris default=allow\n",
         "and tenant set prints it with its own change")


def patch_all(srv, api):
    n = len(tenant_sets(srv))
    r = api.call("PATCH", "tenant", json={"timezone": "America/New_York",
                                          "default_effect": "deny", "password_min_length": 14})
    want = dict(DEFAULTS, timezone="America/New_York", default_effect="deny",
                password_min_length=14)
    t.eq(r.body, want, "PATCH of all three members")
    t.eq(get(api), want, "GET shows all three")
    recs = tenant_sets(srv)
    t.ok(len(recs) == n + 1, "one admin.tenant.set record for the three (one commit)",
         recs[n:])
    last = recs[-1] if recs else ""
    t.ok(all(x in last for x in ("timezone=America/New_York", "default=deny",
                                 "password_min_length=14", "pw_min_len=14")) and
         re.search(r"actor=apikey:w\d", last), "it has every value and the key as actor",
         last)
    r = api.call("PATCH", "tenant", json={})
    t.eq(r.body, want, "an empty PATCH changes nothing")
    t.eq(len(tenant_sets(srv)), n + 1, "and records no change")
    api.call("PATCH", "tenant", json={"timezone": "Asia/Tokyo", "default_effect": "allow",
                                      "password_min_length": 10})


BAD = [
    ({"timezone": "Mars/Base"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": 9}, "timezone"),
    ({"timezone": "x" * 65}, "timezone"),
    ({"default_effect": "maybe"}, "default_effect"),
    ({"default_effect": "Deny"}, "default_effect"),
    ({"default_effect": True}, "default_effect"),
    ({"password_min_length": 0}, "password_min_length"),
    ({"password_min_length": 129}, "password_min_length"),
    ({"password_min_length": -1}, "password_min_length"),
    ({"password_min_length": 2 ** 40}, "password_min_length"),
    ({"password_min_length": "12"}, "password_min_length"),
    ({"password_min_length": 12.5}, "password_min_length"),
    ({"password_min_length": None}, "password_min_length"),
    ({"colour": "red"}, "colour"),
    # a bad member next to good ones: none of them is set
    ({"timezone": "UTC", "default_effect": "deny", "password_min_length": 200},
     "password_min_length"),
    ({"timezone": "Mars/Base", "default_effect": "deny", "password_min_length": 20},
     "timezone"),
    ({"timezone": "UTC", "default_effect": "never", "password_min_length": 20},
     "default_effect"),
]


def bad_input(srv, api):
    before, n = get(api), len(tenant_sets(srv))
    for body, field in BAD:
        r = api.call("PATCH", "tenant", json=body, expect=400, raw=True)
        t.ok((r.body.get("error"), r.body.get("field")) == ("invalid_request", field),
             "PATCH %s: 400 naming %s" % (json.dumps(body)[:60], field), r.body)
    t.eq(get(api), before, "nothing changed: GET shows the old values")
    t.eq(len(tenant_sets(srv)), n, "no admin.tenant.set record for a refused change")
    t.eq(policy_defaults(srv), "default=allow timezone=Asia/Tokyo", "policy list agrees")
    # The command line refuses with the same check, in its own words.
    r = srv.cli("tenant", "set", "default", "--password-min-length", "129", check=False)
    t.ok(r.returncode == 1 and "--password-min-length 129: not a number from 1 to 128" in
         r.stderr, "tenant set refuses 129 too", r.stderr)


def if_match(srv, api):
    etag = api.call("GET", "tenant").headers["ETag"]
    srv.cli("tenant", "set", "default", "--timezone", "UTC")
    r = api.call("PATCH", "tenant", json={"timezone": "Asia/Seoul"},
                 headers={"If-Match": etag}, expect=412)
    t.eq(r.body["error"], "precondition_failed", "a stale If-Match: 412")
    t.eq(get(api)["timezone"], "UTC", "and nothing changed")
    etag = api.call("GET", "tenant").headers["ETag"]
    r = api.call("PATCH", "tenant", json={"timezone": "Asia/Tokyo"}, headers={"If-Match": etag})
    t.eq(r.body["timezone"], "Asia/Tokyo", "the current ETag: 200")
    t.ok(r.headers.get("ETag") and r.headers["ETag"] != etag, "with the new ETag")


def read_only(srv, api, ro_key):
    ro = ac.ApiClient(srv, "default", [ro_key])
    before, n = get(api), len(tenant_sets(srv))
    keys = srv.cli("key", "list").stdout
    r = ro.call("PATCH", "tenant", json={"default_effect": "deny"}, expect=403)
    t.eq(r.body["error"], "forbidden", "a read key: PATCH tenant 403")
    ro.call("POST", "signing-keys/rotate", json={"use": "oidc"}, expect=403)
    t.ok(get(api) == before and len(tenant_sets(srv)) == n and
         srv.cli("key", "list").stdout == keys, "the read key changed nothing")
    t.eq(settings(ro.call("GET", "tenant").body), before, "but reads the tenant")
    ro.call("GET", "signing-keys")


def other_tenant(srv, api, other_key):
    other = ac.ApiClient(srv, "other", [other_key])
    t.eq(settings(other.call("GET", "tenant").body), dict(DEFAULTS, id="other",
                                                           name="Other Inc"),
         "another tenant's key sees its own tenant")
    other.call("PATCH", "tenant", json={"default_effect": "deny"})
    t.eq((get(api)["default_effect"], policy_defaults(srv, tenant="other")),
         ("allow", "default=deny timezone=Asia/Tokyo"),
         "its PATCH changes its tenant only")
    mine = [k["kid"] for k in get_keys(api)]
    theirs = [k["kid"] for k in other.call("GET", "signing-keys").body["items"]]
    t.ok(theirs and not set(mine) & set(theirs), "and it lists its own signing keys only")
    r = requests.get(srv.base() + "/api/v1/tenant", verify=srv.ca,
                     headers={"Authorization": "Bearer " + other_key})
    t.eq(r.status_code, 401, "its key is no key of this tenant: 401")


# ---- signing keys ----

def get_keys(api, use=None, **kw):
    return api.call("GET", "signing-keys" + ("?use=" + use if use else ""), **kw).body["items"]


def cli_keys(srv, use=None):
    """[(use, kid, alg, state, created, until)] from `sekisho key list`."""
    out = srv.cli("key", "list", *(["--use", use] if use else [])).stdout
    return [tuple(f[:5]) + (None if f[5] == "-" else f[5],)
            for f in (ln.split("\t") for ln in out.splitlines())]


def api_as_cli(items):
    return [(k["use"], k["kid"], k["alg"], k["state"], k["created"], k["until"])
            for k in items]


def by_state(items):
    out = {}
    for k in items:
        out.setdefault(k["state"], []).append(k["kid"])
    return {s: sorted(v) for s, v in out.items()}


def jwks_kids(srv):
    conf = requests.get(srv.base() + "/.well-known/openid-configuration", verify=srv.ca).json()
    return [k["kid"] for k in requests.get(conf["jwks_uri"], verify=srv.ca).json()["keys"]]


def saml_certs(srv):
    md = requests.get(srv.base() + "/saml/metadata", verify=srv.ca).text
    return re.findall(r"<ds:X509Certificate>([^<]+)<", md)


def key_list(srv, api):
    items = get_keys(api)
    t.ok(items and all(set(k) == {"kid", "use", "alg", "state", "created", "until"}
                       for k in items), "signing-keys: kid, use, alg, state, created, until")
    t.eq(sorted({k["use"] for k in items}), ["ca", "oidc", "saml"], "of every use")
    t.eq(api_as_cli(items), cli_keys(srv), "the same keys, in the same order, as sekisho key list")
    for use in ("saml", "oidc", "ca"):
        t.ok({k["use"] for k in get_keys(api, use)} == {use}, "?use=%s: only those" % use)
    r = api.call("GET", "signing-keys?use=rsa", expect=400)
    t.eq(r.body.get("field"), "use", "?use=rsa: 400 naming use")


def rotate(srv, api):
    n = len(srv.audit_find("admin.key.rotate"))
    before = by_state(get_keys(api, "oidc"))
    t.ok(set(before.get("next", [])) <= set(jwks_kids(srv)), "the next OIDC keys are published")
    r = api.call("POST", "signing-keys/rotate", json={"use": "oidc"})
    after = by_state(r.body["items"])
    t.ok({k["use"] for k in r.body["items"]} == {"oidc"}, "rotate answers the OIDC keys")
    t.eq((after.get("active"), after.get("retired")), (before["next"], before["active"]),
         "the former next keys sign, the former active ones are retired")
    t.eq(len(after.get("next", [])), len(before["next"]), "new next keys are made")
    t.eq(by_state(get_keys(api, "oidc")), after, "GET signing-keys agrees")
    cli = {}
    for _, kid, _, state, _, _ in cli_keys(srv, "oidc"):
        cli.setdefault(state, []).append(kid)
    t.eq({s: sorted(v) for s, v in cli.items()}, after, "and so does sekisho key list")
    published = jwks_kids(srv)
    t.ok(set(after["next"]) <= set(published), "the running server's JWKS has the new kids",
         published)
    t.ok(set(before["active"]) <= set(published) and set(after["active"]) <= set(published),
         "and still the retired ones, and the active ones", published)
    recs = srv.audit_find("admin.key.rotate", "use=oidc")
    t.ok(len(srv.audit_find("admin.key.rotate")) == n + 1 and recs and
         re.search(r"actor=apikey:w\d", recs[-1]), "audited admin.key.rotate by the key",
         recs[-1:])

    certs0 = saml_certs(srv)
    saml0 = by_state(get_keys(api, "saml"))
    r = api.call("POST", "signing-keys/rotate", json={"use": "saml"})
    saml1 = by_state(r.body["items"])
    certs1 = saml_certs(srv)
    t.ok(len(certs0) == 1 and len(certs1) == 2 and certs0[0] in certs1,
         "SAML: the running server's metadata publishes the next certificate", certs1)
    t.eq((saml1.get("active"), len(saml1.get("next", []))), (saml0.get("active"), 1),
         "the old key still signs until the next rotation")
    # The command line's rotation shows in the API.
    srv.cli("key", "rotate", "--use", "saml")
    saml2 = by_state(get_keys(api, "saml"))
    t.eq((saml2.get("active"), saml2.get("retired")), (saml1.get("next"), saml1.get("active")),
         "a key rotate by the command line shows in GET signing-keys")


def rotate_bad(srv, api):
    keys, n = cli_keys(srv), len(srv.audit_find("admin.key.rotate"))
    for body, field in (({"use": "ca"}, "use"), ({"use": "rsa"}, "use"), ({}, "use"),
                        ({"use": 1}, "use"), ({"use": "oidc", "x": 1}, "x")):
        r = api.call("POST", "signing-keys/rotate", json=body, expect=400, raw=True)
        t.eq(r.body.get("field"), field, "rotate %s: 400 naming %s" % (json.dumps(body), field))
    t.ok(cli_keys(srv) == keys and len(srv.audit_find("admin.key.rotate")) == n,
         "no key changed, no record")


# ---- the CA ----

def ca_cert(srv, api):
    r = api.call("GET", "certificates/ca")
    path = os.path.join(srv.tmp, "ca-cli.pem")
    srv.cli("cert", "ca", "--out", path)
    with open(path) as f:
        pem = f.read()
    t.eq(r.headers.get("Content-Type"), "application/x-pem-file", "certificates/ca is PEM")
    t.eq(r.text, pem, "the certificate sekisho cert ca writes")


def no_secrets(srv, keys):
    recs = srv.audit() + srv.audit(tenant="other")
    text = json.dumps(recs) + srv.log()
    t.ok("PRIVATE KEY" not in text and "sealed" not in text,
         "no private key in any audit record or log line")
    t.ok(not any(k in text for k in keys), "no API key string either")
    calls = [f for e, f in recs if e == "api.call" and "signing-keys/rotate" in f and
             "status=200" in f]
    t.ok(calls and all("after=" in f for f in calls), "rotate's api.call records have after",
         calls[-1:])


def main():
    srv = st.Server()
    try:
        srv.cli("tenant", "add", "other", "--name", "Other Inc")
        srv.cli("app", "add-oidc", "rp", "--redirect-uri", "https://rp.example.com/cb")
        keys = ac.make_keys(srv, "default", "w", 8, "read,write")
        ro = ac.make_key(srv, "default", "ro", "read")
        other = ac.make_key(srv, "other", "o", "read,write")
        api = ac.ApiClient(srv, "default", keys)
        t.run("read and agree", read_and_agree, srv, api)
        t.run("patch all", patch_all, srv, api)
        t.run("bad input", bad_input, srv, api)
        t.run("If-Match", if_match, srv, api)
        t.run("read-only key", read_only, srv, api, ro)
        t.run("another tenant", other_tenant, srv, api, other)
        t.run("key list", key_list, srv, api)
        t.run("rotate", rotate, srv, api)
        t.run("rotate refused", rotate_bad, srv, api)
        t.run("CA certificate", ca_cert, srv, api)
        t.run("no secrets", no_secrets, srv, keys + [ro, other])
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
