#!/usr/bin/python3
"""sekisho tenant erase T --confirm T: a tenant ended when its contract ends.

A full tenant "acme" is made on a running server: users with passwords, a second factor
and a device certificate, a group with a member, SAML and OIDC apps with an assignment,
access rules and the device-required setting, branding, API keys (one a trial key),
a browser session, an OIDC access token, a failed login, API calls, its audit trail.
"acmex" (an id that begins with acme) and "default" are the other tenants.

- A wrong --confirm, or none, is refused and changes nothing (raw dump equal).
- After the erasure a raw scan of every LMDB database (mdb_dump -a) finds no key of acme
  (prefix "acme\\0", and its "\\0acme" record in the tenants database); the keys and
  values of acmex and default are byte for byte those from before.
- The erasure is one operator.tenant.erase record in the operator's audit trail
  (keyspace "~operator"), naming the tenant, the actor and how many records went.
- No file under the directory belongs to acme (its CA and signing keys were sealed in
  the store, so they went with it).
- The running server: acme's pages, its session cookie, API key, access token and client
  answer nothing of acme, and it unloads what it had loaded of acme (keys included);
  acmex and default still log in and answer their API.
- A new tenant acme made afterwards inherits nothing: no users, a new CA, new signing
  keys (the server does not serve the old ones it had loaded), the old client refused.
"""
import os
import re

import requests

import api_common as ac
import sekisho_test as st
from tenantio_common import SP_MD, of_tenant, raw_dump

t = st.Tap()
PW = "Correct-horse-9"


def token(srv, cid, secret, tenant):
    return requests.post(srv.base(tenant) + "/oidc/token", auth=(cid, secret), verify=srv.ca,
                         timeout=30, data={"grant_type": "client_credentials"})


def ca_pem(srv, tenant):
    path = os.path.join(srv.tmp, "ca-%s-%s.pem" % (tenant, os.urandom(4).hex()))
    srv.cli("cert", "ca", "--out", path, tenant=tenant)
    with open(path) as f:
        return f.read()


def make_full(srv, tmp, tenant):
    """A tenant with something of every kind; what a test needs to try it afterwards."""
    srv.cli("tenant", "add", tenant)
    cli = lambda *a, **kw: srv.cli(*a, tenant=tenant, **kw)
    srv.add_user("alice", PW, email="alice@%s.example" % tenant, display="Alice",
                 tenant=tenant)
    srv.add_user("bob", PW, tenant=tenant)
    cli("user", "set", "alice", "--attr", "dept=sales")
    cli("user", "otp", "add", "bob", "--label", "phone")
    cli("group", "add", "staff")
    cli("group", "add-member", "staff", "alice")
    md = os.path.join(tmp, tenant + "-sp.xml")
    with open(md, "w") as f:
        f.write(SP_MD)
    cli("app", "add-saml", "crm", "--metadata", md)
    out = cli("app", "add-oidc", "batch", "--grant", "client_credentials").stdout
    cid = re.search(r"^client_id=(.*)$", out, re.M).group(1)
    secret = re.search(r"^client_secret=(.*)$", out, re.M).group(1)
    cli("app", "assign", "crm", "--group", "staff")
    cli("policy", "add", "office", "--effect", "allow", "--from", "192.0.2.0/24")
    cli("policy", "set", "device-required", "on", "--user", "bob")
    cli("tenant", "set", tenant, "--display-name", "Acme KK", "--color", "#123456")
    key = ac.make_key(srv, tenant, "hr", "read,write")
    ac.make_key(srv, tenant, "trial", "read", "--trial")
    cli("cert", "issue", "alice", "--label", "laptop", "--out",
        os.path.join(tmp, tenant + ".p12"), "--password-stdin", input="p12-password-1\n")
    cli("key", "rotate", "--use", "oidc")
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base(tenant) + "/login"), "alice", PW)
    bad = st.Browser(verify=srv.ca)
    bad.submit_login(bad.get(srv.base(tenant) + "/login"), "alice", "wrong-password-1")
    tok = token(srv, cid, secret, tenant).json().get("access_token")
    api = requests.get(srv.base(tenant) + "/api/v1/users", verify=srv.ca, timeout=30,
                       headers={"Authorization": "Bearer " + key})
    jwks = requests.get(srv.base(tenant) + "/oidc/jwks", verify=srv.ca, timeout=30).json()
    return {"browser": b, "login": r.status_code, "cid": cid, "secret": secret, "key": key,
            "token": tok, "api": api.status_code, "kids": {k["kid"] for k in jwks["keys"]},
            "ca": ca_pem(srv, tenant)}


def refused(srv, before):
    r = srv.cli("tenant", "erase", "acme", "--confirm", "acmex", check=False)
    t.ok(r.returncode == 1 and "--confirm must repeat the tenant id" in r.stderr,
         "--confirm naming another tenant is refused", r.stdout + r.stderr)
    r = srv.cli("tenant", "erase", "acme", check=False)
    t.ok(r.returncode == 2 and "--confirm" in r.stderr, "no --confirm: a usage error",
         r.stdout + r.stderr)
    r = srv.cli("tenant", "erase", "nosuch", "--confirm", "nosuch", check=False)
    t.ok(r.returncode == 1 and "no such tenant" in r.stderr, "an unknown tenant: refused",
         r.stderr)
    r = srv.cli("tenant", "erase", "~operator", "--confirm", "~operator", check=False)
    t.ok(r.returncode != 0, "the operator's keyspace is no tenant to erase", r.stderr)
    t.ok(raw_dump(srv) == before, "the refusals changed nothing in the database")


def scan(srv, before):
    after = raw_dump(srv)
    left = of_tenant(after, "acme")
    t.eq(sorted({db for db, _ in left}), [], "raw scan: no key of acme in any database")
    t.ok(len(of_tenant(before, "acme")) > 60, "(before, acme had %d records)" %
         len(of_tenant(before, "acme")))
    for other in ("acmex", "default"):
        t.ok(of_tenant(after, other) == of_tenant(before, other),
             "raw scan: every record of %s is byte for byte as before" % other)
    ops = [v for (db, k), v in after.items() if db == "audit" and k.startswith(b"~operator\0")]
    hit = [v for v in ops if b"operator.tenant.erase" in v and b"tenant=acme " in v and
           b"actor=" in v and re.search(rb"records=\d+", v)]
    t.eq(len(hit), 1, "one operator.tenant.erase record in the operator's audit trail")
    leaks = []
    for root, dirs, files in os.walk(srv.dir):
        leaks += [os.path.join(root, n) for n in dirs + files if "acme" in n]
    t.eq(leaks, [], "no file under the directory is named for a tenant")


def serving(srv, full, others):
    b = full["browser"]
    r = b.get(srv.base("acme") + "/portal")
    t.eq(r.status_code, 404, "acme's portal with its old session cookie: 404")
    r = requests.get(srv.base("acme") + "/api/v1/users", verify=srv.ca, timeout=30,
                     headers={"Authorization": "Bearer " + full["key"]})
    t.ok(r.status_code in (401, 404) and "alice" not in r.text,
         "acme's API key answers nothing (%d)" % r.status_code)
    r = requests.get(srv.base("acme") + "/oidc/userinfo", verify=srv.ca, timeout=30,
                     headers={"Authorization": "Bearer %s" % full["token"]})
    t.ok(r.status_code in (401, 404), "acme's access token answers nothing (%d)" %
         r.status_code)
    t.ok(token(srv, full["cid"], full["secret"], "acme").status_code in (401, 404),
         "acme's client gets no token")
    t.ok("tenant acme: gone, its configuration unloaded" in srv.log(),
         "the server let go of acme's loaded configuration and keys")
    for name in ("acmex", "default"):
        b = st.Browser(verify=srv.ca)
        r = b.submit_login(b.get(srv.base(name) + "/login"), "alice", PW)
        t.ok(r.status_code == 200 and "login" not in r.url, "%s: alice still logs in" % name,
             r.url)
        r = requests.get(srv.base(name) + "/api/v1/users", verify=srv.ca, timeout=30,
                         headers={"Authorization": "Bearer " + others[name]["key"]})
        t.ok(r.status_code == 200 and "alice" in r.text, "%s: its API key works" % name,
             (r.status_code, r.text[:300]))
    listed = srv.cli("tenant", "list").stdout.split()
    t.ok("acme" not in listed and "acmex" in listed, "tenant list: acme gone", listed)
    r = srv.cli("user", "list", tenant="acme", check=False)
    t.ok(r.returncode != 0 and "no such tenant" in r.stderr, "sekisho --tenant acme: no such "
         "tenant", r.stderr)


def reborn(srv, full):
    out = srv.cli("tenant", "add", "acme").stdout
    t.ok("device CA of tenant acme created" in out, "a new tenant acme can be made", out)
    t.eq(srv.cli("user", "list", tenant="acme").stdout.strip(), "",
         "the new acme has no users")
    t.ok(ca_pem(srv, "acme") != full["ca"], "the new acme has a new CA")
    jwks = requests.get(srv.base("acme") + "/oidc/jwks", verify=srv.ca, timeout=30).json()
    kids = {k["kid"] for k in jwks["keys"]}
    t.ok(kids and not kids & full["kids"], "the server serves new signing keys for the new "
         "acme, none it had loaded for the old", (kids, full["kids"]))
    t.ok(token(srv, full["cid"], full["secret"], "acme").status_code == 401,
         "the old client is unknown to the new acme")
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base("acme") + "/login"), "alice", PW)
    t.ok(b.login_form(r) is not None, "alice of the old acme cannot log in to the new one",
         r.url)


srv = st.Server()
try:
    tmp = srv.tmp
    full = make_full(srv, tmp, "acme")
    t.ok(full["login"] == 200 and full["token"] and full["api"] == 200,
         "acme: a session, an access token and an API call were made", full)
    others = {"acmex": make_full(srv, tmp, "acmex")}
    # a key not used yet: its one call a second is free whenever the check comes
    others["acmex"]["key"] = ac.make_key(srv, "acmex", "ops", "read")
    srv.add_user("alice", PW)
    others["default"] = {"key": ac.make_key(srv, "default", "ops", "read")}
    # a monthly report kept where the server keeps them (report_dir, default DIR/reports)
    rdir = os.path.join(srv.dir, "reports", "acme", "2026-11")
    os.makedirs(rdir)
    srv.cli("report", "--month", "2026-11", "--out", rdir, tenant="acme")
    t.ok(os.path.exists(os.path.join(rdir, "report.html")), "acme has a monthly report")
    before = raw_dump(srv)
    t.run("refusals", refused, srv, before)
    r = srv.cli("tenant", "erase", "acme", "--confirm", "acme", check=False)
    t.ok(not os.path.exists(os.path.join(srv.dir, "reports", "acme")),
         "its monthly reports are gone too")
    t.ok(r.returncode == 0 and re.search(r"^tenant acme erased \(\d+ records\)", r.stdout),
         "tenant erase acme --confirm acme", r.stdout + r.stderr)
    t.run("raw scan", scan, srv, before)
    t.run("serving", serving, srv, full, others)
    t.run("a new acme", reborn, srv, full)
    t.eq(st.grep_secret_leaks(srv.log(), [full["key"], full["secret"], full["token"], PW]),
         [], "no key, secret, token or password in the log")
finally:
    srv.close()
t.done()
