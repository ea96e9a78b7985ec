"""Access control on the command line alone (issue 9): `policy add/list/remove/move/test`,
`app assign/unassign/show/set` with icons, `tenant set` and `user set --break-glass`.
Every command's output; every refusal names the bad part, exits 1 (2 for usage) and
changes nothing; ordering after --before and move; `policy test` decisions for a table of
requests (days and hours in Asia/Tokyo across midnight, report-only, break-glass,
assignments, the device-required shorthand, the tenant default); the audit records."""
import os
import struct
import sys
import zlib

import sekisho_test as st

sys.path.insert(0, st.PEERS)
import samlforge as sf  # noqa: E402

t = st.Tap()


def policies(srv):
    return srv.cli("policy", "list").stdout


def audit_events(srv, prefix):
    out = srv.cli("audit", "--event", prefix + "*").stdout
    return [line.split("\t", 3) for line in out.splitlines()]


def refused(srv, args, status, part, what, before_fn):
    """args must fail with status and a message containing part, changing nothing."""
    before = before_fn()
    r = srv.cli(*args, check=False)
    t.ok(r.returncode == status and part in r.stderr and r.stderr.startswith("sekisho: "),
         "%s: exit %d naming %r" % (what, status, part), "%d %r" % (r.returncode, r.stderr))
    t.eq(before_fn(), before, "%s changes nothing" % what)


def setup(srv):
    for u in ("alice", "bob", "carol", "dave", "erin"):
        srv.add_user(u, u + "-password-1")
    for g, members in (("staff", ("alice",)), ("hr", ("erin",))):
        srv.cli("group", "add", g)
        for m in members:
            srv.cli("group", "add-member", g, m)
    for a in ("crm", "wiki"):
        srv.cli("app", "add-oidc", a, "--redirect-uri", "https://%s.example/cb" % a)
    md = os.path.join(srv.tmp, "payroll.xml")
    with open(md, "w") as f:
        f.write(sf.sp_metadata("https://payroll.example/sp", ["https://payroll.example/acs"],
                               "https://payroll.example/slo"))
    srv.cli("app", "add-saml", "payroll", "--metadata", md)


# ---- tenant set ----

def tenant_settings(srv):
    first = lambda: policies(srv).splitlines()[0]  # noqa: E731
    t.eq(first(), "default=allow timezone=Asia/Tokyo", "policy list starts with the defaults")
    r = srv.cli("tenant", "set", "default", "--timezone", "UTC", "--default", "deny")
    t.eq(r.stdout, "tenant default timezone=UTC default=deny\n", "tenant set prints the settings")
    t.eq(first(), "default=deny timezone=UTC", "policy list shows the new settings")
    refused(srv, ("tenant", "set", "default", "--timezone", "Mars/Base"), 1,
            "--timezone Mars/Base: unknown time zone", "tenant set to an unknown zone", first)
    refused(srv, ("tenant", "set", "default", "--default", "maybe"), 2, "--default",
            "tenant set --default maybe", first)
    refused(srv, ("tenant", "set", "default"), 2, "--timezone, --default",
            "tenant set without a setting", first)
    refused(srv, ("tenant", "set", "nosuch", "--default", "allow"), 1, "no such tenant",
            "tenant set of an unknown tenant", first)
    r = srv.cli("tenant", "set", "default", "--timezone", "Asia/Tokyo", "--default", "allow")
    t.eq(r.stdout, "tenant default timezone=Asia/Tokyo default=allow\n", "tenant set back")
    recs = audit_events(srv, "admin.tenant.set")
    t.ok(len(recs) == 2 and "timezone=UTC" in recs[0][3] and "default=deny" in recs[0][3],
         "admin.tenant.set audited for each change and not for refusals", recs)


# ---- policy add, list, move, remove ----

def rule_lines(srv):
    return [line for line in policies(srv).splitlines()[1:] if line[:1].isdigit()]


def add_list_move(srv):
    def add(name, *args):
        return srv.cli("policy", "add", name, *args).stdout

    t.eq(add("r1", "--effect", "allow", "--group", "staff", "--from", "10.0.0.0/8"),
         "policy r1 added at position 1\n", "policy add prints the position")
    t.eq(add("r2", "--effect", "deny", "--app", "payroll", "--not-from", "10.0.0.0/8",
             "--not-from", "192.168.1.1", "--not-from", "2001:db8::/32"),
         "policy r2 added at position 2\n", "a second rule goes to the end")
    t.eq(add("r0", "--effect", "mfa", "--app", "payroll", "--app", "crm", "--before", "r1"),
         "policy r0 added at position 1\n", "add --before puts the rule in front")
    t.eq(add("r3", "--effect", "device", "--user", "bob", "--user", "alice", "--days",
             "fri,mon,mon", "--hours", "22:00-06:00", "--report-only"),
         "policy r3 added at position 4\n", "a rule with days, hours, report-only")
    want = ["1\tr0\teffect=mfa apps=payroll,crm",
            "2\tr1\teffect=allow groups=staff from=10.0.0.0/8",
            "3\tr2\teffect=deny apps=payroll not-from=10.0.0.0/8,192.168.1.1/32,2001:db8::/32",
            "4\tr3\teffect=device users=bob,alice days=mon,fri hours=22:00-06:00 report-only"]
    t.eq(rule_lines(srv), want, "policy list: canonical networks and days, in order")
    t.eq(srv.cli("policy", "move", "r3", "--before", "r0").stdout,
         "policy r3 moved to position 1\n", "policy move prints the new position")
    t.eq([line.split("\t")[1] for line in rule_lines(srv)], ["r3", "r0", "r1", "r2"],
         "the order after move")
    t.eq(srv.cli("policy", "move", "r0", "--before", "r2").stdout,
         "policy r0 moved to position 3\n", "moving down counts the position after the move")
    t.eq([line.split("\t")[1] for line in rule_lines(srv)], ["r3", "r1", "r0", "r2"],
         "the order after moving down")
    t.eq(srv.cli("policy", "remove", "r3").stdout, "policy r3 removed\n", "policy remove")
    t.eq([line.split("\t")[1] for line in rule_lines(srv)], ["r1", "r0", "r2"],
         "the rule is gone")
    srv.cli("policy", "set", "--app", "crm", "device-required", "on")
    t.ok("app:crm\tdevice_required\ton" in policies(srv).splitlines(),
         "policy list ends with the device-required settings as before")
    srv.cli("policy", "set", "--app", "crm", "device-required", "inherit")
    adds = audit_events(srv, "admin.policy.add")
    t.ok(len(adds) == 4 and "rule=r2" in adds[1][3] and "after=" in adds[1][3] and
         "not-from=10.0.0.0/8" in adds[1][3], "admin.policy.add has the rule after", adds)
    rem = audit_events(srv, "admin.policy.remove")
    t.ok(len(rem) == 1 and "rule=r3" in rem[0][3] and "before=" in rem[0][3] and
         "report-only" in rem[0][3], "admin.policy.remove has the rule before", rem)
    t.eq(len(audit_events(srv, "admin.policy.move")), 2, "admin.policy.move audited")


def refusals(srv):
    lst = lambda: policies(srv)  # noqa: E731
    n_audit = lambda: len(audit_events(srv, "admin.policy."))  # noqa: E731
    before_audit = n_audit()
    cases = [
        (["x1", "--effect", "deny", "--from", "10.0.0.300/8"], 1,
         "--from 10.0.0.300/8: not an address", "bad CIDR"),
        (["x1", "--effect", "deny", "--from", "10.1.2.3/8"], 1,
         "--from 10.1.2.3/8: host bits set, did you mean 10.0.0.0/8?", "host bits"),
        (["x1", "--effect", "deny", "--not-from", "10.0.0.0/33"], 1,
         "--not-from 10.0.0.0/33", "prefix too long"),
        (["x1", "--effect", "deny", "--hours", "25:00-18:00"], 1,
         "--hours 25:00-18:00: hour 25 is out of range", "25:00"),
        (["x1", "--effect", "deny", "--hours", "09:00-09:00"], 1,
         "--hours 09:00-09:00", "empty hour range"),
        (["x1", "--effect", "deny", "--hours", "9-18"], 1, "--hours 9-18", "hours shape"),
        (["x1", "--effect", "deny", "--days", "mon,fun"], 1,
         "--days mon,fun: unknown day \"fun\"", "unknown day"),
        (["x1", "--effect", "deny", "--user", "alice", "--user", "nobody"], 1,
         "no such user nobody", "unknown user"),
        (["x1", "--effect", "deny", "--group", "nogroup"], 1, "no such group nogroup",
         "unknown group"),
        (["x1", "--effect", "deny", "--app", "noapp"], 1, "no such app noapp", "unknown app"),
        (["r1", "--effect", "deny"], 1, "r1", "duplicate rule name"),
        (["x1", "--effect", "deny", "--before", "nothere"], 1, "nothere",
         "add before an unknown rule"),
        (["bad name!", "--effect", "deny"], 1, "bad name!", "bad rule name"),
        (["default", "--effect", "deny"], 1, "default", "reserved rule name"),
        (["x1", "--effect", "maybe"], 2, "--effect", "unknown effect"),
        (["x1"], 2, "--effect", "no effect"),
    ]
    for args, status, part, what in cases:
        refused(srv, ["policy", "add"] + args, status, part, "policy add: " + what, lst)
    refused(srv, ("policy", "move", "r1", "--before", "nothere"), 1, "nothere",
            "move before an unknown rule", lst)
    refused(srv, ("policy", "move", "nosuch", "--before", "r1"), 1, "nosuch",
            "move of an unknown rule", lst)
    refused(srv, ("policy", "move", "r1"), 2, "--before", "move without --before", lst)
    refused(srv, ("policy", "remove", "nosuch"), 1, "nosuch", "remove of an unknown rule",
            lst)
    t.eq(n_audit(), before_audit, "refusals write no admin.policy audit record")


# ---- policy test ----

def decision(srv, *args):
    r = srv.cli("policy", "test", *args, check=False)
    if r.returncode != 0:
        return {"exit": r.returncode, "err": r.stderr}
    head, _, words = r.stdout.partition("\n\n")
    d = {"words": words}
    for line in head.splitlines():
        k, _, v = line.partition("=")
        d.setdefault(k, []).append(v)
    return d


WEEKDAY = "2026-04-06T12:00:00+09:00"   # Monday noon in Tokyo


def decision_table(srv):
    for name in ("r0", "r1", "r2"):
        srv.cli("policy", "remove", name)
    srv.cli("app", "assign", "payroll", "--group", "hr")
    srv.cli("user", "set", "carol", "--break-glass", "on")
    rules = [("office", "deny", "--app", "crm", "--not-from", "10.0.0.0/8",
              "--not-from", "2001:db8::/32"),
             ("staff-allow", "allow", "--group", "staff", "--from", "192.0.2.0/24"),
             ("wiki-mfa", "mfa", "--app", "wiki"),
             ("wiki-device", "device", "--app", "wiki", "--not-from", "10.0.0.0/8"),
             ("night", "deny", "--days", "sat,sun", "--hours", "22:00-06:00"),
             ("watch-dave", "deny", "--user", "dave", "--report-only"),
             ("deny-carol", "deny", "--user", "carol")]
    for name, effect, *rest in rules:
        srv.cli("policy", "add", name, "--effect", effect, *rest)
    # user, app, ip, at, flags -> decision, rule, requires, missing, extra lines
    cases = [
        ("alice", "crm", "10.1.2.3", WEEKDAY, (), "allow", "default", "", "", {}),
        ("alice", "crm", "203.0.113.5", WEEKDAY, (), "deny", "office", "", "", {}),
        ("alice", "crm", "192.0.2.7", WEEKDAY, (), "deny", "office", "", "",
         {}),  # the first deciding rule wins over a later allow
        ("alice", "crm", "2001:db8::5", WEEKDAY, (), "allow", "default", "", "", {}),
        ("alice", "crm", "2001:db9::5", WEEKDAY, (), "deny", "office", "", "", {}),
        ("alice", "wiki", "192.0.2.7", WEEKDAY, (), "allow", "staff-allow", "", "", {}),
        ("bob", "wiki", "10.0.0.1", WEEKDAY, (), "allow", "default", "mfa", "mfa", {}),
        ("bob", "wiki", "10.0.0.1", WEEKDAY, ("--mfa",), "allow", "default", "mfa", "", {}),
        ("bob", "wiki", "203.0.113.9", WEEKDAY, ("--device",), "allow", "default",
         "device,mfa", "mfa", {}),
        ("bob", "wiki", "203.0.113.9", WEEKDAY, ("--device", "--mfa"), "allow", "default",
         "device,mfa", "", {}),
        ("bob", None, "203.0.113.9", "2026-04-11T23:00:00+09:00", (), "deny", "night", "",
         "", {}),   # Saturday 23:00 in Tokyo
        ("bob", None, "203.0.113.9", "2026-04-11T14:00:00Z", (), "deny", "night", "", "",
         {}),       # the same instant in UTC
        ("bob", None, "203.0.113.9", "2026-04-11T21:59:00+09:00", (), "allow", "default",
         "", "", {}),
        ("bob", None, "203.0.113.9", "2026-04-10T23:00:00+09:00", (), "allow", "default",
         "", "", {}),  # Friday night
        ("bob", None, "203.0.113.9", "2026-04-12T01:00:00+09:00", (), "deny", "night", "",
         "", {}),      # Sunday 01:00
        ("bob", None, "203.0.113.9", "2026-04-13T01:00:00+09:00", (), "allow", "default",
         "", "", {}),  # Monday 01:00: the minute's own day, after a week boundary
        ("bob", None, "203.0.113.9", "2026-04-12T15:30:00Z", (), "allow", "default", "",
         "", {}),      # Monday 00:30 in Tokyo, still Sunday in UTC
        ("dave", "crm", "10.0.0.5", WEEKDAY, (), "allow", "default", "", "",
         {"report": ["watch-dave:deny"]}),
        ("carol", "crm", "10.0.0.5", WEEKDAY, (), "allow", "default", "", "",
         {"break_glass": ["deny-carol"]}),
        ("carol", "wiki", "10.0.0.5", WEEKDAY, (), "allow", "default", "", "",
         {"break_glass": ["wiki-mfa"]}),
        ("alice", "payroll", "10.0.0.1", WEEKDAY, (), "deny", "not-assigned", "", "", {}),
        ("erin", "payroll", "10.0.0.1", WEEKDAY, (), "allow", "default", "", "", {}),
        ("carol", "payroll", "10.0.0.1", WEEKDAY, (), "deny", "not-assigned", "", "", {}),
    ]
    for user, app, ip, at, flags, dec, rule, req, miss, extra in cases:
        args = ["--user", user, "--ip", ip, "--at", at] + (["--app", app] if app else [])
        d = decision(srv, *(args + list(flags)))
        what = "policy test %s %s %s %s %s" % (user, app or "(portal)", ip, at, " ".join(flags))
        got = (d.get("decision"), d.get("rule"), d.get("requires"), d.get("missing"))
        t.eq(got, ([dec], [rule], [req], [miss]), what)
        for k, v in extra.items():
            t.eq(d.get(k), v, what + ": " + k)
        if not extra:
            t.ok("report" not in d and "break_glass" not in d, what + ": nothing else", d)
        t.ok(d.get("words", "").strip() != "", what + ": explained in words")
    shorthand_and_default(srv)
    test_errors(srv)


def shorthand_and_default(srv):
    srv.cli("policy", "set", "--app", "crm", "device-required", "on")
    d = decision(srv, "--user", "alice", "--app", "crm", "--ip", "10.1.2.3", "--at", WEEKDAY)
    t.eq((d.get("decision"), d.get("requires"), d.get("missing")),
         (["allow"], ["device"], ["device"]), "the device-required shorthand requires a device")
    srv.cli("policy", "set", "--app", "crm", "device-required", "inherit")
    srv.cli("tenant", "set", "default", "--default", "deny")
    d = decision(srv, "--user", "bob", "--ip", "10.0.0.1", "--at", WEEKDAY)
    t.eq((d.get("decision"), d.get("rule")), (["deny"], ["default"]), "tenant default deny")
    d = decision(srv, "--user", "carol", "--ip", "10.0.0.1", "--at", WEEKDAY)
    t.eq((d.get("decision"), d.get("rule"), d.get("break_glass")),
         (["allow"], ["default"], ["deny-carol"]),
         "break-glass passes a deny rule and the default deny (the first one is named)")
    srv.cli("policy", "remove", "deny-carol")
    d = decision(srv, "--user", "carol", "--ip", "10.0.0.1", "--at", WEEKDAY)
    t.eq((d.get("decision"), d.get("rule"), d.get("break_glass")),
         (["allow"], ["default"], ["default"]), "break-glass passes the default deny")
    srv.cli("tenant", "set", "default", "--default", "allow")


def test_errors(srv):
    base = ["policy", "test"]
    ip = ["--ip", "10.0.0.1"]
    cases = [(["--user", "zed"] + ip, 1, "no such user zed"),
             (["--user", "alice", "--app", "zzz"] + ip, 1, "no such app zzz"),
             (["--user", "alice", "--ip", "10.0.0.300"], 1, "--ip 10.0.0.300: not an address"),
             (["--user", "alice", "--at", "2026-04-06 12:00"] + ip, 1,
              "--at 2026-04-06 12:00"),
             (["--user", "alice", "--at", "2026-04-06T12:00:00+0900"] + ip, 1, "--at"),
             (["--app", "crm"] + ip, 2, "--user"),
             (["--user", "alice"], 2, "--ip")]
    for extra, status, part in cases:
        r = srv.cli(*(base + extra), check=False)
        t.ok(r.returncode == status and part in r.stderr and not r.stdout,
             "policy test %s: exit %d naming %r" % (" ".join(extra), status, part),
             "%d %r" % (r.returncode, r.stderr))


# ---- apps ----

def show(srv, app):
    return srv.cli("app", "show", app).stdout.splitlines()


def assignments(srv):
    out = show(srv, "crm")
    t.ok(out[:3] == ["name=crm", "type=oidc", out[2]] and out[2].startswith("id=") and
         out[3].startswith("client_id=") and "display_name=" in out and "description=" in out
         and "icon=" in out and out[-1] == "assigned=everyone",
         "app show: the settings, and assigned=everyone without assignments", out)
    p = show(srv, "payroll")
    t.ok("entity_id=https://payroll.example/sp" in p and "assigned=group:hr" in p and
         "type=saml" in p, "app show of a SAML app: entity_id and its assignment", p)
    msgs = [("assign", "--user", "alice", "app crm assigned to user:alice\n"),
            ("assign", "--user", "alice", "app crm already assigned to user:alice\n"),
            ("assign", "--group", "staff", "app crm assigned to group:staff\n"),
            ("unassign", "--user", "alice", "app crm unassigned from user:alice\n"),
            ("unassign", "--user", "alice", "app crm was not assigned to user:alice\n"),
            ("assign", "--user", "bob", "app crm assigned to user:bob\n")]
    for sub, o, name, want in msgs:
        r = srv.cli("app", sub, "crm", o, name, check=False)
        t.ok(r.returncode == 0 and r.stdout == want, "app %s crm %s %s" % (sub, o, name), r)
    t.eq(sorted(line for line in show(srv, "crm") if line.startswith("assigned=")),
         ["assigned=group:staff", "assigned=user:bob"], "app show lists each assignment")
    lst = lambda: show(srv, "crm")  # noqa: E731
    refused(srv, ("app", "assign", "crm", "--user", "nobody"), 1, "no such user nobody",
            "assign to an unknown user", lst)
    refused(srv, ("app", "assign", "crm", "--group", "nogroup"), 1, "no such group",
            "assign to an unknown group", lst)
    refused(srv, ("app", "assign", "noapp", "--user", "alice"), 1, "no such app",
            "assign of an unknown app", lst)
    refused(srv, ("app", "assign", "crm"), 2, "--user", "assign without a target", lst)
    refused(srv, ("app", "assign", "crm", "--user", "bob", "--group", "staff"), 2, "--user",
            "assign to a user and a group at once", lst)
    refused(srv, ("app", "show", "noapp"), 1, "no such app", "show of an unknown app", lst)
    d = decision(srv, "--user", "alice", "--app", "crm", "--ip", "10.0.0.1", "--at", WEEKDAY)
    t.eq(d.get("decision"), ["allow"], "assigned by group: alice may reach crm")
    d = decision(srv, "--user", "erin", "--app", "crm", "--ip", "10.0.0.1", "--at", WEEKDAY)
    t.eq(d.get("rule"), ["not-assigned"], "not assigned: erin may not")
    t.ok(len(audit_events(srv, "admin.app.assign")) == 4 and
         len(audit_events(srv, "admin.app.unassign")) >= 1, "assignments are audited")


def png(w=16, h=16):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    raw = b"".join(b"\0" + b"\xff\0\0\xff" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">%s'
       '<circle cx="8" cy="8" r="7" fill="#c00"/></svg>')


def icons(srv):
    def write(name, data):
        path = os.path.join(srv.tmp, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    r = srv.cli("app", "set", "crm", "--display-name", "勤怠管理", "--description", "Time sheets")
    t.eq(r.stdout, "app crm updated\n", "app set prints the update")
    out = show(srv, "crm")
    t.ok("display_name=勤怠管理" in out and "description=Time sheets" in out,
         "app show has the display name and description", out)
    good_png, good_svg = png(), (SVG % "").encode()
    srv.cli("app", "set", "crm", "--icon", write("ok.png", good_png))
    t.ok("icon=image/png %d bytes" % len(good_png) in show(srv, "crm"), "a PNG icon is kept")
    srv.cli("app", "set", "crm", "--icon", write("ok.svg", good_svg))
    t.ok("icon=image/svg+xml %d bytes" % len(good_svg) in show(srv, "crm"),
         "an SVG icon is kept")
    bad = [("script.svg", SVG % "<script>alert(1)</script>", "SVG has a script element"),
           ("onload.svg", SVG.replace("<svg ", '<svg onload="alert(1)" ') % "",
            "event attribute"),
           ("href.svg", SVG % '<image href="https://evil.example/x.png"/>', "href"),
           ("fo.svg", SVG % "<foreignObject/>", "foreignObject"),
           ("style.svg", SVG % "<style>@import url(https://e/x.css);</style>", "style"),
           ("dtd.svg", '<!DOCTYPE svg [<!ENTITY x "y">]>' + SVG % "&x;", "DTD"),
           ("big.svg", SVG % ("<!--%s-->" % ("x" * 70000)), "larger than 64 KiB"),
           ("cut.png", good_png[:-12], "IEND"),
           ("huge.png", png(2000, 1), "1024"),
           ("text.png", "hello", "not a PNG or SVG")]
    lst = lambda: show(srv, "crm")  # noqa: E731
    for name, data, part in bad:
        path = write(name, data)
        refused(srv, ("app", "set", "crm", "--icon", path), 1, "--icon %s: " % path,
                "icon %s" % name, lst)
        r = srv.cli("app", "set", "crm", "--icon", path, check=False)
        t.ok(part in r.stderr, "icon %s: the message says %r" % (name, part), r.stderr)
    refused(srv, ("app", "set", "crm", "--icon", os.path.join(srv.tmp, "missing.png")), 1,
            "missing.png", "a missing icon file", lst)
    refused(srv, ("app", "set", "crm", "--display-name", "a\tb"), 1, "--display-name",
            "a display name with a control character", lst)
    refused(srv, ("app", "set", "crm", "--display-name", "x" * 257), 1, "--display-name",
            "a display name too long", lst)
    refused(srv, ("app", "set", "crm"), 2, "app set needs", "app set without options", lst)
    refused(srv, ("app", "set", "crm", "--no-icon", "--icon", path), 2, "--no-icon",
            "--icon with --no-icon", lst)
    refused(srv, ("app", "set", "noapp", "--display-name", "X"), 1, "no such app",
            "app set of an unknown app", lst)
    srv.cli("app", "set", "crm", "--no-icon", "--display-name", "")
    out = show(srv, "crm")
    t.ok("icon=" in out and "display_name=" in out and "description=Time sheets" in out,
         "--no-icon removes the icon, an empty display name clears it, the rest stays", out)
    t.ok(len(audit_events(srv, "admin.app.set")) == 4, "admin.app.set audited per change")


def break_glass(srv):
    r = srv.cli("user", "set", "dave", "--break-glass", "on")
    t.ok(r.returncode == 0 and "break_glass=on" in srv.cli("user", "show", "dave").stdout,
         "user set --break-glass on shows in user show", r)
    srv.cli("user", "set", "dave", "--break-glass", "off")
    t.ok("break_glass" not in srv.cli("user", "show", "dave").stdout, "--break-glass off")
    r = srv.cli("user", "set", "dave", "--break-glass", "yes", check=False)
    t.ok(r.returncode == 2 and "--break-glass" in r.stderr, "--break-glass yes: usage", r)
    recs = [x for x in audit_events(srv, "admin.user.set") if "break_glass=on" in x[3]]
    t.ok(len(recs) == 2, "admin.user.set audits break_glass=on (carol, dave)", recs)


def main():
    srv = st.Server(start=False)
    try:
        setup(srv)
        t.run("tenant set", tenant_settings, srv)
        t.run("policy add/list/move/remove", add_list_move, srv)
        t.run("refusals", refusals, srv)
        t.run("policy test", decision_table, srv)
        t.run("assignments", assignments, srv)
        t.run("icons", icons, srv)
        t.run("break-glass", break_glass, srv)
    finally:
        srv.close()
    t.done()


main()
