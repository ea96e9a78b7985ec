#!/usr/bin/python3
"""Users, groups and apps as identities (issue 8, items 1, 7, 8 and 9).

- A user, group or app removed and added again under the same name inherits nothing: not
  the old one's device-required exemption or requirement, not its memberships (item 1),
  and the removal is audited with what it took along.
- User names are the same without regard to case, and a user may log in with the name or
  the e-mail address, as login_with says (item 7).
- `user set` changes the e-mail address, the display name and extra attributes of the same
  user (its id, and so its NameIDs and devices, stay); `user show`; `group members G`;
  `user unlock` (item 8).
- Every change made with sekisho is an audit record naming the operating-system user who
  made it (item 9).

The device-required checks use a server without a device listener: a login that needs a
device gets the refusal page, one that does not gets its authorization code.
"""
import os
import re
import subprocess
import urllib.parse

import sekisho_test as st

PW = "identity-test-pw-1"
CB = "http://127.0.0.1:9/cb"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
t = st.Tap()


def client(srv, name):
    out = srv.cli("app", "add-oidc", name, "--redirect-uri", CB, "--public").stdout
    return re.search(r"^client_id=(\S+)$", out, re.M).group(1)


def login(srv, client_id, user, password=PW):
    """The answer to an authorization for client_id after logging in as user."""
    b = st.Browser(verify=srv.ca, stop_at=(CB,))
    q = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CB,
        "scope": "openid", "state": "s", "code_challenge_method": "S256",
        "code_challenge": CHALLENGE})
    return b.submit_login(b.get(srv.base() + "/oidc/authorize?" + q), user, password)


def got_code(r):
    return r.status_code in (302, 303) and r.headers.get("Location", "").startswith(CB + "?code=")


def needs_device(r):
    return r.status_code == 403 and "<code>unavailable</code>" in r.text


def policies(srv):
    return sorted(srv.cli("policy", "list").stdout.splitlines())


def user_readded(srv, cid):
    srv.add_user("carol", PW)
    srv.cli("policy", "set", "--user", "carol", "device-required", "off")
    t.ok(got_code(login(srv, cid, "carol")), "carol is exempt from the device requirement")
    srv.cli("user", "remove", "carol")
    srv.add_user("carol", PW)
    t.ok("carol" not in srv.cli("policy", "list").stdout,
         "a new carol has no policy of the old one", policies(srv))
    r = login(srv, cid, "carol")
    t.ok(needs_device(r), "the new carol must use a device like everyone else",
         "%s %s" % (r.status_code, r.headers.get("Location")))
    srv.audit_has(t, "admin.user.remove", "user=carol", "policies=1", "actor=" + me())


def group_readded(srv, cid):
    srv.add_user("dave", PW)
    srv.cli("group", "add", "exempt")
    srv.cli("group", "add-member", "exempt", "dave")
    srv.cli("policy", "set", "--group", "exempt", "device-required", "off")
    t.ok(got_code(login(srv, cid, "dave")), "dave is exempt through his group")
    srv.cli("group", "remove", "exempt")
    srv.cli("group", "add", "exempt")
    t.eq(srv.cli("group", "members", "exempt").stdout, "",
         "a new group of the same name starts empty")
    srv.cli("group", "add-member", "exempt", "dave")
    t.ok(needs_device(login(srv, cid, "dave")),
         "a new group of the same name carries no exemption")
    srv.audit_has(t, "admin.group.remove", "group=exempt", "memberships=1", "policies=1")


def app_readded(srv):
    srv.cli("policy", "set", "--tenant", "device-required", "off")
    cid = client(srv, "payroll")
    srv.cli("policy", "set", "--app", "payroll", "device-required", "on")
    t.ok(needs_device(login(srv, cid, "dave")), "payroll needs a device")
    srv.cli("app", "remove", "payroll")
    cid = client(srv, "payroll")
    t.ok(got_code(login(srv, cid, "dave")), "a new app of the same name inherits no policy")
    srv.audit_has(t, "admin.app.remove", "app=payroll", "policies=1")
    srv.cli("policy", "set", "--tenant", "device-required", "on")


def names_and_email(srv, cid):
    srv.cli("policy", "set", "--user", "dave", "device-required", "off")
    r = srv.cli("user", "add", "DAVE", "--password-stdin", input=PW + "\n", check=False)
    t.ok(r.returncode == 1 and "already exists" in r.stderr,
         "user names are unique without regard to case", r.stderr)
    t.ok(got_code(login(srv, cid, "DaVe")), "a user logs in with the name in any case")
    srv.cli("user", "set", "dave", "--email", "Dave@Example.org")
    t.ok(got_code(login(srv, cid, "dave@example.org")), "and with the e-mail address")
    t.ok(not got_code(login(srv, cid, "dave@example.org", "wrong-password-1")),
         "a wrong password by e-mail still fails")


def login_with_name_only(srv, cid):
    with open(os.path.join(srv.dir, "sekishod.conf"), "a") as f:
        f.write("login_with name\n")
    srv.restart()
    r = login(srv, cid, "dave@example.org")
    t.ok(r.status_code == 401, "login_with name: the e-mail address is not an ID",
         r.status_code)
    t.ok(got_code(login(srv, cid, "dave")), "login_with name: the name is")
    r = srv.cli("user", "list")     # keeps working: nothing else changed
    t.ok("dave" in r.stdout, "the directory still works")


def show(srv, name):
    out = srv.cli("user", "show", name).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def user_set(srv):
    before = show(srv, "dave")
    srv.cli("user", "set", "dave", "--email", "d2@example.org", "--name", "Dave Two",
            "--attr", "dept=sales", "--attr", "site=Osaka")
    after = show(srv, "dave")
    t.eq(after.get("id"), before.get("id"), "user set keeps the user (its id)")
    t.eq((after.get("email"), after.get("display_name"), after.get("attr.dept"),
          after.get("attr.site")), ("d2@example.org", "Dave Two", "sales", "Osaka"),
         "user set changes e-mail, name and attributes")
    srv.cli("user", "set", "dave", "--attr", "dept=")
    t.ok("attr.dept" not in show(srv, "dave"), "an empty value removes an attribute")
    for bad, why in ((["--attr", "no equals"], "KEY=VALUE"), (["--attr", "b@d=x"], "KEY=VALUE"),
                     (["--email", "nope"], "not an email address")):
        r = srv.cli("user", "set", "dave", *bad, check=False)
        t.ok(r.returncode == 1 and why in r.stderr, "user set refuses %s" % bad, r.stderr)
    r = srv.cli("user", "set", "dave", check=False)
    t.eq(r.returncode, 2, "user set without a change is a usage error")
    r = srv.cli("user", "set", "nobody", "--name", "x", check=False)
    t.ok(r.returncode == 1 and "no such user" in r.stderr, "user set of nobody", r.stderr)
    srv.cli("user", "set", "dave", "--email", "dave@example.org")
    t.eq(show(srv, "dave").get("id"), before.get("id"), "still the same user")
    srv.audit_has(t, "admin.user.set", "user=dave", "actor=" + me())


def group_members(srv):
    srv.cli("group", "add", "staff")
    for u in ("dave", "CAROL"):
        srv.cli("group", "add-member", "staff", u)
    t.eq(srv.cli("group", "members", "staff").stdout, "carol\ndave\n",
         "group members lists a group's members by name")
    r = srv.cli("group", "members", "nosuch", check=False)
    t.ok(r.returncode == 1 and "no such group" in r.stderr, "group members of no group")


def unlock(srv, cid):
    for _ in range(12):
        login(srv, cid, "dave", "wrong-password-x")
    r = login(srv, cid, "dave")
    t.eq(r.status_code, 429, "dave is locked out after too many failures")
    t.ok("failures=" in srv.cli("user", "show", "dave").stdout, "user show counts failures")
    srv.cli("user", "unlock", "dave")
    t.ok(got_code(login(srv, cid, "dave")), "user unlock ends the lockout")
    srv.audit_has(t, "admin.user.unlock", "user=dave", "actor=" + me())
    r = srv.cli("user", "unlock", "nobody", check=False)
    t.ok(r.returncode == 1 and "no such user" in r.stderr, "user unlock of nobody")


def me():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def every_change_audited(srv, tmp):
    csr, key = os.path.join(tmp, "d.csr"), os.path.join(tmp, "d.key")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj", "/CN=x",
                    "-out", csr], check=True, capture_output=True)
    out = srv.cli("cert", "issue", "dave", "--label", "laptop", "--csr", csr, "--out",
                  os.path.join(tmp, "d.pem")).stdout
    serial = re.search(r"^serial=(\S+)$", out, re.M).group(1)
    srv.cli("cert", "revoke", serial)
    srv.cli("key", "rotate")
    srv.cli("user", "disable", "dave")
    srv.cli("user", "enable", "dave")
    srv.cli("user", "passwd", "dave", "--password-stdin", input=PW + "\n")
    srv.cli("group", "remove-member", "staff", "dave")
    srv.cli("tenant", "add", "acme")
    for event, fields in (("admin.user.add", ["user=dave"]), ("admin.group.add", ["group=staff"]),
                          ("admin.group.add_member", ["group=staff", "user=dave"]),
                          ("admin.group.remove_member", ["group=staff", "user=dave"]),
                          ("admin.app.add", ["app=payroll"]),
                          ("admin.policy.set", ["scope=user", "user=dave", "value=off"]),
                          ("admin.user.disable", ["user=dave"]),
                          ("admin.user.enable", ["user=dave"]),
                          ("admin.user.passwd", ["user=dave"]), ("admin.key.rotate", ["use=oidc"]),
                          ("cert.issue", ["user=dave"]), ("cert.revoke", ["serial=" + serial])):
        srv.audit_has(t, event, *(fields + ["actor=" + me()]))
    recs = srv.audit(tenant="acme")
    t.ok(any(e == "admin.tenant.add" and "actor=" + me() in f for e, f in recs),
         "tenant add is audited in the new tenant's trail", recs[:5])
    t.ok(any(e == "ca.create" and "actor=" + me() in f for e, f in recs),
         "the new tenant's CA creation names who asked")
    out = srv.cli("audit", "--event", "admin.*", "--user", "DAVE").stdout
    t.ok("admin.user.passwd" in out, "audit --user finds a user whatever the case")


def main():
    srv = st.Server()
    try:
        cid = client(srv, "portal")
        srv.cli("policy", "set", "--tenant", "device-required", "on")
        t.run("user removed and added again", user_readded, srv, cid)
        t.run("group removed and added again", group_readded, srv, cid)
        t.run("app removed and added again", app_readded, srv)
        t.run("names and e-mail", names_and_email, srv, cid)
        t.run("user set", user_set, srv)
        t.run("group members", group_members, srv)
        t.run("user unlock", unlock, srv, cid)
        t.run("every change audited", every_change_audited, srv, srv.tmp)
        t.run("login_with name", login_with_name_only, srv, cid)
        leaks = st.grep_secret_leaks(srv.log(), [PW])
        t.eq(leaks, [], "no password in the log")
    finally:
        srv.close()
    t.done()


main()
