"""The admin console's rules, API keys, audit trail, certificates and tenant settings
(/t/TENANT/admin/rules ...), as an admin uses them through the forms.

An admin adds, edits, moves and deletes access rules and runs the simulator; a bad rule
is refused naming the member with nothing changed; a helpdesk user gets 403 for the
pages and for forged POSTs (nothing changes); a POST without the CSRF token is refused;
changing or deleting a rule asks for the password when the last proof is older than 5
minutes (the server runs under libfaketime); the audit records name the admin
(console:NAME) and the address.
"""
import json
import os
import re
import tempfile
import urllib.parse

import requests
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

import console_common as cc
import sekisho_test as st
from console_common import Clock, console, form, has_form

t = st.Tap()
PW = "Console-Passw0rd-2024!"


def login(srv, user):
    return cc.login(srv, user, PW)


CHECKBOXES = ("enroll", "report_only", "device", "mfa", "read", "write", "certs", "scim")


def submit(b, r, action_end, fields, match=None):
    """Submit the form with fields; checkboxes count as ticked only when fields say so."""
    return cc.submit(b, r, action_end, fields, match, drop=CHECKBOXES)


def csrf_of(b, srv):
    return cc.csrf_of(b, srv, "taro")


def policies(srv):
    return srv.cli("policy", "list").stdout


# ---- rules and the simulator ----

def part_rules(srv, boss):
    r = boss.get(console(srv, "rules"))
    t.ok(r.status_code == 200 and has_form(r, "/rules/add"), "the rules page with its form",
         r.status_code)
    r = submit(boss, r, "/rules/add", {"name": "office", "effect": "deny",
                                       "apps": "crm", "not_from": "10.0.0.0/8 192.0.2.1",
                                       "days": "mon tue wed thu fri",
                                       "hours": "09:00-18:00", "report_only": "1"})
    t.ok(r.status_code == 200 and "The rule was added" in r.text and "/admin/rule" in r.url,
         "an admin adds a rule: its page with a notice", r.status_code)
    lst = policies(srv)
    t.ok(re.search(r"^1\toffice\t.*effect=deny.*apps=crm.*not-from=10\.0\.0\.0/8,"
                   r"192\.0\.2\.1/32.*days=mon,tue,wed,thu,fri.*hours=09:00-18:00.*"
                   r"report-only", lst, re.M), "the rule is stored with every member", lst)
    srv.audit_has(t, "admin.policy.add", "actor=console:boss", "ip=127.0.0.1")
    t.ok('value="192.0.2.1/32"' not in r.text and 'value="10.0.0.0/8 192.0.2.1/32"' in r.text
         and 'value="deny" selected' in r.text and 'name="report_only" value="1" checked'
         in r.text, "the rule's page shows its members in the form")
    r = submit(boss, boss.get(console(srv, "rules")), "/rules/add",
               {"name": "mfa-all", "effect": "mfa", "groups": "staff", "enroll": "1"})
    t.ok(r.status_code == 200 and "The rule was added" in r.text, "a second rule")
    before = policies(srv)
    r = submit(boss, boss.get(console(srv, "rules")), "/rules/add",
               {"name": "broken", "effect": "deny", "hours": "25:00-18:00"})
    t.ok(r.status_code == 400 and "25" in r.text, "bad hours: 400 naming them",
         r.status_code)
    r = submit(boss, boss.get(console(srv, "rules")), "/rules/add",
               {"name": "broken", "effect": "deny", "from": "10.0.0.300/8"})
    t.eq(r.status_code, 400, "a bad network: 400")
    r = submit(boss, boss.get(console(srv, "rules")), "/rules/add",
               {"name": "broken", "effect": "deny", "users": "nobody-here"})
    t.ok(r.status_code == 400 or r.status_code == 404, "an unknown user: refused",
         r.status_code)
    t.eq(policies(srv), before, "after the refusals nothing changed")
    # move: mfa-all up, above office
    r = boss.get(console(srv, "rules"))
    r = submit(boss, r, "/rule/move", {}, {"name": "mfa-all"})
    t.ok(r.status_code == 200 and "The rule was moved" in r.text, "move up", r.status_code)
    t.ok(re.search(r"^1\tmfa-all\t.*^2\toffice\t", policies(srv), re.M | re.S),
         "mfa-all is first now", policies(srv))
    srv.audit_has(t, "admin.policy.move", "actor=console:boss")
    r = submit(boss, r, "/rule/move", {}, {"name": "mfa-all"})
    t.ok(re.search(r"^1\toffice\t.*^2\tmfa-all\t", policies(srv), re.M | re.S),
         "and down again (to the end)", policies(srv))
    # edit every member
    r = submit(boss, boss.get(console(srv, "rule") + "?name=office"), "/rule/edit",
               {"effect": "deny", "apps": "crm", "from": "", "not_from": "198.51.100.0/24",
                "days": "", "hours": ""})
    t.ok(r.status_code == 200 and "The rule was saved" in r.text, "edit a rule",
         r.status_code)
    lst = policies(srv)
    t.ok(re.search(r"^1\toffice\teffect=deny apps=crm not-from=198\.51\.100\.0/24$", lst, re.M),
         "the edit replaced the conditions (report-only and days gone)", lst)
    srv.audit_has(t, "admin.policy.replace", "actor=console:boss", "ip=127.0.0.1")
    r = submit(boss, boss.get(console(srv, "rule") + "?name=office"), "/rule/edit",
               {"effect": "maybe"})
    t.ok(r.status_code == 400 and "effect" in r.text, "a bad effect: 400 naming it",
         r.status_code)
    t.eq(policies(srv), lst, "nothing changed")
    # the simulator
    r = boss.get(console(srv, "rules/test"))
    t.ok(r.status_code == 200 and 'id="sim-form"' in r.text, "the simulator's form")
    r = boss.get(console(srv, "rules/test") + "?" + urllib.parse.urlencode(
        {"user": "taro", "app": "crm", "ip": "203.0.113.5"}))
    t.ok(r.status_code == 200 and 'data-decision="deny"' in r.text and
         '<span class="rule">office</span>' in r.text and 'class="reasons"' in r.text,
         "simulator: taro to crm from outside is denied by office, with reasons",
         r.text[-1500:])
    r = boss.get(console(srv, "rules/test") + "?" + urllib.parse.urlencode(
        {"user": "taro", "app": "crm", "ip": "198.51.100.7"}))
    t.ok(r.status_code == 200 and 'data-decision="allow"' in r.text,
         "from the office network: allowed")
    r = boss.get(console(srv, "rules/test") + "?" + urllib.parse.urlencode(
        {"user": "taro", "ip": "not-an-ip"}))
    t.ok(r.status_code == 400 and 'role="alert"' in r.text, "a bad address: 400 saying so",
         r.status_code)
    rj = boss.get(console(srv, "rules") + "?lang=ja")
    t.ok("アクセスルール" in rj.text and "ルールを追加" in rj.text, "the rules page in Japanese")
    boss.get(console(srv) + "?lang=en")


def part_rules_reauth(srv, boss, clock):
    clock.forward(600)
    r = submit(boss, boss.get(console(srv, "keys")), "/keys/add", {"name": "late", "read": "1"})
    t.ok(r.status_code == 403 and has_form(r, "/admin/keys/add") and keys(srv) == [],
         "create a key without a recent proof: the password form, no key", r.status_code)
    lst = policies(srv)
    r = submit(boss, boss.get(console(srv, "rules")), "/rule/move", {}, {"name": "mfa-all"})
    t.ok(r.status_code == 403 and has_form(r, "/admin/rule/move"),
         "move a rule without a recent proof: the password form", r.status_code)
    r = submit(boss, boss.get(console(srv, "rules")), "/rules/add",
               {"name": "late", "effect": "deny"})
    t.ok(r.status_code == 403 and has_form(r, "/admin/rules/add"),
         "add a rule without a recent proof: the password form", r.status_code)
    t.eq(policies(srv), lst, "the rules are unchanged")
    r = submit(boss, boss.get(console(srv, "rule") + "?name=mfa-all"), "/rule/delete", {})
    t.ok(r.status_code == 403 and has_form(r, "/admin/rule/delete"),
         "delete a rule without a recent proof: the password form", r.status_code)
    t.eq(policies(srv), lst, "the rule is still there")
    r3 = submit(boss, r, "/rule/delete", {"reauth_password": PW})
    t.ok(r3.status_code == 200 and "The rule was deleted" in r3.text,
         "the password: the delete runs", r3.status_code)
    t.ok("mfa-all" not in policies(srv), "the rule is gone")
    srv.audit_has(t, "admin.policy.remove", "actor=console:boss", "ip=127.0.0.1")


# ---- API keys ----

def keys(srv):
    """Each key's name, scopes and state as `apikey list` shows them."""
    return [line.split("\t")[:3] for line in srv.cli("apikey", "list").stdout.splitlines()]


def api_get(srv, key, path):
    s = requests.Session()
    s.trust_env = False
    return s.get(srv.base() + "/api/v1/" + path, headers={"Authorization": "Bearer " + key},
                 verify=srv.ca, timeout=30)


def part_keys(srv, boss):
    r = boss.get(console(srv, "keys"))
    t.ok(r.status_code == 200 and has_form(r, "/keys/add") and "5000" in r.text,
         "the keys page with its form and the monthly quota", r.status_code)
    r = submit(boss, r, "/keys/add", {"name": "ci", "read": "1", "write": "1",
                                      "expires_in": "90d"})
    key = re.search(r'<code id="new-key-value">([^<]+)</code>', r.text)
    t.ok(r.status_code == 200 and key and key.group(1).startswith("sks_") and
         r.headers.get("Cache-Control") == "no-store",
         "create a key: shown on the answer (no-store)", r.status_code)
    key = key.group(1) if key else ""
    t.ok(["ci", "read,write", "active"] in keys(srv), "the key is stored", keys(srv))
    srv.audit_has(t, "admin.apikey.create", "name=ci", "actor=console:boss", "ip=127.0.0.1")
    t.ok(key and key not in boss.get(console(srv, "keys")).text, "the key is shown once")
    t.ok(key and not srv.audit_find(key) and key[-20:] not in srv.cli("audit").stdout,
         "the key is in no audit record")
    t.eq(api_get(srv, key, "users").status_code, 200, "the key works on the API")
    r = boss.get(console(srv, "keys"))
    t.ok(re.search(r'data-key="ci" data-state="active">.*?class="use">1 / 5000<', r.text,
                   re.S), "the list shows this month's use (1 of 5000)", r.text[-3000:])
    before = keys(srv)
    for bad, why in (({"name": "ci", "read": "1"}, "an existing name"),
                     ({"name": "nothing"}, "no scope"),
                     ({"name": "x", "read": "1", "expires_in": "soon"}, "a bad expiry")):
        r = submit(boss, boss.get(console(srv, "keys")), "/keys/add", bad)
        t.ok(r.status_code in (400, 409), "%s: refused (%d)" % (why, r.status_code))
    t.eq(keys(srv), before, "after the refusals nothing changed")
    r = submit(boss, boss.get(console(srv, "keys")), "/key/suspend", {}, {"name": "ci"})
    t.ok(r.status_code == 200 and "The API key was suspended" in r.text and
         ["ci", "read,write", "suspended"] in keys(srv), "suspend", keys(srv))
    t.eq(api_get(srv, key, "users").status_code, 403, "a suspended key is refused (403)")
    r = submit(boss, r, "/key/suspend", {}, {"name": "ci"})
    t.ok("The API key was resumed" in r.text and ["ci", "read,write", "active"] in keys(srv),
         "and resume")
    srv.audit_has(t, "admin.apikey.suspend", "actor=console:boss")
    r = submit(boss, r, "/key/delete", {}, {"name": "ci"})
    t.ok("The API key was deleted" in r.text and keys(srv) == [], "delete", keys(srv))
    srv.audit_has(t, "admin.apikey.delete", "name=ci", "actor=console:boss")


# ---- the audit trail ----

def seqs(r):
    return [int(x) for x in re.findall(r'<tr data-seq="(\d+)">', r.text)]


def part_audit(srv, boss):
    for i in range(45):
        srv.cli("group", "add", "g%02d" % i)
    r = boss.get(console(srv, "audit"))
    first = seqs(r)
    t.ok(r.status_code == 200 and len(first) == 50 and first == sorted(first, reverse=True),
         "the trail: 50 records, newest first", first[:5])
    nxt = re.search(r'<a href="([^"]+)" rel="next">', r.text)
    t.ok(nxt is not None, "a link to older records")
    r2 = boss.get(urllib.parse.urljoin(r.url, nxt.group(1).replace("&amp;", "&")))
    second = seqs(r2)
    t.ok(second and max(second) == min(first) - 1 and second == sorted(second, reverse=True),
         "the next page goes on where the first ended", (first[-1:], second[:3]))
    r = boss.get(console(srv, "audit") + "?" + urllib.parse.urlencode(
        {"event": "admin.policy.*", "user": "", "since": "1d"}))
    events = re.findall(r'class="event">([^<]+)<', r.text)
    t.ok(r.status_code == 200 and events and all(e.startswith("admin.policy.") for e in events)
         and "admin.policy.add" in events, "filter by an event prefix", events)
    r = boss.get(console(srv, "audit") + "?event=login.ok&user=BOSS")
    events = re.findall(r'class="event">([^<]+)<', r.text)
    t.ok(events and set(events) == {"login.ok"} and "user=boss" in r.text,
         "filter by event and user (any case)", events)
    r = boss.get(console(srv, "audit") + "?app=crm&until=2000-01-01")
    t.ok(r.status_code == 200 and seqs(r) == [], "app and until: nothing before 2000")
    r = boss.get(console(srv, "audit") + "?since=yesterday-ish")
    t.ok(r.status_code == 400 and "since" in r.text and 'role="alert"' in r.text,
         "a bad since: 400 naming it", r.status_code)
    exp = re.search(r'<a href="([^"]+format=jsonl)"', boss.get(
        console(srv, "audit") + "?event=admin.apikey.*").text)
    r = boss.get(urllib.parse.urljoin(r.url, exp.group(1).replace("&amp;", "&")))
    lines = [json.loads(x) for x in r.text.splitlines()]
    t.ok(r.status_code == 200 and "attachment" in r.headers.get("Content-Disposition", "")
         and lines and all(x["event"].startswith("admin.apikey.") for x in lines),
         "export as JSON lines, filtered, as an attachment", r.text[:300])
    r = boss.get(console(srv, "audit/export") + "?format=csv&event=admin.group.add")
    rows = r.text.splitlines()
    t.ok(r.status_code == 200 and rows[0] == "seq,time,event,fields" and len(rows) == 47,
         "export as CSV with its header (staff and 45 groups)", rows[:2])
    t.eq(boss.get(console(srv, "audit/export") + "?format=xml").status_code, 400,
         "an unknown export format: 400")
    r = boss.get(console(srv, "audit/verify"))
    t.ok(r.status_code == 200 and 'data-intact="1"' in r.text, "verify: the chain is intact")
    rj = boss.get(console(srv, "audit") + "?lang=ja")
    t.ok("監査ログ" in rj.text and "CSV で書き出し" in rj.text, "the audit page in Japanese")
    boss.get(console(srv) + "?lang=en")
    t.eq(login(srv, "taro").get(console(srv, "audit")).status_code, 403,
         "a plain user: 403 for the trail")


# ---- device certificates ----

P12_PW = "p12-Passw0rd-long"


def cert_list(srv):
    return srv.cli("cert", "list").stdout


def part_certs(srv, boss):
    r = boss.get(console(srv, "certs"))
    t.ok(r.status_code == 200 and has_form(r, "/certs/issue") and "certs/ca.pem" in r.text
         and "certs/crl" in r.text, "the certificates page: issue form, CA and CRL links",
         r.status_code)
    r = submit(boss, r, "/certs/issue", {"user": "taro", "label": "laptop",
                                         "password": P12_PW})
    t.ok(r.status_code == 200 and r.headers.get("Content-Type") == "application/x-pkcs12"
         and "attachment" in r.headers.get("Content-Disposition", "") and
         r.headers.get("Cache-Control") == "no-store",
         "issue: a PKCS#12 attachment, not stored", dict(r.headers))
    key, cert, _ = pkcs12.load_key_and_certificates(r.content, P12_PW.encode())
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    t.ok(key is not None and cn == "taro", "it holds taro's key and certificate", cn)
    serial = "%X" % cert.serial_number
    t.ok(serial in cert_list(srv).upper(), "the certificate is stored", cert_list(srv))
    srv.audit_has(t, "cert.issue", "user=taro", "method=pkcs12", "actor=console:boss",
                  "ip=127.0.0.1")
    t.ok(not [f for e, f in srv.audit() if P12_PW in f], "the password is in no record")
    before = cert_list(srv)
    for bad, why in (({"user": "taro", "label": "x", "password": "short"}, "a short password"),
                     ({"user": "nobody", "label": "x", "password": P12_PW}, "no such user"),
                     ({"user": "taro", "label": "", "password": P12_PW}, "no label")):
        r = submit(boss, boss.get(console(srv, "certs")), "/certs/issue", bad)
        t.ok(r.status_code in (400, 404) and "application/x-pkcs12" not in
             r.headers.get("Content-Type", ""), "%s: refused (%d)" % (why, r.status_code))
    t.eq(cert_list(srv), before, "after the refusals nothing was issued")
    r = boss.get(console(srv, "certs") + "?user=taro")
    t.ok('data-status="active"' in r.text and "laptop" in r.text, "the list of taro's")
    r = boss.get(console(srv, "certs") + "?within=30d")
    t.ok(r.status_code == 200 and "laptop" not in r.text, "not expiring within 30 days")
    r = boss.get(console(srv, "certs") + "?within=2000d")
    t.ok("laptop" in r.text, "but within 2000 days")
    t.eq(boss.get(console(srv, "certs") + "?within=soon").status_code, 400,
         "a bad duration: 400")
    r = submit(boss, boss.get(console(srv, "certs")), "/cert/revoke", {})
    t.ok(r.status_code == 200 and "certificate was revoked" in r.text and
         'data-status="revoked"' in r.text, "revoke", r.status_code)
    srv.audit_has(t, "cert.revoke", "actor=console:boss")
    crl = boss.get(srv.base() + "/certs/crl")
    t.ok(crl.status_code == 200 and crl.content, "the CRL link answers")
    ca = boss.get(srv.base() + "/certs/ca.pem")
    t.ok(ca.status_code == 200 and "BEGIN CERTIFICATE" in ca.text, "the CA link answers")


# ---- tenant settings ----

def settings_form(r):
    return form(r, "/settings/save")["fields"]


def part_settings(srv, boss):
    r = boss.get(console(srv, "settings"))
    f = settings_form(r)
    t.ok(r.status_code == 200 and f["timezone"] == "Asia/Tokyo" and
         f["password_min_length"], "the settings page shows the current values", f)
    r = submit(boss, r, "/settings/save", {"timezone": "UTC", "default_effect": "allow",
                                           "password_min_length": "14",
                                           "display_name": "株式会社テスト",
                                           "color": "#0a5",
                                           "help_url": "https://help.example.jp/"})
    f = settings_form(r)
    t.ok(r.status_code == 200 and "The settings were saved" in r.text and
         f["timezone"] == "UTC" and f["password_min_length"] == "14" and
         f["color"] == "#00aa55" and f["display_name"] == "株式会社テスト",
         "an admin saves the settings: stored (the colour as #rrggbb)", f)
    t.ok("timezone=UTC" in policies(srv), "the rules' time zone changed", policies(srv))
    login_page = st.Browser(verify=srv.ca).get(srv.base() + "/login").text
    t.ok("株式会社テスト" in login_page and "help.example.jp" in login_page,
         "the login page shows the company and the help link")
    srv.audit_has(t, "admin.tenant.set", "actor=console:boss", "ip=127.0.0.1")
    n_set = len(srv.audit_find("admin.tenant.set"))
    r = submit(boss, r, "/settings/save", {})
    t.eq(len(srv.audit_find("admin.tenant.set")), n_set, "an unchanged form writes nothing")
    for bad, member in (({"color": "red"}, "color"), ({"help_url": "http://x.jp/"}, "help"),
                        ({"password_min_length": "0"}, "password_min_length"),
                        ({"timezone": "Mars/Base"}, "time"),
                        ({"default_effect": "maybe"}, "allow or deny"),
                        ({"display_name": "a\x01b"}, "display")):
        r = submit(boss, boss.get(console(srv, "settings")), "/settings/save", bad)
        t.ok(r.status_code == 400 and member in r.text, "%r: 400 naming %s" % (bad, member),
             (r.status_code, r.text[-600:]))
    t.eq(len(srv.audit_find("admin.tenant.set")), n_set, "after the refusals nothing changed")
    t.eq(settings_form(boss.get(console(srv, "settings")))["color"], "#00aa55",
         "the colour is unchanged")
    r = submit(boss, boss.get(console(srv, "settings")), "/settings/save",
               {"display_name": "", "timezone": "Asia/Tokyo"})
    t.ok(r.status_code == 200 and settings_form(r)["display_name"] == "" and "株式会社テスト"
         not in st.Browser(verify=srv.ca).get(srv.base() + "/login").text,
         "an emptied display name is removed")
    rj = boss.get(console(srv, "settings") + "?lang=ja")
    t.ok("ブランディング" in rj.text and "設定を保存" in rj.text, "the settings in Japanese")
    boss.get(console(srv) + "?lang=en")


def part_pages(srv, boss):
    for page in ("rules", "rules/test", "rule?name=office", "keys", "audit", "certs",
                 "settings"):
        r = boss.get(console(srv, page))
        csp = r.headers.get("Content-Security-Policy", "")
        t.ok(r.status_code == 200 and "<script" not in r.text and "style=" not in r.text and
             r.headers.get("Cache-Control") == "no-store" and "unsafe-inline" not in csp,
             "%s: no inline script or style, no-store, strict CSP" % page)
        ids = set(re.findall(r'<input[^>]+id="([^"]+)"', r.text)) | set(
            re.findall(r'<select[^>]+id="([^"]+)"', r.text))
        labelled = set(re.findall(r'<label for="([^"]+)"', r.text))
        t.ok(ids <= labelled, "%s: a label for every input" % page, ids - labelled)


def part_csrf(srv, boss):
    lst = policies(srv)
    r = boss.post(console(srv, "rules/add"), {"name": "nocsrf", "effect": "deny"})
    t.eq(r.status_code, 400, "a POST without a CSRF token: 400")
    t.eq(policies(srv), lst, "nothing changed")


def part_helpdesk(srv):
    hd = login(srv, "helper")
    for page in ("rules", "rules/test", "rule?name=office", "keys", "settings"):
        t.eq(hd.get(console(srv, page)).status_code, 403, "helpdesk: 403 for %s" % page)
    t.ok('/admin/rules"' not in hd.get(console(srv)).text, "helpdesk: no link to the rules")
    csrf = csrf_of(hd, srv)
    lst = policies(srv)
    forged = [("rules/add", {"name": "hdrule", "effect": "allow"}),
              ("rule/edit", {"name": "office", "effect": "allow"}),
              ("rule/move", {"name": "office", "before": ""}),
              ("rule/delete", {"name": "office"}),
              ("keys/add", {"name": "hdkey", "read": "1"}),
              ("certs/issue", {"user": "helper", "label": "x", "password": P12_PW}),
              ("settings/save", {"timezone": "UTC", "display_name": "evil"})]
    for path, data in forged:
        r = hd.post(console(srv, path), dict(data, csrf=csrf))
        t.eq(r.status_code, 403, "helpdesk: forged POST %s refused (403)" % path)
    t.eq(policies(srv), lst, "nothing changed")
    t.eq(keys(srv), [], "no key was made")
    t.eq(hd.get(console(srv, "audit")).status_code, 200, "helpdesk reads the audit trail")
    r = hd.get(console(srv, "certs"))
    t.ok(r.status_code == 200 and not has_form(r, "/certs/issue"),
         "helpdesk sees the certificates, without the issue form")
    t.ok("helper" not in cert_list(srv), "no certificate was issued")
    t.ok("timezone=Asia/Tokyo" in policies(srv), "the settings are unchanged")
    return hd


def main():
    tmp = tempfile.mkdtemp(prefix="sekisho-crules-")
    clock = Clock(os.path.join(tmp, "clock"))
    srv = st.Server(env=st.faketime_env(clock.path))
    try:
        for name, role in (("boss", "admin"), ("helper", "helpdesk"), ("taro", None)):
            srv.add_user(name, PW)
            if role:
                srv.cli("user", "set", name, "--role", role)
        srv.cli("group", "add", "staff")
        srv.cli("app", "add-oidc", "crm", "--redirect-uri", "https://crm.example.jp/cb")
        boss = login(srv, "boss")
        t.run("rules and the simulator", part_rules, srv, boss)
        t.run("API keys", part_keys, srv, boss)
        t.run("audit trail", part_audit, srv, boss)
        t.run("device certificates", part_certs, srv, boss)
        t.run("tenant settings", part_settings, srv, boss)
        t.run("pages", part_pages, srv, boss)
        t.run("CSRF", part_csrf, srv, boss)
        t.run("helpdesk", part_helpdesk, srv)
        t.run("recent proof for rules", part_rules_reauth, srv, boss, clock)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
