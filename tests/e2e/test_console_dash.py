#!/usr/bin/python3
"""End to end: the console's dashboard.

Sign-ins and refusals made through the real login page show up on the console's home page
with the numbers the audit trail holds (today's row of the table, the 30-day totals,
refusals by reason, active users), and they agree with the admin API's GET stats.  The two
charts are inline SVG with role="img", a <title> and a <desc>; no script.  The console's
times (audit, a user's sessions) are in the tenant's time zone.  A helpdesk user
(who may read the audit trail) sees the dashboard too; a plain user gets 403 for the
console, and the dashboard is never shown without a session.
"""
import collections
import datetime
import json
import re
import zoneinfo

import api_common
import sekisho_test as st

t = st.Tap()
PW = "Dashboard-Passw0rd-2026!"


def login(srv, user, password=PW):
    b = st.Browser(verify=srv.ca)
    r = b.submit_login(b.get(srv.base() + "/login"), user, password)
    return b, r


def today_counts(srv):
    """login.ok and login.fail records of today (Tokyo) in the audit trail."""
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Tokyo")).date()
    n = collections.Counter()
    for line in srv.cli("audit", "--json").stdout.splitlines():
        o = json.loads(line)
        when = datetime.datetime.fromisoformat(o["time"].replace("Z", "+00:00"))
        if when.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo")).date() == today:
            n[o["event"]] += 1
    return today.isoformat(), n


def setup(srv):
    for name in ("boss", "desk", "alice", "bob", "plain"):
        srv.add_user(name, PW)
    srv.cli("user", "set", "boss", "--role", "admin")
    srv.cli("user", "set", "desk", "--role", "helpdesk")
    for user in ("alice", "bob", "alice"):
        login(srv, user)
    for _ in range(3):
        login(srv, "alice", "wrong-password")
    srv.cli("policy", "add", "no-bob", "--effect", "deny", "--user", "bob")
    login(srv, "bob")


def numbers(srv, key):
    b, _ = login(srv, "boss")
    page = b.get(srv.base() + "/admin")
    t.eq(page.status_code, 200, "the admin's console home page")
    day, n = today_counts(srv)
    row = re.search(r"<tr><td>%s</td><td>(\d+)</td><td>(\d+)</td></tr>" % day, page.text)
    t.ok(row is not None, "today's row in the table of days", page.text[-3000:])
    refusals = n["login.fail"] + n["access.deny"]
    t.eq((int(row.group(1)), int(row.group(2))) if row else None,
         (n["login.ok"], refusals),
         "today: the sign-ins and refusals the audit trail holds (%d, %d)" % (
             n["login.ok"], refusals))
    api = api_common.ApiClient(srv, "default", [key])
    stats = api.call("GET", "stats").body
    dd = re.findall(r"<dd>(\d+)</dd>", page.text)
    t.eq([int(x) for x in dd[:3]],
         [stats["active_users"], stats["logins"], stats["refusals"]],
         "active users and 30-day totals are GET stats' numbers")
    t.ok(stats["active_users"] >= 3, "alice, bob and boss are active", stats)
    t.ok(re.search(r"<td>login\.fail</td><td>[^<]*</td><td>3</td>", page.text) is not None,
         "refusals by reason: the three wrong passwords")
    t.ok(re.search(r"<td>access\.deny</td><td>[^<]*</td><td>1</td>", page.text) is not None,
         "and the rule's refusal")
    return page


def charts(page):
    svgs = re.findall(r"<svg\b.*?</svg>", page.text, re.S)
    t.eq(len(svgs), 2, "two charts, drawn as inline SVG")
    for svg in svgs:
        t.ok('role="img"' in svg and "<title" in svg and "<desc" in svg,
             "a chart has role=img, a title and a description")
        t.ok("<script" not in svg.lower() and not re.search(r"\son[a-z]+=", svg),
             "and no script or event attribute")
    csp = page.headers.get("Content-Security-Policy", "")
    t.ok("unsafe-inline" not in csp and "frame-ancestors 'none'" in csp,
         "the page's CSP has no unsafe-inline", csp)


def who_sees_it(srv):
    b, _ = login(srv, "desk")
    r = b.get(srv.base() + "/admin")
    t.ok(r.status_code == 200 and 'class="dash"' in r.text,
         "a helpdesk user (who reads the audit trail) sees the dashboard")
    b, _ = login(srv, "plain")
    r = b.get(srv.base() + "/admin")
    t.ok(r.status_code == 403 and 'class="dash"' not in r.text,
         "a plain user gets 403 and no numbers")
    r = st.Browser(verify=srv.ca).get(srv.base() + "/admin")
    t.ok('class="dash"' not in r.text and "/login" in r.url,
         "without a session: the login page, no numbers")


def local_times(srv):
    """The console's pages show times in the tenant's time zone (Asia/Tokyo by default)."""
    b, _ = login(srv, "boss")
    for page in ("audit", "user?name=alice"):
        r = b.get(srv.base() + "/admin/" + page)
        t.ok(r.status_code == 200 and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC\+09:00",
                                                 r.text) is not None and
             not re.search(r"\d\d:\d\d:\d\dZ", r.text),
             "/admin/%s: times in the tenant's zone, not ISO UTC" % page)


def japanese(srv):
    b, _ = login(srv, "boss")
    r = b.get(srv.base() + "/admin?lang=ja")
    t.ok("ダッシュボード" in r.text and "日ごとのサインインと拒否" in r.text,
         "the dashboard in Japanese")


def main():
    srv = st.Server()
    try:
        setup(srv)
        key = api_common.make_key(srv, "default", "dash", "read")
        page = t.run("the numbers", numbers, srv, key)
        if page is not None:
            t.run("the charts", charts, page)
        t.run("who sees it", who_sees_it, srv)
        t.run("local times", local_times, srv)
        t.run("Japanese", japanese, srv)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
