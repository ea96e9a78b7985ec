#!/usr/bin/python3
"""The dashboard's numbers through the admin API (GET stats) against the audit records and
certificates the test makes.

sekishod and the sekisho commands run under libfaketime with a clock standing still at
the time written in a file (moved by the test), around local midnight in Tokyo (15:00
UTC), the default tenant's time zone.

- Logins through the login page: alice before midnight (ok, then a wrong password), bob
  and ALICE after it (ok), a wrong password, an unknown user and carol refused by a deny
  rule (access.deny): GET stats has them on
  the right local days, the totals, the refusals by reason and 2 active users, and those
  numbers equal what the audit records (`sekisho audit --json`) say per Tokyo day.
- A certificate issued 1800 days before (5 years of validity) is counted in the month it
  expires in; one issued now (beyond 12 months) is not; after its revocation it is gone.
- A key used 3999 times this month is not listed as near its quota; after its 4000th
  call (80 %) it is, with calls_this_month 4000 and percent 80.
- GET stats needs the read scope (403 for a write-only key); answers match the OpenAPI
  document (the client validates them).
"""
import datetime
import json
import os
import re
import subprocess
import time
import zoneinfo

import requests

import api_common as ac
import sekisho_test as st

t = st.Tap()
PW = "correct horse battery"
START = 1804688400          # 2027-03-10T14:20:00Z, 23:20 in Tokyo
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


class Env:
    def __init__(self):
        # started once at the real time: its TLS certificate must be valid for the client
        self.srv = st.Server()
        self.srv.stop()
        self.clock_file = os.path.join(self.srv.tmp, "clock")
        self.env = dict(st.faketime_env(self.clock_file), TZ="UTC")
        self.set(START)
        self.srv.env = self.env
        self.srv.start()

    def set(self, now):
        self.now = now
        with open(self.clock_file, "w") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S\n", time.gmtime(now)))

    def tick(self, seconds=1):
        self.set(self.now + seconds)

    def cli(self, *args, stdin=None):
        r = subprocess.run([st.SEKISHO, "--dir", self.srv.dir] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=120, env=self.env)
        if r.returncode != 0:
            raise RuntimeError("sekisho %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r.stdout

    def key(self, name, scopes):
        out = self.cli("apikey", "create", name, "--scope", scopes)
        return re.search(r"^api_key=(\S+)$", out, re.M).group(1)


def login(e, user, password):
    b = st.Browser(verify=e.srv.ca)
    r = b.get(e.srv.base() + "/login")
    return b.submit_login(r, user, password)


def logins(e):
    e.srv.add_user("alice", PW)
    e.srv.add_user("bob", PW)
    e.srv.add_user("carol", PW)
    e.set(START)
    t.eq(login(e, "alice", PW).status_code, 200, "alice signs in at 23:20 Tokyo")
    e.set(START + 600)
    t.eq(login(e, "alice", "wrong password").status_code, 401, "a wrong password at 23:30")
    e.set(START + 2400)         # 15:00:00Z: midnight in Tokyo
    t.eq(login(e, "bob", PW).status_code, 200, "bob signs in at midnight")
    e.set(START + 3000)
    t.eq(login(e, "bob", "wrong password").status_code, 401, "bob's wrong password")
    e.set(START + 3600)
    t.eq(login(e, "nobody", "wrong password").status_code, 401, "an unknown user")
    e.set(START + 4200)
    t.eq(login(e, "ALICE", PW).status_code, 200, "ALICE signs in after midnight")
    e.srv.cli("policy", "add", "nocarol", "--effect", "deny", "--user", "carol")
    e.set(START + 4800)
    t.ok(login(e, "carol", PW).status_code >= 400, "carol is refused by a rule")


def audit_days(e):
    """{Tokyo date: [logins, refusals]} and {(event, reason): n} from the audit records."""
    days, reasons = {}, {}
    for line in e.cli("audit", "--json").splitlines():
        o = json.loads(line)
        when = datetime.datetime.fromisoformat(o["time"].replace("Z", "+00:00"))
        day = when.astimezone(TOKYO).date().isoformat()
        if o["event"] == "login.ok":
            days.setdefault(day, [0, 0])[0] += 1
        elif o["event"] in ("login.fail", "access.deny", "access.mfa_missing"):
            days.setdefault(day, [0, 0])[1] += 1
            k = (o["event"], o.get("reason"))
            reasons[k] = reasons.get(k, 0) + 1
    return days, reasons


def stats(e, api, key):
    e.tick()
    return api.call("GET", "stats", key=key).body


def check_logins(e, api, key):
    s = stats(e, api, key)
    t.eq(s["timezone"], "Asia/Tokyo", "the tenant's time zone")
    t.eq(len(s["days"]), 30, "30 days")
    t.eq([s["days"][-2]["date"], s["days"][-1]["date"]], ["2027-03-10", "2027-03-11"],
         "the last two days are Tokyo's March 10 and 11")
    t.eq(s["days"][-1]["start"], "2027-03-10T15:00:00Z", "today starts at 15:00 UTC")
    t.eq([(d["logins"], d["refusals"]) for d in s["days"][-2:]], [(1, 1), (2, 3)],
         "March 10: 1 login, 1 refusal; March 11: 2 logins, 3 refusals")
    t.eq(sum(d["logins"] + d["refusals"] for d in s["days"][:-2]), 0, "nothing before")
    t.eq((s["logins"], s["refusals"], s["active_users"]), (3, 4, 2),
         "totals: 3 logins, 4 refusals, 2 active users (alice and ALICE are one)")
    t.eq([(r["event"], r.get("reason"), r["count"]) for r in s["refusal_reasons"]],
         [("login.fail", "bad_password", 2), ("access.deny", None, 1),
          ("login.fail", "unknown_user", 1)], "refusals by reason (access.deny has none)")
    days, reasons = audit_days(e)
    t.eq({d["date"]: [d["logins"], d["refusals"]] for d in s["days"]
          if d["logins"] or d["refusals"]}, days, "per day: as the audit records say")
    t.eq({(r["event"], r.get("reason")): r["count"] for r in s["refusal_reasons"]}, reasons,
         "by reason: as the audit records say")


def issue(e, user, at):
    csr = os.path.join(e.srv.tmp, user + ".csr")
    subprocess.run(["openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-keyout", csr + ".key", "-out", csr,
                    "-subj", "/CN=device"], check=True, capture_output=True)
    now = e.now
    e.set(at)
    try:
        out = e.cli("cert", "issue", user, "--label", "laptop", "--csr", csr,
                    "--out", csr + ".crt")
    finally:
        e.set(now)
    end = subprocess.run(["openssl", "x509", "-in", csr + ".crt", "-noout", "-enddate"],
                         check=True, capture_output=True, text=True).stdout
    end = datetime.datetime.strptime(end.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y GMT")
    end = end.replace(tzinfo=datetime.timezone.utc).astimezone(TOKYO)
    return re.search(r"^serial=([0-9A-F]+)$", out, re.M).group(1), end.strftime("%Y-%m")


def certificates(e, api, key):
    serial, month = issue(e, "alice", START - 1800 * 86400)
    issue(e, "bob", START)
    s = stats(e, api, key)
    months = [m["month"] for m in s["certificates_expiring"]]
    t.eq((len(months), months[0], months[-1]), (12, "2027-03", "2028-02"),
         "12 months from March 2027 (Tokyo)")
    t.ok(month in months, "the old certificate expires within them (%s)" % month)
    t.eq({m["month"]: m["expiring"] for m in s["certificates_expiring"] if m["expiring"]},
         {month: 1}, "one certificate expiring, in that month; the new one is beyond")
    e.cli("cert", "revoke", serial)
    s = stats(e, api, key)
    t.eq(sum(m["expiring"] for m in s["certificates_expiring"]), 0, "revoked: not counted")


def quota(e, api, key):
    busy = e.key("busy", "read")
    sess = requests.Session()
    sess.trust_env = False
    h = {"Authorization": "Bearer " + busy}
    bad = 0
    for _ in range(3999):
        e.tick()
        r = sess.get(api.base + "apikeys/busy", headers=h, timeout=60, verify=e.srv.ca)
        bad += r.status_code != 200
        if bad:
            break
    t.eq(bad, 0, "3999 calls a second apart")
    s = stats(e, api, key)
    t.eq([k["name"] for k in s["keys_near_quota"]], [], "3999 calls: not near the quota")
    e.tick()
    sess.get(api.base + "apikeys/busy", headers=h, timeout=60, verify=e.srv.ca)
    s = stats(e, api, key)
    t.eq(s["keys_near_quota"], [{"name": "busy", "calls_this_month": 4000, "quota": 5000,
                                 "percent": 80, "state": "active"}],
         "4000 calls (80 %): listed")


def scope(e, api):
    writer = e.key("writer", "write")
    e.tick()
    api.call("GET", "stats", key=writer, expect=403)
    t.ok(True, "GET stats with a write-only key: 403")


def main():
    e = Env()
    try:
        api = ac.ApiClient(e.srv, "default", ["unused"])
        key = e.key("dash", "read")
        t.run("logins", logins, e)
        t.run("logins and refusals", check_logins, e, api, key)
        t.run("certificates", certificates, e, api, key)
        t.run("keys near their quota", quota, e, api, key)
        t.run("scope", scope, e, api)
    finally:
        e.srv.close()
    t.done()


main()
