"""Second factors and passwords on the command line (issue 10): `user otp add` prints one
otpauth URI whose seed oathtool takes, `user factors` lists it, `user factor remove`
removes it and refuses bad ids; `user reset-password` prints one link (--print-link; a
newer one voids it on the reset page) or mails it through an SMTP relay (a local aiosmtpd
server that keeps each message in a directory), or says why it cannot; `user set --must-change-password`, a user added without
a password, `tenant set --password-min-length` and `policy add --enroll`.  Every refusal
exits non-zero with a message and changes nothing; no seed or token reaches the audit
trail or a log."""
import base64
import email
import email.policy
import glob
import os
import re
import subprocess
import urllib.parse

import requests

import sekisho_test as st

t = st.Tap()
SECRETS = []    # every seed and token the commands printed: never in a log or the audit

SINK = '''
import os, time
class Keep:
    """Each message as a file in a directory: envelope sender, recipients, then the data."""
    def __init__(self, where):
        self.where = where
    @classmethod
    def from_cli(cls, parser, *args):
        return cls(args[0])
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.where, "%d-%d.eml" % (time.time_ns(), os.getpid()))
        with open(name + ".tmp", "wb") as f:
            f.write(("X-Envelope-From: %s\\r\\nX-Envelope-To: %s\\r\\n" % (
                envelope.mail_from, ",".join(envelope.rcpt_tos))).encode())
            f.write(envelope.original_content)
        os.rename(name + ".tmp", name)
        return "250 OK"
'''


def refused(srv, args, status, part, what, state, input=None):
    """args must fail with status and a message containing part, changing nothing that
    state() reads."""
    before = state()
    r = srv.cli(*args, check=False, input=input)
    t.ok(r.returncode == status and part in r.stderr and r.stderr.startswith("sekisho: "),
         "%s: exit %d naming %r" % (what, status, part), "%d %r" % (r.returncode, r.stderr))
    t.eq(state(), before, "%s changes nothing" % what)
    return r


def factors(srv, user):
    return srv.cli("user", "factors", user).stdout


def audit_text(srv, tenant=None):
    return srv.cli("audit", tenant=tenant).stdout


# ---- user otp add ----

def otp_uri(srv, user, *extra):
    r = srv.cli("user", "otp", "add", user, *extra)
    lines = r.stdout.splitlines()
    t.ok(len(lines) == 1 and r.stdout.endswith("\n") and lines[0].startswith("otpauth://totp/"),
         "user otp add %s %s prints one otpauth://totp/ line" % (user, " ".join(extra)), r)
    u = urllib.parse.urlsplit(lines[0])
    q = urllib.parse.parse_qs(u.query, strict_parsing=True)
    SECRETS.append(q["secret"][0])
    return u, {k: v[0] for k, v in q.items()}, lines[0]


FACTOR_RE = re.compile(r"^([0-9a-f]{16}) (totp|webauthn|recovery) (.+) created=(\S+) "
                       r"last_used=(\S+)((?: pending| left=\d+| counter-regressed)*)$")


def factor_lines(srv, user):
    out = []
    for line in factors(srv, user).splitlines():
        m = FACTOR_RE.match(line)
        t.ok(m, "user factors line has the documented form: %r" % line)
        if m:
            out.append(m.groups())
    return out


def otp_add(srv):
    u, q, uri = otp_uri(srv, "alice", "--label", "YubiKey 5")
    t.eq(urllib.parse.unquote(u.path), "/Sekisho default:alice",
         "the label of the URI is ISSUER:ACCOUNT")
    t.eq((q.get("issuer"), q.get("algorithm"), q.get("digits"), q.get("period")),
         ("Sekisho default", "SHA1", "6", "30"), "issuer, SHA1, 6 digits, 30 seconds")
    secret = q["secret"]
    t.ok(re.fullmatch(r"[A-Z2-7]{32}", secret) is not None, "the secret is base32, no padding",
         secret)
    t.eq(len(base64.b32decode(secret)), 20, "the seed is 160 bits")
    r = st.sh(["oathtool", "--totp", "-b", "-w", "1", secret])
    codes = r.stdout.split()
    t.ok(r.returncode == 0 and len(codes) == 2 and all(re.fullmatch(r"\d{6}", c) for c in codes),
         "oathtool takes the secret and makes 6-digit codes", r)
    rows = factor_lines(srv, "alice")
    t.ok(len(rows) == 1 and rows[0][1:3] == ("totp", "YubiKey 5") and rows[0][4] == "never"
         and rows[0][5] == "" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[0][3]),
         "user factors: one active TOTP factor, the label, created, never used", rows)
    srv.audit_has(t, "admin.user.otp_add", "user=alice", 'label="YubiKey 5"')
    u2, q2, _ = otp_uri(srv, "alice")
    t.ok(q2["secret"] != secret, "a second token gets another seed")
    rows = factor_lines(srv, "alice")
    t.ok(len(rows) == 2 and sorted(r[2] for r in rows) == ["TOTP", "YubiKey 5"]
         and rows[0][0] != rows[1][0], "without --label the label is TOTP; ids differ", rows)
    t.ok(factor_lines(srv, "bob") == [], "bob has no factors")


def otp_refusals(srv):
    state = lambda: (factors(srv, "alice"), factors(srv, "bob"),  # noqa: E731
                     len(srv.audit_find("admin.user.otp_add")))
    refused(srv, ("user", "otp", "add", "alice", "--label", "x" * 65), 1, "1-64 characters",
            "a 65-character label", state)
    refused(srv, ("user", "otp", "add", "alice", "--label", "a\tb"), 1, "control characters",
            "a label with a tab", state)
    refused(srv, ("user", "otp", "add", "alice", "--label", ""), 1, "1-64 characters",
            "an empty label", state)
    refused(srv, ("user", "otp", "add", "nobody"), 1, "no such user", "otp add for nobody",
            state)
    refused(srv, ("user", "otp", "list", "alice"), 2, "user otp list", "user otp list", state)
    refused(srv, ("user", "otp", "add"), 2, "expected add NAME", "user otp add without NAME",
            state)
    r = srv.cli("user", "otp", "add", "bob", "--label", "日本語のトークン")
    rows = factor_lines(srv, "bob")
    t.ok(len(rows) == 1 and rows[0][2] == "日本語のトークン",
         "a label is counted in characters: 8 Japanese characters are fine", rows)
    SECRETS.append(urllib.parse.parse_qs(urllib.parse.urlsplit(r.stdout.strip()).query)
                   ["secret"][0])


def factor_remove(srv):
    rows = factor_lines(srv, "alice")
    state = lambda: (factors(srv, "alice"), factors(srv, "bob"),  # noqa: E731
                     len(srv.audit_find("admin.user.factor_remove")))
    refused(srv, ("user", "factor", "remove", "alice", "xyz"), 1, "not 16 hex digits",
            "factor remove of a malformed id", state)
    refused(srv, ("user", "factor", "remove", "alice", "0123456789abcdef0"), 1,
            "not 16 hex digits", "factor remove of a 17-digit id", state)
    unknown = "0123456789abcdef" if rows[0][0] != "0123456789abcdef" else "fedcba9876543210"
    refused(srv, ("user", "factor", "remove", "alice", unknown), 1, "no such factor",
            "factor remove of an unknown id", state)
    refused(srv, ("user", "factor", "remove", "bob", rows[0][0]), 1, "no such factor",
            "factor remove of alice's factor as bob's", state)
    refused(srv, ("user", "factor", "remove", "nobody", rows[0][0]), 1, "no such user",
            "factor remove for nobody", state)
    refused(srv, ("user", "factor", "delete", "alice", rows[0][0]), 2, "user factor delete",
            "user factor delete", state)
    r = srv.cli("user", "factor", "remove", "alice", rows[0][0])
    t.eq(r.stdout, "factor %s of user alice removed\n" % rows[0][0], "factor remove says so")
    left = factor_lines(srv, "alice")
    t.ok(len(left) == 1 and left[0] == rows[1], "the other factor stays", left)
    srv.audit_has(t, "admin.user.factor_remove", "user=alice", "factor=" + rows[0][0])
    r = srv.cli("user", "factor", "remove", "alice", rows[0][0], check=False)
    t.ok(r.returncode == 1 and "no such factor" in r.stderr, "removing it again: no such factor",
         r)


# ---- user reset-password ----

LINK_RE = r"https://127\.0\.0\.1:%d/t/%s/reset\?token=([A-Za-z0-9_-]{43})"


def reset_print(srv):
    state = lambda: len(srv.audit_find("admin.user.reset_password"))  # noqa: E731
    refused(srv, ("user", "reset-password", "alice"), 1,
            "no mail relay (smtp_relay) configured; use --print-link",
            "reset-password without smtp and without --print-link", state)
    refused(srv, ("user", "reset-password", "nobody", "--print-link"), 1, "no such user",
            "reset-password for nobody", state)
    tokens = []
    for i in range(2):
        r = srv.cli("user", "reset-password", "alice", "--print-link")
        m = re.fullmatch(LINK_RE % (srv.port, "default") + "\n", r.stdout)
        t.ok(m and not r.stderr, "--print-link prints exactly one https reset link", r)
        if m:
            tokens.append(m.group(1))
    SECRETS.extend(tokens)
    t.ok(len(tokens) == 2 and tokens[0] != tokens[1], "each call makes a new token", tokens)
    if len(tokens) == 2:
        # The reset page shows its form (GET does not consume) for a live token only.
        page = lambda tok: requests.get(srv.base() + "/reset", params={"token": tok},  # noqa
                                        verify=srv.ca, timeout=30).status_code
        t.eq((page(tokens[0]), page(tokens[1]), page(tokens[1])), (400, 200, 200),
             "the second link voids the first; the page answers the second's")
    recs = srv.audit_find("admin.user.reset_password", "user=alice", "via=link")
    t.eq(len(recs), 2, "admin.user.reset_password audited per link")
    srv.cli("tenant", "add", "other")
    srv.add_user("olga", "olga-password-1", tenant="other")
    r = srv.cli("user", "reset-password", "olga", "--print-link", tenant="other")
    m = re.fullmatch(LINK_RE % (srv.port, "other") + "\n", r.stdout)
    t.ok(m, "a link of tenant other points below /t/other/", r.stdout)
    if m:
        SECRETS.append(m.group(1))
    r = srv.cli("user", "reset-password", "olga", "--print-link", check=False)
    t.ok(r.returncode == 1 and "no such user" in r.stderr,
         "olga of tenant other is no user of tenant default", r)


# ---- must change, tenant password length, --enroll ----

def must_change(srv):
    show = lambda u: srv.cli("user", "show", u).stdout  # noqa: E731
    t.ok("must_change_password" not in show("bob"), "bob need not change his password")
    r = srv.cli("user", "set", "bob", "--must-change-password", "on")
    t.eq(r.stdout, "user bob changed\n", "user set --must-change-password on")
    t.ok("must_change_password=on\n" in show("bob"), "user show: must_change_password=on")
    srv.audit_has(t, "admin.user.set", "user=bob", "must_change=on")
    refused(srv, ("user", "set", "bob", "--must-change-password", "maybe"), 2,
            "--must-change-password", "--must-change-password maybe", lambda: show("bob"))
    refused(srv, ("user", "set", "nobody", "--must-change-password", "on"), 1, "no such user",
            "--must-change-password for nobody", lambda: show("bob"))
    srv.cli("user", "set", "bob", "--must-change-password", "off")
    t.ok("must_change_password" not in show("bob"), "--must-change-password off")
    srv.audit_has(t, "admin.user.set", "user=bob", "must_change=off")
    r = srv.cli("user", "add", "carol", "--email", "carol@example.jp")
    out = show("carol")
    t.ok("password=none\n" in out and "must_change_password=on\n" in out,
         "user add without a password: must change it", out)
    srv.add_user("dave", "dave-password-1")
    t.ok("must_change_password" not in show("dave"), "user add with a password: need not")
    path = os.path.join(srv.tmp, "import.tsv")
    with open(path, "w") as f:
        f.write("erin\terin@example.jp\tErin\n")
    srv.cli("user", "import", path)
    t.ok("must_change_password=on\n" in show("erin"),
         "user import without a password: must change it")


def pw_min_length(srv):
    state = lambda: srv.audit_find("admin.tenant.set")  # noqa: E731
    for bad in ("0", "129", "abc", "-1", "12x", "", "99999999999999999999"):
        refused(srv, ("tenant", "set", "default", "--password-min-length", bad), 1,
                "--password-min-length %s: not a number from 1 to 128" % bad,
                "--password-min-length %r" % bad, state)
    refused(srv, ("tenant", "set", "nosuch", "--password-min-length", "12"), 1,
            "no such tenant", "--password-min-length of an unknown tenant", state)
    refused(srv, ("tenant", "set", "default", "--timezone", "Mars/Base",
                  "--password-min-length", "12"), 1, "unknown time zone",
            "a bad zone with a good length", state)
    for n in ("1", "128", "12"):
        r = srv.cli("tenant", "set", "default", "--password-min-length", n)
        t.eq(r.stdout, "tenant default password_min_length=%s\n" % n,
             "--password-min-length %s accepted" % n)
    srv.audit_has(t, "admin.tenant.set", "tenant=default", "password_min_length=12")
    r = srv.cli("tenant", "set", "default", "--timezone", "UTC", "--password-min-length", "11")
    t.eq(r.stdout, "tenant default timezone=UTC default=allow\n"
         "tenant default password_min_length=11\n", "both settings in one command")
    srv.cli("tenant", "set", "default", "--timezone", "Asia/Tokyo")


def enroll(srv):
    lst = lambda: srv.cli("policy", "list").stdout  # noqa: E731
    for effect in ("allow", "deny", "device"):
        refused(srv, ("policy", "add", "x-" + effect, "--effect", effect, "--enroll"), 1,
                "--enroll: only for rules whose effect is mfa", "--enroll with --effect " + effect, lst)
    srv.cli("policy", "add", "admins-mfa", "--effect", "mfa", "--user", "alice", "--enroll")
    srv.cli("policy", "add", "plain-mfa", "--effect", "mfa", "--user", "bob")
    lines = {line.split("\t")[1]: line.split("\t")[2] for line in lst().splitlines()
             if line[:1].isdigit()}
    t.eq(lines.get("admins-mfa"), "effect=mfa users=alice enroll",
         "policy list shows enroll on the rule made with it")
    t.eq(lines.get("plain-mfa"), "effect=mfa users=bob", "and not on one made without")
    t.ok(srv.audit_find("admin.policy.add", "rule=admins-mfa"), "admin.policy.add audited")
    t.ok(any("enroll" in f for f in srv.audit_find("admin.policy.add", "rule=admins-mfa")),
         "the audit record's after has enroll")


# ---- mail through a relay ----

def start_sink(srv):
    maildir = os.path.join(srv.tmp, "mail")
    os.mkdir(maildir)
    with open(os.path.join(srv.tmp, "mailsink.py"), "w") as f:
        f.write(SINK)
    port = st.free_port()
    proc = subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l",
                             "127.0.0.1:%d" % port, "-c", "mailsink.Keep", maildir],
                            env=dict(os.environ, PYTHONPATH=srv.tmp),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not st.wait_port(port):
        proc.kill()
        raise RuntimeError("aiosmtpd did not come up")
    return proc, port, maildir


def mails(maildir):
    out = []
    for path in sorted(glob.glob(os.path.join(maildir, "*.eml"))):
        with open(path, "rb") as f:
            out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
    return out


def reset_mail(srv):
    proc, port, maildir = start_sink(srv)
    try:
        with open(os.path.join(srv.dir, "sekishod.conf"), "a") as f:
            f.write("smtp_relay 127.0.0.1:%d\nsmtp_from sso@example.jp\nsmtp_tls none\n" % port)
        srv.restart()
        srv.cli("user", "set", "alice", "--email", "alice@example.jp")
        r = srv.cli("user", "reset-password", "alice")
        t.eq(r.stdout, "reset link for user alice mailed to alice@example.jp\n",
             "user reset-password mails the link and says where")
        got = mails(maildir)
        t.eq(len(got), 1, "one mail reached the relay")
        if got:
            m = got[0]
            t.eq((m["X-Envelope-From"], m["X-Envelope-To"], m["To"]),
                 ("sso@example.jp", "alice@example.jp", "alice@example.jp"),
                 "from smtp_from to the user's address")
            t.eq(str(m["Subject"]), "パスワードの再設定 / Password reset", "the subject")
            body = m.get_body(("plain",)).get_content()
            links = re.findall(LINK_RE % (srv.port, "default"), body)
            lines = [x for x in body.splitlines() if "reset?token=" in x]
            t.ok(len(links) == 1 and len(lines) == 1 and
                 re.fullmatch(LINK_RE % (srv.port, "default"), lines[0].strip()),
                 "the body has the link on a line of its own", body)
            SECRETS.extend(links)
            if links:
                r = requests.get(srv.base() + "/reset", params={"token": links[0]},
                                 verify=srv.ca, timeout=30)
                t.eq(r.status_code, 200, "the mailed link opens the reset page's form")
            t.ok("30" in body and "パスワード" in body and "once" in body,
                 "Japanese and English, valid 30 minutes, used once", body)
        srv.audit_has(t, "admin.user.reset_password", "user=alice", "via=mail")
        state = lambda: (len(mails(maildir)),  # noqa: E731
                         len(srv.audit_find("admin.user.reset_password")))
        refused(srv, ("user", "reset-password", "dave"), 1,
                "user dave has no e-mail address; use --print-link",
                "reset-password for a user without an e-mail address", state)
        r = srv.cli("user", "reset-password", "dave", "--print-link")
        t.ok(re.fullmatch(LINK_RE % (srv.port, "default") + "\n", r.stdout),
             "--print-link still prints the link and mails nothing", r)
        SECRETS.extend(re.findall(r"token=(\S+)", r.stdout))
        t.eq(len(mails(maildir)), 1, "no mail for --print-link")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    before = len(srv.audit_find("admin.user.reset_password"))
    r = srv.cli("user", "reset-password", "alice", check=False)
    t.ok(r.returncode == 1 and "not sent" in r.stderr and not r.stdout,
         "a relay that does not answer: exit 1, the mail was not sent", r)
    t.eq(len(srv.audit_find("admin.user.reset_password")), before,
         "and no admin.user.reset_password record")


def no_leaks(srv):
    texts = {"audit": audit_text(srv) + audit_text(srv, tenant="other"), "log": srv.log()}
    t.ok(len(SECRETS) >= 8, "seeds and tokens were collected (%d)" % len(SECRETS))
    for what, text in texts.items():
        t.eq(st.grep_secret_leaks(text, SECRETS), [], "no seed or token in the %s" % what)


def main():
    srv = st.Server()
    try:
        for u in ("alice", "bob"):
            srv.add_user(u, u + "-password-1")
        t.run("user otp add", otp_add, srv)
        t.run("user otp add refusals", otp_refusals, srv)
        t.run("user factor remove", factor_remove, srv)
        t.run("user reset-password --print-link", reset_print, srv)
        t.run("must change password", must_change, srv)
        t.run("tenant set --password-min-length", pw_min_length, srv)
        t.run("policy add --enroll", enroll, srv)
        t.run("reset mail", reset_mail, srv)
        t.run("no leaks", no_leaks, srv)
    finally:
        srv.close()
    t.done()


main()
