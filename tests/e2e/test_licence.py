#!/usr/bin/python3
"""Licences: seats, device seats and operator accounts of a tenant (schema 7).

- `tenant add` without --seats says the tenant is unlicensed; --seats under 20 and device
  seats not a multiple of 10 are refused before any tenant is made.
- Seats count active users that are not operators: `user add`, `user import` (all or
  none), `user enable`, `user set --no-operator`, the admin API's POST users and SCIM's
  POST Users are refused with a sentence naming the limit ("the licence has 20 seats and
  20 are in use"); the API with 409 and field seats, SCIM with its error format.
- Two `user add` at once for the last seat: exactly one succeeds (the store counts in the
  write transaction), five times over.
- Operators: at most 2, not counted; turning one back into a user needs a seat.
- Lowering a licence below use is refused unless --force; then nothing is deleted and
  nothing new is allowed.
- Device seats, with real issuance by the ca process: a user's first active certificate
  needs a free device seat, another certificate of a holder does not; a revoked one frees
  its seat.
- Audit records: admin.tenant.licence, admin.user.add operator=on, admin.user.set
  operator=off.
"""
import os
import re
import subprocess
import threading

import requests

import api_common
import console_common as cc
import sekisho_test as st

T = "acme"


def cli(srv, *args, **kw):
    return srv.cli(*args, tenant=T, check=False, **kw)


def add(srv, name, *extra):
    return cli(srv, "user", "add", name, *extra)


def licence_line(srv):
    return [ln for ln in srv.cli("tenant", "show", T).stdout.splitlines()
            if "licence=" in ln][0]


def tenant_add(t, srv):
    r = srv.cli("tenant", "add", "selfhosted")
    t.ok("tenant selfhosted is unlicensed" in r.stdout, "tenant add without --seats says "
         "unlicensed", r.stdout)
    t.ok("licence=unlicensed" in srv.cli("tenant", "show", "selfhosted").stdout,
         "tenant show: unlicensed")
    for args, want in ((["--seats", "19"], "--seats 19: seats must be a number from 20"),
                       (["--seats", "20", "--device-seats", "15"],
                        "--device-seats 15: device seats must be a multiple of 10"),
                       (["--seats", "20", "--trial-until", "2026-02-30"],
                        "is not a day")):
        r = srv.cli("tenant", "add", "bad", *args, check=False)
        t.ok(r.returncode != 0 and want in r.stderr, "tenant add %s refused" % " ".join(args),
             r.stderr)
    t.ok("bad\t" not in srv.cli("tenant", "list").stdout, "and no tenant was made")
    r = srv.cli("tenant", "set", "selfhosted", "--device-seats", "10", check=False)
    t.ok(r.returncode != 0 and "a licence needs its seats" in r.stderr,
         "an unlicensed tenant needs --seats for a licence", r.stderr)
    r = srv.cli("tenant", "set", "selfhosted", "--seats", "20")
    t.ok("licence=licensed seats=0/20 device_seats=0/0" in r.stdout, "tenant set --seats",
         r.stdout)
    r = srv.cli("tenant", "set", "selfhosted", "--unlicensed")
    t.ok("licence=unlicensed" in r.stdout, "tenant set --unlicensed: no limit again",
         r.stdout)
    r = srv.cli("tenant", "add", T, "--seats", "20", "--device-seats", "10",
                "--trial-until", "2026-12-31")
    t.ok("seats=0/20 device_seats=0/10 operators=0/2 trial_until=2026-12-31" in r.stdout,
         "tenant add --seats 20 --device-seats 10 --trial-until", r.stdout)
    srv.audit_has  # the records are checked at the end
    lines = srv.cli("tenant", "list").stdout.splitlines()
    t.ok(any(ln.startswith(T + "\t") and "licensed\tusers=0/20\tdevices=0/10" in ln
             for ln in lines), "tenant list: one line with the use", "\n".join(lines))
    t.ok(any(ln.startswith("selfhosted\t") and "\tunlicensed\tusers=0\t" in ln
             for ln in lines), "tenant list: the unlicensed one", "\n".join(lines))


def seats(t, srv, tmp):
    path = os.path.join(tmp, "users.csv")
    with open(path, "w") as f:
        for i in range(21):
            f.write("u%02d\tu%02d@example.org\tU %d\n" % (i, i, i))
    r = cli(srv, "user", "import", path)
    t.ok(r.returncode != 0 and "the licence has 20 seats and 0 are in use" in r.stderr,
         "an import of 21 into 20 seats is refused, naming the limit", r.stdout + r.stderr)
    t.eq(cli(srv, "user", "list").stdout, "", "and adds no one")
    with open(path, "w") as f:
        for i in range(20):
            f.write("u%02d\tu%02d@example.org\tU %d\n" % (i, i, i))
    r = cli(srv, "user", "import", path)
    t.ok(r.returncode == 0, "an import of 20 fits", r.stderr)
    r = add(srv, "late")
    t.ok(r.returncode != 0 and "the licence has 20 seats and 20 are in use" in r.stderr,
         "user add over the seats refused, naming the limit", r.stderr)
    r = add(srv, "late-off")
    t.ok(r.returncode != 0, "the 21st refused again")
    t.ok("seats=20/20" in licence_line(srv), "tenant show: 20/20", licence_line(srv))


def operators(t, srv):
    r = add(srv, "op1", "--operator")
    t.ok(r.returncode == 0 and "operator account" in r.stdout,
         "an operator account is added although every seat is taken", r.stderr)
    t.ok(add(srv, "op2", "--operator").returncode == 0, "a second one too")
    r = add(srv, "op3", "--operator")
    t.ok(r.returncode != 0 and "at most 2 operator accounts" in r.stderr,
         "a third is refused", r.stderr)
    r = cli(srv, "user", "set", "u00", "--operator")
    t.ok(r.returncode != 0 and "at most 2 operator accounts" in r.stderr,
         "user set --operator: a third refused too", r.stderr)
    t.ok("operator=on" in cli(srv, "user", "show", "op1").stdout, "user show: operator=on")
    r = cli(srv, "user", "set", "op1", "--no-operator")
    t.ok(r.returncode != 0 and "the licence has 20 seats and 20 are in use" in r.stderr,
         "an operator turned back into a user needs a seat", r.stderr)
    t.ok(cli(srv, "user", "disable", "u19").returncode == 0, "a user disabled frees a seat")
    r = cli(srv, "user", "set", "op1", "--no-operator")
    t.ok(r.returncode == 0, "then the operator becomes a user", r.stderr)
    r = cli(srv, "user", "enable", "u19")
    t.ok(r.returncode != 0 and "the licence has 20 seats and 20 are in use" in r.stderr,
         "user enable refused when the seats are taken", r.stderr)
    t.ok("operators=1/2" in licence_line(srv), "operators counted apart", licence_line(srv))


def race(t, srv):
    """Two adds at once for the last seat, five rounds: exactly one wins each time."""
    for rnd in range(5):
        seats_now = 21 + rnd
        srv.cli("tenant", "set", T, "--seats", str(seats_now))
        results = [None, None]

        def go(i):
            results[i] = add(srv, "race%d_%d" % (rnd, i))
        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        ok = [r.returncode == 0 for r in results]
        t.eq(sorted(ok), [False, True], "round %d: exactly one of two parallel adds for the "
             "last seat" % rnd)
        loser = [r for r in results if r.returncode != 0]
        t.ok(loser and "the licence has %d seats and %d are in use" % (seats_now, seats_now)
             in loser[0].stderr, "round %d: the other is told the limit" % rnd,
             loser and loser[0].stderr)


def force(t, srv):
    line = licence_line(srv)
    r = srv.cli("tenant", "set", T, "--seats", "20", check=False)
    t.ok(r.returncode != 0 and "would have 20 seats and 25 are in use" in r.stderr,
         "lowering the seats below the use is refused", r.stderr)
    t.eq(licence_line(srv), line, "and changes nothing")
    r = srv.cli("tenant", "set", T, "--seats", "20", "--force")
    t.ok("seats=25/20" in r.stdout and "over=yes" in r.stdout, "--force sets it", r.stdout)
    users = cli(srv, "user", "list").stdout.splitlines()
    t.eq(len([u for u in users if u.endswith("\tenabled")]), 26, "nothing is deleted "
         "(25 users and an operator enabled)")
    r = add(srv, "after-force")
    t.ok(r.returncode != 0 and "the licence has 20 seats and 25 are in use" in r.stderr,
         "new use is blocked", r.stderr)
    srv.cli("tenant", "set", T, "--seats", "30")


def api_scim(t, srv):
    srv.cli("tenant", "set", T, "--seats", "26")
    key = api_common.make_key(srv, T, "hr", "read,write")
    api = api_common.ApiClient(srv, T, [key])
    r = api.call("POST", "users", json={"name": "viaapi"}, expect=201)
    r = api.call("POST", "users", json={"name": "viaapi2"}, expect=409)
    t.eq((r.body or {}).get("error", {}).get("field") if isinstance(
        (r.body or {}).get("error"), dict) else (r.body or {}).get("field"), "seats",
         "API POST users over the seats: 409 with field seats")
    t.ok("the licence has 26 seats and 26 are in use" in r.text, "and the limit named",
         r.text)
    r = api.call("GET", "tenant")
    lic = (r.body or {}).get("licence") or {}
    t.eq((lic.get("seats"), lic.get("seats_in_use"), lic.get("device_seats")), (26, 26, 10),
         "API GET tenant shows the licence and the use", )
    r = api.call("POST", "users/import", json={"users": [{"name": "imp1"}]}, expect=409)
    t.ok("the licence has 26 seats and 26 are in use" in r.text,
         "API POST users/import over the seats: 409 naming the limit", r.text)
    api.call("PATCH", "users/viaapi", json={"disabled": True})
    api.call("POST", "users", json={"name": "viaapi3"}, expect=201)
    r = api.call("PATCH", "users/viaapi", json={"disabled": False}, expect=409)
    t.ok("the licence has 26 seats and 26 are in use" in r.text,
         "API PATCH users enable over the seats: 409 naming the limit", r.text)
    skey = api_common.make_key(srv, T, "idm", "scim")
    r = requests.post(srv.base(T) + "/scim/v2/Users", verify=srv.ca, timeout=30,
                      headers={"Authorization": "Bearer " + skey,
                               "Content-Type": "application/scim+json"},
                      json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": "viascim"})
    body = r.json() if r.content else {}
    t.ok(r.status_code in (403, 409) and "urn:ietf:params:scim:api:messages:2.0:Error" in
         body.get("schemas", []) and "the licence has 26 seats" in body.get("detail", ""),
         "SCIM POST Users over the seats: SCIM error naming the limit", r.text)
    # one call per key: each key may make one call a second
    h = {"Authorization": "Bearer " + api_common.make_key(srv, T, "idm2", "scim"),
         "Content-Type": "application/scim+json"}
    r = requests.get(srv.base(T) + '/scim/v2/Users?filter=userName%20eq%20%22u19%22',
                     headers=h, verify=srv.ca, timeout=30)
    uid = r.json()["Resources"][0]["id"]
    h["Authorization"] = "Bearer " + api_common.make_key(srv, T, "idm3", "scim")
    r = requests.patch(srv.base(T) + "/scim/v2/Users/" + uid, headers=h, verify=srv.ca,
                       timeout=30, json={"schemas": [
                           "urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
                           {"op": "replace", "path": "active", "value": True}]})
    body = r.json() if r.content else {}
    t.ok(r.status_code in (403, 409) and "the licence has 26 seats" in body.get("detail", ""),
         "SCIM activating a user over the seats: SCIM error naming the limit", r.text)
    t.ok("u19\tu19@example.org\tU 19\tdisabled" in cli(srv, "user", "list").stdout,
         "and the user stays disabled")


def console(t, srv):
    """An operator account with the admin role uses the console: the user form is refused
    naming the limit, and the dashboard shows the seats."""
    pw = "operator password 1"
    srv.cli("user", "passwd", "op2", "--password-stdin", input=pw + "\n", tenant=T)
    srv.cli("user", "set", "op2", "--role", "admin", "--must-change-password", "off",
            tenant=T)
    b = st.Browser(verify=srv.ca, lang="en")
    b.submit_login(b.get(srv.base(T) + "/login"), "op2", pw)
    admin = srv.base(T) + "/admin"
    r = b.get(admin + "/users")
    r = cc.submit(b, r, "/users/add", {"name": "viaconsole"})
    t.ok(r.status_code == 409 and "the licence has 26 seats and 26 are in use" in r.text,
         "console: adding a user over the seats is refused, naming the limit",
         (r.status_code, r.text[:300]))
    t.ok("viaconsole" not in cli(srv, "user", "list").stdout, "and nothing is added")
    r = b.get(admin)
    t.ok(re.search(r"Seats in use / licensed</dt><dd>26 / 26<", r.text) and
         re.search(r"Device seats in use / licensed</dt><dd>10 / 10<", r.text),
         "console dashboard: seats and device seats in use / licensed", r.text[:2000])
    b = st.Browser(verify=srv.ca, lang="en")
    b.submit_login(b.get(srv.base() + "/login"), "root", ROOT_PW)
    r = b.get(srv.base() + "/admin")
    t.ok(re.search(r"Seats in use / licensed</dt><dd>1 <small>unlicensed, no limit</small><", r.text),
         "an unlicensed tenant's dashboard: the use, no limit", r.text[:2000])


def issue(srv, tmp, user, n):
    out = os.path.join(tmp, "%s-%d.p12" % (user, n))
    r = subprocess.run([st.SEKISHO, "--dir", srv.dir, "--tenant", T, "cert", "issue", user,
                        "--label", "laptop", "--out", out, "--password-stdin"],
                       input="pkcs12 password\n", capture_output=True, text=True, timeout=120)
    m = re.search(r"^serial=([0-9A-F]+)$", r.stdout, re.M)
    return r, m.group(1) if m else None


def device_seats(t, srv, tmp):
    serials = {}
    for i in range(10):
        r, serials["u%02d" % i] = issue(srv, tmp, "u%02d" % i, 1)
        if r.returncode != 0:
            break
    t.ok(all(serials.values()) and len(serials) == 10, "10 users get a certificate "
         "(10 device seats)")
    r, serial = issue(srv, tmp, "u10", 1)
    t.ok(r.returncode != 0 and serial is None and
         "the licence has 10 device seats and 10 are in use" in r.stderr,
         "an 11th user is refused, naming the limit", r.stderr)
    r, serial = issue(srv, tmp, "u00", 2)
    t.ok(r.returncode == 0 and serial, "a holder gets a second certificate", r.stderr)
    srv.cli("cert", "revoke", serials["u01"], tenant=T)
    r, serial = issue(srv, tmp, "u10", 2)
    t.ok(r.returncode == 0 and serial, "a revoked certificate frees its device seat",
         r.stderr)
    t.ok("device_seats=10/10" in licence_line(srv), "tenant show: device seats 10/10",
         licence_line(srv))
    r = srv.cli("tenant", "set", T, "--device-seats", "0", check=False)
    t.ok(r.returncode != 0 and "would have 0 device seats and 10 are in use" in r.stderr,
         "lowering the device seats below the holders refused", r.stderr)


def audit(t, srv):
    recs = srv.audit(tenant=T)
    lic = [f for e, f in recs if e == "admin.tenant.licence"]
    t.ok(lic and "seats=20" in lic[0] and "device_seats=10" in lic[0] and
         "trial_until=2026-12-31" in lic[0], "audit: admin.tenant.licence", lic[:1])
    t.ok([f for f in lic if "force=yes" in f and "over=yes" in f],
         "audit: the forced licence says it is over", lic)
    t.ok([f for e, f in recs if e == "admin.user.add" and "user=op1" in f and
          "operator=on" in f], "audit: admin.user.add operator=on")
    t.ok([f for e, f in recs if e == "admin.user.set" and "user=op1" in f and
          "operator=off" in f], "audit: admin.user.set operator=off")


ROOT_PW = "root password 12"


def main():
    t = st.Tap()
    srv = st.Server()
    srv.add_user("root", ROOT_PW)
    srv.cli("user", "set", "root", "--role", "admin")
    tmp = srv.tmp
    try:
        t.run("tenant add and its licence", tenant_add, t, srv)
        t.run("seats", seats, t, srv, tmp)
        t.run("operator accounts", operators, t, srv)
        t.run("two adds for the last seat", race, t, srv)
        t.run("--force", force, t, srv)
        t.run("device seats", device_seats, t, srv, tmp)
        t.run("API and SCIM", api_scim, t, srv)
        t.run("console", console, t, srv)
        t.run("audit", audit, t, srv)
    finally:
        srv.close()
    t.done()


main()
