#!/usr/bin/python3
"""End to end: the monthly report.

A month (November 2026) of audit data is made through the real flows on known days with
sekishod's clock moved by libfaketime: sign-ins through the login page, wrong passwords
and a rule's refusal, OIDC authorizations for two apps, admin API calls with two keys,
device certificates issued and revoked with the sekisho command.  Records just outside
the month in the tenant's zone (Asia/Tokyo: 23:30 on 31 October, 00:30 on 1 December) are
left out, one just inside (00:30 on 1 November, still 31 October in UTC) counts.
`sekisho report --month 2026-11` then gives exactly those numbers in its CSV files and in
report.html, in English and Japanese; report.html opens in headless Chromium without any
network request or script (a screenshot kept as a test artifact) and prints to a PDF.
The server writes the tenant's report of November itself once its clock reaches
1 December, once only (a restart writes nothing again), keeps the newest 13, audits it,
and `sekisho report --list` lists them; the tenant's admins download them from the console.
"""
import collections
import csv
import datetime
import html
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import zoneinfo

import access_common
import api_common
import sekisho_test as st

t = st.Tap()
PW = "Report-Passw0rd-2026!"
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
TENANT = "acme"
MONTH = "2026-11"


def at(day, hour=10, minute=0, month=11, year=2026):
    """The UTC instant of a local (Tokyo) time."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=TOKYO).timestamp()


class Clock:
    """sekishod's clock: an offset from the real time written to libfaketime's file."""

    def __init__(self, path):
        self.path = path

    def go(self, when):
        with open(self.path, "w") as f:
            f.write("%+d\n" % int(when - time.time()))


def cli_at(srv, when, *args, input=None):
    """The sekisho command run at a faked (UTC) time."""
    stamp = time.strftime("@%Y-%m-%d %H:%M:%S", time.gmtime(when))
    cmd = st.faketime(["-f", stamp]) + [st.SEKISHO, "--dir", srv.dir, "--tenant", TENANT] + list(args)
    r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, TZ="UTC"))
    if r.returncode != 0:
        raise RuntimeError("%s: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


class Expect:
    """What the month's report must say, counted as the flows are driven."""

    def __init__(self):
        self.days = {d: [0, 0, 0, 0] for d in range(1, 31)}   # logins refusals issued revoked
        self.users = set()
        self.apps = {}
        self.keys = {}

    def add(self, when, col, n=1):
        local = datetime.datetime.fromtimestamp(when, TOKYO)
        if (local.year, local.month) == (2026, 11):
            self.days[local.day][col] += n
            return True
        return False


def login(srv, user, password=PW):
    b = access_common.browser(srv, stop_at=("https://app.example/",))
    r = b.get(srv.base(TENANT) + "/login")
    return b, b.submit_login(r, user, password)


def sign_in(srv, clock, ex, when, user, password=PW):
    clock.go(when)
    b, r = login(srv, user, password)
    ok = password == PW
    if ex.add(when, 0 if ok else 1) and ok:
        ex.users.add(user)
    return b


def authorize(srv, b, ex, when, client_id, app):
    start = len(b.history)
    b.get(access_common.authorize_url(srv, client_id, "https://app.example/cb",
                                      tenant=TENANT))
    got = access_common.oidc_answers(b, start, "https://app.example/cb")
    if got and "code" in got[0] and ex.add(when, 0, 0):
        ex.apps[app] = ex.apps.get(app, 0) + 1
    return bool(got and "code" in got[0])


def generate(srv, clock, ex, tmp):
    """The month's events on known days; the clock stands at each day in turn."""
    for name in ("alice", "bob", "carol", "dave"):
        srv.add_user(name, PW, tenant=TENANT)
    srv.cli("user", "disable", "dave", tenant=TENANT)
    c1 = access_common.add_stub_client(srv_tenant(srv), "crm", "https://app.example/cb")
    c2 = access_common.add_stub_client(srv_tenant(srv), "wiki", "https://app.example/cb")
    srv.cli("policy", "add", "no-carol-wiki", "--effect", "deny", "--user", "carol",
            "--app", "wiki", tenant=TENANT)
    k1 = api_common.make_key(srv, TENANT, "hr-sync", "read")
    k2 = api_common.make_key(srv, TENANT, "audit-pull", "read")

    sign_in(srv, clock, ex, at(31, 23, 30, month=10), "alice")        # October in Tokyo
    sign_in(srv, clock, ex, at(1, 0, 30), "alice")                     # 31 Oct in UTC
    sign_in(srv, clock, ex, at(1, 9), "bob")
    for _ in range(2):
        sign_in(srv, clock, ex, at(10), "alice", "wrong-password")
    b = sign_in(srv, clock, ex, at(10, 11), "carol")
    t.ok(authorize(srv, b, ex, at(10, 11), c1, "crm"), "carol reaches crm")
    clock.go(at(10, 11, 5))
    start = len(b.history)
    b.get(access_common.authorize_url(srv, c2, "https://app.example/cb", tenant=TENANT))
    refused = access_common.oidc_answers(b, start, "https://app.example/cb")
    t.ok(refused and refused[0].get("error") == "access_denied", "the rule refuses wiki",
         refused)
    ex.add(at(10, 11, 5), 1)
    b = sign_in(srv, clock, ex, at(15, 14), "alice")
    for _ in range(2):
        authorize(srv, b, ex, at(15, 14), c1, "crm")
    authorize(srv, b, ex, at(15, 14), c2, "wiki")
    clock.go(at(15, 15))
    api = api_common.ApiClient(srv, TENANT, [k1])
    for _ in range(3):
        api.call("GET", "users")
    api_common.ApiClient(srv, TENANT, [k2]).call("GET", "audit")
    ex.keys = {"hr-sync": 3, "audit-pull": 1}
    certs(srv, ex, tmp)
    sign_in(srv, clock, ex, at(30, 23, 30), "bob")                    # 30 Nov, last hour
    sign_in(srv, clock, ex, at(1, 0, 30, month=12), "carol")          # December in Tokyo


def srv_tenant(srv):
    """srv as the helpers that take the default tenant see it, for tenant acme."""
    class View:
        dir = srv.dir

        def cli(self, *args, **kw):
            return srv.cli(*args, tenant=TENANT, **kw)
    return View()


def certs(srv, ex, tmp):
    """bob's certificate issued on the 12th and revoked on the 20th; carol's issued five
    years before December (it expires in December, the month after the report's)."""
    def issue(when, user):
        r = cli_at(srv, when, "cert", "issue", user, "--label", "laptop", "--out",
                   os.path.join(tmp, "%s-%d.p12" % (user, int(when))), "--password-stdin",
                   input="p12-password\n")
        ex.add(when, 2)
        return re.search(r"^serial=([0-9A-F]+)$", r.stdout, re.M).group(1)

    serial = issue(at(12), "bob")
    cli_at(srv, at(20), "cert", "revoke", serial)
    ex.add(at(20), 3)
    issue(at(10, month=12, year=2021), "carol")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def november_refusals(srv):
    """(event, reason, count) of the refusals the audit trail holds for November (Tokyo)."""
    n = collections.Counter()
    for line in srv.cli("audit", "--json", tenant=TENANT).stdout.splitlines():
        o = json.loads(line)
        when = datetime.datetime.fromisoformat(o["time"].replace("Z", "+00:00"))
        if when.astimezone(TOKYO).strftime("%Y-%m") == MONTH and \
                o["event"] in ("login.fail", "access.deny"):
            n[(o["event"], o.get("reason", ""))] += 1
    return sorted((e, r, str(c)) for (e, r), c in n.items())


def check_csv(out, ex):
    days = read_csv(os.path.join(out, "days.csv"))
    t.eq(days[0], ["date", "logins", "refusals", "certificates_issued",
                   "certificates_revoked"], "days.csv: its header")
    want = [["2026-11-%02d" % d] + [str(n) for n in ex.days[d]] for d in range(1, 31)]
    t.eq(days[1:], want, "days.csv: the sign-ins, refusals and certificates of each of the "
         "30 days, in Tokyo's calendar")
    reasons = read_csv(os.path.join(out, "refusals.csv"))
    t.eq(sorted(map(tuple, reasons[1:])), ex.reasons,
         "refusals.csv: two wrong passwords and the rule's refusal, as the audit trail "
         "holds them (%r)" % ex.reasons)
    apps = read_csv(os.path.join(out, "apps.csv"))
    t.eq(sorted(map(tuple, apps[1:])), sorted(("oidc", a, str(n))
                                              for a, n in ex.apps.items()),
         "apps.csv: single sign-ons per app (%r)" % ex.apps)
    keys = read_csv(os.path.join(out, "apikeys.csv"))
    t.eq(sorted(map(tuple, keys[1:])), sorted((k, str(n), "5000", "0")
                                              for k, n in ex.keys.items()),
         "apikeys.csv: each key's calls against the 5,000 quota")
    summary = dict(read_csv(os.path.join(out, "summary.csv"))[1:])
    t.eq({k: summary.get(k) for k in ("tenant", "month", "timezone", "logins", "refusals",
                                      "active_users", "seats_in_use", "seats",
                                      "certificates_issued", "certificates_revoked",
                                      "certificates_expiring_2026-12", "certificate_holders",
                                      "api_calls")},
         {"tenant": TENANT, "month": MONTH, "timezone": "Asia/Tokyo",
          "logins": str(sum(d[0] for d in ex.days.values())),
          "refusals": str(sum(d[1] for d in ex.days.values())),
          "active_users": str(len(ex.users)), "seats_in_use": "3", "seats": "unlicensed",
          "certificates_issued": "1", "certificates_revoked": "1",
          "certificates_expiring_2026-12": "1", "certificate_holders": "1",
          "api_calls": "4"},
         "summary.csv: totals, active users against seats (unlicensed), certificates")
    return summary


def check_html(out, lang, summary):
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        page = f.read()
    t.ok(("月次レポート" if lang == "ja" else "Monthly report") in page,
         "report.html (%s) is in its language" % lang)
    t.ok('<html lang="%s">' % lang in page, "and says so")
    t.eq(re.search(r'id="n-logins">(\d+)<', page).group(1), summary["logins"],
         "report.html (%s): the sign-ins of the CSV" % lang)
    t.eq(re.search(r'id="n-active">(\d+)<', page).group(1), summary["active_users"],
         "report.html (%s): the active users of the CSV" % lang)
    t.ok("ライセンス契約なし" in page if lang == "ja" else "unlicensed" in page,
         "report.html (%s): the tenant is unlicensed" % lang)
    t.eq(len(re.findall(r"<svg\b", page)), 6, "report.html (%s): six inline SVG charts" % lang)
    t.ok("<script" not in page.lower() and not re.search(r"\son[a-z]+=", page) and
         not re.search(r'(src|href)="(https?:)?//', page),
         "report.html (%s): no script, no event attribute, nothing fetched" % lang)


def report_cli(srv, tmp, ex):
    when = at(2, 12, month=12)
    ex.reasons = november_refusals(srv)
    t.ok(sum(int(c) for _, _, c in ex.reasons) == 3, "the audit trail holds November's "
         "three refusals", ex.reasons)
    for lang in ("en", "ja"):
        out = os.path.join(tmp, "report-" + lang)
        r = cli_at(srv, when, "report", "--month", MONTH, "--out", out, "--lang", lang)
        t.ok("written to" in r.stdout, "sekisho report --lang %s" % lang, r.stdout)
        summary = check_csv(out, ex) if lang == "en" else dict(
            read_csv(os.path.join(out, "summary.csv"))[1:])
        check_html(out, lang, summary)
    bad = srv.cli("report", "--month", "2026-13", "--out", os.path.join(tmp, "x"),
                  tenant=TENANT, check=False)
    t.ok(bad.returncode == 2 and "not a month" in bad.stderr and
         not os.path.exists(os.path.join(tmp, "x")), "a bad month: usage error, nothing "
         "written", bad.stderr)
    bad = srv.cli("report", "--month", MONTH, "--out", os.path.join(tmp, "x"),
                  tenant="nosuch", check=False)
    t.ok(bad.returncode != 0 and not os.path.exists(os.path.join(tmp, "x")),
         "an unknown tenant: refused, nothing written", bad.stderr)


def browser(tmp):
    out = st.artifacts("report")
    cfg = {"spki": "", "artifacts": out, "reports": [
        {"lang": lang, "html": os.path.join(tmp, "report-" + lang, "report.html")}
        for lang in ("en", "ja")]}
    st.browser_script(t, "report.mjs", cfg, tmp)
    for lang in ("en", "ja"):
        with open(os.path.join(out, "report-%s.pdf" % lang), "rb") as f:
            pdf = f.read()
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        t.ok(pdf.startswith(b"%PDF") and pages >= 1,
             "report-%s.pdf is a PDF of %d pages, kept in %s" % (lang, pages, out))


def wait_for(path, srv):
    for _ in range(600):
        if os.path.isdir(path):
            return True
        if srv.proc is None or srv.proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def server_writes(srv, clock, tmp):
    reports = os.path.join(srv.dir, "reports", TENANT)
    t.eq(sorted(os.listdir(reports)), ["2026-10"], "started on 1 November, the server wrote "
         "October's report (acme was made on 20 October)")
    old = ["%04d-%02d" % (y, m) for y, m in
           [(2025, m) for m in range(9, 13)] + [(2026, m) for m in range(1, 10)]]
    for m in old:                        # 13 reports of earlier months beside October's
        os.makedirs(os.path.join(reports, m))
        with open(os.path.join(reports, m, "summary.csv"), "w") as f:
            f.write("item,value\r\n")
    srv.stop()
    clock.go(at(1, 0, 5, month=12))
    srv.start()
    nov = os.path.join(reports, MONTH)
    t.ok(wait_for(nov, srv), "on 1 December the server writes November's report",
         srv.log()[-2000:])
    kept = sorted(os.listdir(reports))
    old.append("2026-10")
    t.eq(kept, old[2:] + [MONTH], "the newest 13 are kept: 2025-09 and 2025-10 removed")
    t.eq(sorted(os.listdir(nov)), ["apikeys.csv", "apps.csv", "days.csv", "refusals.csv",
                                   "report.html", "summary.csv"],
         "report.html and the CSV files, nothing half-written beside them")
    with open(os.path.join(nov, "report.html"), encoding="utf-8") as f:
        t.ok("月次レポート" in f.read(), "in Japanese (report_lang's default)")
    with open(os.path.join(tmp, "report-en", "days.csv"), encoding="utf-8") as a, \
            open(os.path.join(nov, "days.csv"), encoding="utf-8") as b:
        t.eq(b.read(), a.read(), "the server's days.csv is the command's")
    t.ok(not os.path.exists(os.path.join(srv.dir, "reports", "default")),
         "no report for a tenant made after November (default)")
    stamp = os.stat(os.path.join(nov, "days.csv")).st_mtime_ns
    srv.stop()
    # beta, made in October too, is due: its report shows the restarted server looked
    cli_at(srv, at(20, month=10), "tenant", "add", "beta")
    srv.start()
    t.ok(wait_for(os.path.join(srv.dir, "reports", "beta", MONTH), srv),
         "after a restart the server writes beta's report", srv.log()[-2000:])
    writes = [f for e, f in srv.audit(tenant=TENANT) if e == "report.write"]
    t.ok(len([f for f in writes if "month=2026-11" in f]) == 1 and len(writes) == 2,
         "report.write audited once for November (and once for October), naming the "
         "month", writes)
    t.eq(os.stat(os.path.join(nov, "days.csv")).st_mtime_ns, stamp,
         "a restart writes nothing again")
    listed = srv.cli("report", "--list").stdout.splitlines()
    t.eq([ln.split("\t")[:2] for ln in listed],
         [[TENANT, m] for m in old[2:] + [MONTH]] + [["beta", MONTH]],
         "sekisho report --list: tenant and month of each report kept")


def console(srv):
    """The reports page of acme's console for an admin: acme's months, newest first, each
    file a download equal to the file kept; nothing outside the report's files; a plain
    user gets 403."""
    srv.cli("user", "set", "alice", "--role", "admin", tenant=TENANT)
    b, _ = login(srv, "alice")
    r = b.get(srv.base(TENANT) + "/admin/reports")
    kept = sorted(os.listdir(os.path.join(srv.dir, "reports", TENANT)), reverse=True)
    t.eq(re.findall(r'data-month="([0-9-]+)"', r.text), kept,
         "the console lists acme's reports, newest first")
    link = re.search(r'href="([^"]+name=report\.html)"', r.text)
    t.ok(link is not None, "with a link to each report.html")
    got = b.get(urllib.parse.urljoin(r.url, html.unescape(link.group(1))))
    with open(os.path.join(srv.dir, "reports", TENANT, kept[0], "report.html"), "rb") as f:
        t.ok(got.status_code == 200 and got.content == f.read() and
             got.headers.get("Content-Disposition", "").startswith("attachment;"),
             "report.html downloads as it was written", got.headers)
    for q in ("month=2026-11&name=../../../sekishod.conf", "month=../..&name=report.html",
              "month=2026-11&name=report.html/", "month=2027-01&name=report.html"):
        got = b.get(srv.base(TENANT) + "/admin/reports/file?" + q)
        t.ok(got.status_code == 404 and "[general]" not in got.text and
             "sekisho" not in got.headers.get("Content-Disposition", ""),
             "reports/file?%s: 404, nothing served" % q)
    b, _ = login(srv, "bob")
    got = b.get(srv.base(TENANT) + "/admin/reports")
    t.ok(got.status_code == 403 and "data-month" not in got.text,
         "a plain user gets 403 for the reports")


def main():
    tmp = st.tempfile.mkdtemp(prefix="sekisho-report-")
    clock = Clock(os.path.join(tmp, "clock"))
    env = dict(st.faketime_env(clock.path), TZ="UTC")
    srv = st.Server(env=env, start=False)
    try:
        cli_at(srv, at(20, month=10), "tenant", "add", TENANT)
        clock.go(at(1, 0, 10))
        srv.start()
        ex = Expect()
        t.run("a month of events", generate, srv, clock, ex, tmp)
        t.run("sekisho report", report_cli, srv, tmp, ex)
        t.run("in a browser", browser, tmp)
        t.run("written by the server", server_writes, srv, clock, tmp)
        t.run("in the console", console, srv)
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
