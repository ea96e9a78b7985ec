#!/usr/bin/python3
"""The service operator's scope: operator API keys, the operator API, and suspension.

- `sekisho operator apikey create|list|show|suspend|resume|delete`: keys stored apart
  from every tenant's; `apikey list` of a tenant does not show them; certs/scim scopes
  are refused for them.
- The operator API at /operator/api/v1/ (every answer validated against its own OpenAPI
  document): tenants list with licence and usage, create (201, licensed when seats are
  given; 409 when it exists, 400 for a bad id or too few seats, nothing made), get (404 for an unknown one), suspend/resume (409 when already so),
  licence (PATCH: seats, device seats, trial's last day, unlicensed; bad values 400 naming
  the field, nothing changed), delete a trial's API keys, list the monthly reports that
  lie in DIR/reports/T/YYYY-MM.  A trial whose last day has passed closes the tenant as a
  suspension does (login page, OIDC token 403 saying the trial ended) until it is paid.
  No answer holds a password hash, a seed, a sealed key or a key string.
- Keys do not cross: an operator key at a tenant's API is 401, a tenant key at the
  operator API is 401; a read key cannot write (403).
- A suspended tenant refuses its login page, portal, admin API (JSON tenant_suspended),
  SCIM (SCIM error), OIDC token endpoint (JSON) with 403 saying so; its SSO sessions end
  (the cookie does not work after resume); another tenant keeps serving.
- Audit: operator.tenant.suspend/resume in the tenant's trail and in the operator's
  (`sekisho audit --operator`), which also has the operator API's calls.
"""
import os

import requests

import access_common as acc
import api_common as ac
import sekisho_test as st

t = st.Tap()
PW = "operator-Pass-8812"
OP = "~operator"


def op_key(srv, name, scopes):
    r = srv.cli("operator", "apikey", "create", name, "--scope", scopes)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("api_key=")]
    if len(lines) != 1:
        raise RuntimeError("operator apikey create printed %r" % r.stdout)
    return lines[0][len("api_key="):]


def op_client(srv, keys):
    base = srv.url + "/operator/api/v1/"
    doc = requests.get(base + "openapi.json", verify=srv.ca, timeout=30)
    t.eq(doc.status_code, 200, "operator API: its OpenAPI document is served")
    ac._DOCS[(srv.url, OP)] = doc.json()
    return ac.ApiClient(srv, OP, keys, base=base)


def no_secrets(text, what):
    low = text.lower()
    bad = [w for w in ("hash", "seed", "sealed", "secret", "password", "sks_") if w in low]
    t.ok(not bad, "%s: no secret in the answer" % what, bad)


def part_keys(srv):
    op_key(srv, "ops-a", "read,write")
    r = srv.cli("operator", "apikey", "list")
    t.ok("ops-a\tread,write\tactive" in r.stdout, "operator apikey list shows the key",
         r.stdout)
    r = srv.cli("apikey", "list")
    t.ok("ops-a" not in r.stdout, "a tenant's apikey list does not show operator keys")
    r = srv.cli("operator", "apikey", "create", "ops-x", "--scope", "read,scim", check=False)
    t.eq(r.returncode, 2, "operator apikey create --scope scim: refused (usage)")
    r = srv.cli("operator", "apikey", "suspend", "ops-a")
    t.ok("suspended" in r.stdout, "operator apikey suspend")
    r = srv.cli("operator", "apikey", "show", "ops-a")
    t.ok("state: suspended" in r.stdout, "operator apikey show: suspended", r.stdout)
    srv.cli("operator", "apikey", "resume", "ops-a")
    srv.cli("operator", "apikey", "delete", "ops-a")
    r = srv.cli("operator", "apikey", "show", "ops-a", check=False)
    t.eq(r.returncode, 1, "operator apikey show after delete: no such key")
    r = srv.cli("audit", "--operator")
    t.ok("admin.apikey.create" in r.stdout and "admin.apikey.delete" in r.stdout,
         "audit --operator: the key's creation and deletion")
    r = srv.cli("audit")
    t.ok("ops-a" not in r.stdout, "the default tenant's trail does not hold them")


def part_api(srv, c, rkey):
    r = c.call("POST", "tenants", json={"id": "acme", "name": "Acme KK"}, expect=201)
    t.eq(r.headers.get("Location"), srv.url + "/operator/api/v1/tenants/acme",
         "create: Location")
    t.eq((r.body["id"], r.body["state"], r.body["licence"]["licensed"]),
         ("acme", "active", False), "create: the tenant, active, unlicensed")
    no_secrets(r.text, "create")
    r = c.call("POST", "tenants", json={"id": "acme"}, expect=409)
    t.eq(r.body.get("field"), "id", "create again: 409 naming id")
    r = c.call("POST", "tenants", json={"id": "bad/id"}, expect=400, raw=True)
    t.eq(r.body.get("field"), "id", "create with a bad id: 400 naming id")
    t.ok("bad" not in srv.cli("tenant", "list").stdout, "nothing made of the bad id")
    srv.add_user("alice", PW, tenant="acme")
    srv.add_user("bob", PW, tenant="acme")
    srv.cli("user", "disable", "bob", tenant="acme")
    items = c.all_items("tenants")
    ids = {i["id"]: i for i in items}
    t.ok(set(ids) == {"default", "acme"}, "list: every tenant", list(ids))
    t.eq(ids["acme"]["usage"], {"users": 1, "operators": 0, "disabled": 1, "cert_holders": 0},
         "list: acme's usage")
    no_secrets(str(items), "list")
    r = c.call("POST", "tenants", json={"id": "beta", "seats": 25, "device_seats": 10},
               expect=201)
    t.eq(r.body["licence"], {"licensed": True, "seats": 25, "device_seats": 10,
                             "trial_until": None}, "create with seats: licensed")
    r = c.call("POST", "tenants", json={"id": "gamma", "seats": 5}, expect=400, raw=True)
    t.eq(r.body.get("field"), "seats", "create with 5 seats: 400 naming seats")
    c.call("GET", "tenants/gamma", expect=404)
    t.ok("gamma" not in srv.cli("tenant", "list").stdout, "nothing made of gamma")
    r = c.call("GET", "tenants/acme")
    t.eq(r.body["name"], "Acme KK", "get: the tenant")
    c.call("GET", "tenants/nosuch", expect=404)
    r = c.call("POST", "tenants", json={"id": "x1"}, expect=403, key=rkey)
    t.eq(r.body["error"], "forbidden", "a read key cannot create a tenant")
    # trial keys
    ac.make_key(srv, "acme", "trial1", "read", "--trial")
    ac.make_key(srv, "acme", "full1", "read")
    r = c.call("DELETE", "tenants/acme/trial-keys")
    t.eq(r.body, {"deleted": 1}, "trial keys: one deleted")
    out = srv.cli("apikey", "list", tenant="acme").stdout
    t.ok("trial1" not in out and "full1" in out, "trial keys: only the trial key went", out)
    c.call("DELETE", "tenants/nosuch/trial-keys", expect=404)
    # reports
    r = c.call("GET", "tenants/acme/reports")
    t.eq(r.body["items"], [], "reports: none yet")
    month = os.path.join(srv.dir, "reports", "acme", "2026-11")
    os.makedirs(month)
    for f in ("report.html", "logins.csv"):
        with open(os.path.join(month, f), "w") as fp:
            fp.write("x\n")
    os.makedirs(os.path.join(srv.dir, "reports", "acme", "junk"))
    r = c.call("GET", "tenants/acme/reports")
    t.eq(r.body["items"], [{"month": "2026-11", "file": "logins.csv"},
                           {"month": "2026-11", "file": "report.html"}],
         "reports: the month's files")


def part_licence(srv, c):
    r = c.call("PATCH", "tenants/acme/licence", json={"seats": 20, "device_seats": 10,
                                                     "trial_until": "2099-12-31"})
    t.eq(r.body["licence"], {"licensed": True, "seats": 20, "device_seats": 10,
                             "trial_until": "2099-12-31"}, "licence: set")
    t.eq(r.body["state"], "active", "licence: a trial that has not ended is active")
    out = srv.cli("tenant", "show", "acme").stdout
    t.ok("20" in out and "2099-12-31" in out, "licence: tenant show agrees", out)
    r = c.call("PATCH", "tenants/acme/licence", json={"seats": 10}, expect=400, raw=True)
    t.eq(r.body.get("field"), "seats", "licence: 10 seats refused naming seats")
    r = c.call("PATCH", "tenants/acme/licence", json={"seats": "x"}, expect=400, raw=True)
    t.eq(r.body.get("field"), "seats", "licence: a string for seats is refused")
    r = c.call("PATCH", "tenants/acme/licence", json={"colour": 1}, expect=400, raw=True)
    t.eq(c.call("GET", "tenants/acme").body["licence"]["seats"], 20,
         "licence: refusals changed nothing")
    # a trial that ended closes the tenant as a suspension does
    r = c.call("PATCH", "tenants/acme/licence", json={"trial_until": "2020-01-31"})
    t.eq(r.body["state"], "trial_ended", "licence: a past trial has ended")
    r = requests.get(srv.base("acme") + "/login", verify=srv.ca, timeout=30)
    t.ok(r.status_code == 403 and "trial" in r.text, "trial ended: the login page says so",
         r.status_code)
    r = requests.post(srv.base("acme") + "/oidc/token", data={"grant_type": "x"},
                      verify=srv.ca, timeout=30)
    t.ok(r.status_code == 403 and "trial" in r.text, "trial ended: OIDC token 403", r.text)
    r = c.call("PATCH", "tenants/acme/licence", json={"trial_until": None})
    t.ok(r.body["state"] == "active" and r.body["licence"]["trial_until"] is None,
         "licence: the trial ended into a paid licence, active again")
    r = requests.get(srv.base("acme") + "/login", verify=srv.ca, timeout=30)
    t.eq(r.status_code, 200, "paid licence: the login page is back")
    r = c.call("PATCH", "tenants/acme/licence", json={"unlicensed": True})
    t.eq(r.body["licence"]["licensed"], False, "licence: unlicensed again")
    c.call("PATCH", "tenants/nosuch/licence", json={"seats": 20}, expect=404)
    t.ok(srv.audit_find("admin.tenant.licence", "tenant=acme", recs=srv.audit(tenant="acme")),
         "tenant trail: admin.tenant.licence")


def part_cross_keys(srv, c):
    tkey = ac.make_key(srv, "default", "tenant-rw", "read,write")
    r = requests.get(srv.url + "/operator/api/v1/tenants", verify=srv.ca, timeout=30,
                     headers={"Authorization": "Bearer " + tkey})
    t.eq(r.status_code, 401, "a tenant's key at the operator API: 401")
    r = requests.get(srv.base() + "/api/v1/users", verify=srv.ca, timeout=30,
                     headers={"Authorization": "Bearer " + c.keys[0]})
    t.eq(r.status_code, 401, "an operator key at a tenant's API: 401")
    r = requests.get(srv.base("acme") + "/scim/v2/Users", verify=srv.ca, timeout=30,
                     headers={"Authorization": "Bearer " + c.keys[0]})
    t.eq(r.status_code, 401, "an operator key at a tenant's SCIM: 401")


def login(srv, tenant):
    b = acc.browser(srv)
    r = b.get(srv.base(tenant) + "/login")
    r = b.submit_login(r, "alice", PW)
    return b, r


def part_suspend(srv, c):
    apikey = ac.make_key(srv, "acme", "acme-rw", "read,write,scim")
    srv.cli("tenant", "set", "acme", "--color", "#123456")
    b, r = login(srv, "acme")
    t.eq(r.url, srv.base("acme") + "/portal", "alice of acme logs in")
    r = srv.cli("tenant", "suspend", "acme")
    t.ok("suspended (1 sessions ended)" in r.stdout, "tenant suspend: one session ended",
         r.stdout)
    r = srv.cli("tenant", "suspend", "acme", check=False)
    t.eq(r.returncode, 1, "suspend again: refused")
    r = b.get(srv.base("acme") + "/portal")
    t.ok(r.status_code == 403 and "suspended" in r.text, "suspended: the portal says so",
         r.status_code)
    r = acc.browser(srv).get(srv.base("acme") + "/login")
    t.ok(r.status_code == 403 and "suspended" in r.text, "suspended: the login page says so")
    h = {"Authorization": "Bearer " + apikey}
    r = requests.get(srv.base("acme") + "/api/v1/users", headers=h, verify=srv.ca, timeout=30)
    t.ok(r.status_code == 403 and r.json().get("error") == "tenant_suspended",
         "suspended: admin API 403 tenant_suspended", r.text)
    r = requests.get(srv.base("acme") + "/scim/v2/Users", headers=h, verify=srv.ca, timeout=30)
    t.ok(r.status_code == 403 and "urn:ietf:params:scim:api:messages:2.0:Error" in
         r.json().get("schemas", []), "suspended: SCIM 403 in SCIM's form", r.text)
    r = requests.post(srv.base("acme") + "/oidc/token", data={"grant_type": "x"},
                      verify=srv.ca, timeout=30)
    t.ok(r.status_code == 403 and "suspended" in r.text, "suspended: OIDC token 403", r.text)
    r = requests.get(srv.base("acme") + "/saml/metadata", verify=srv.ca, timeout=30)
    t.eq(r.status_code, 403, "suspended: SAML metadata 403")
    r = requests.get(srv.base("acme") + "/brand.css", verify=srv.ca, timeout=30)
    t.eq(r.status_code, 200, "suspended: its brand still styles the refusal")
    r = acc.browser(srv).get(srv.base() + "/login")
    t.eq(r.status_code, 200, "another tenant keeps serving")
    r = c.call("GET", "tenants/acme")
    t.ok(r.body["state"] == "suspended" and r.body["suspended"], "operator API: suspended")
    c.call("POST", "tenants/acme/suspend", expect=409)
    r = c.call("POST", "tenants/acme/resume")
    t.eq(r.body["state"], "active", "operator API: resumed")
    r = b.get(srv.base("acme") + "/portal")
    t.ok(b.login_form(r) is not None, "after resume: the old session is gone (login form)")
    _, r = login(srv, "acme")
    t.eq(r.url, srv.base("acme") + "/portal", "after resume: alice logs in again")
    r = requests.get(srv.base("acme") + "/api/v1/users", headers=h, verify=srv.ca, timeout=30)
    t.eq(r.status_code, 200, "after resume: the admin API answers")
    r = c.call("POST", "tenants/acme/suspend")
    t.eq(r.body["sessions_ended"], 1, "operator API suspend: the new session ended")
    c.call("POST", "tenants/acme/resume")
    c.call("POST", "tenants/acme/resume", expect=409)
    c.call("POST", "tenants/nosuch/suspend", expect=404)


def part_audit(srv):
    recs = srv.audit(tenant="acme")
    t.ok(srv.audit_find("operator.tenant.suspend", "tenant=acme", "sessions_ended=1",
                        recs=recs), "tenant trail: operator.tenant.suspend")
    t.ok(srv.audit_find("request.reject", "reason=suspended", recs=recs),
         "tenant trail: refused requests, reason suspended")
    out = srv.cli("audit", "--operator").stdout
    ops = [ln.split("\t", 3) for ln in out.splitlines()]
    ev = [p[2] for p in ops if len(p) == 4]
    for e in ("operator.tenant.add", "operator.tenant.suspend", "operator.tenant.resume",
              "operator.apikey.delete_trial", "operator.tenant.licence", "api.call"):
        t.ok(e in ev, "operator trail: %s" % e)
    t.ok(any("key=ops-rw" in p[3] and "path=/operator/api/v1/tenants" in p[3]
             for p in ops if len(p) == 4), "operator trail: the API calls name the key")
    r = srv.cli("audit", "verify", "--operator")
    t.eq(r.returncode, 0, "operator trail verifies")
    t.ok("operator.tenant" not in srv.cli("audit").stdout,
         "the default tenant's trail has nothing of acme's suspension")


def main():
    srv = st.Server()
    try:
        t.run("operator keys", part_keys, srv)
        keys = [op_key(srv, "ops-rw", "read,write"), op_key(srv, "ops-rw2", "read,write")]
        rkey = op_key(srv, "ops-r", "read")
        c = op_client(srv, keys)
        t.run("operator API", part_api, srv, c, rkey)
        t.run("licence", part_licence, srv, c)
        t.run("keys do not cross", part_cross_keys, srv, c)
        t.run("suspension", part_suspend, srv, c)
        t.run("audit", part_audit, srv)
        leaks = st.grep_secret_leaks(srv.log(), keys + [rkey, PW])
        t.ok(not leaks, "no key or password in the log", leaks)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
