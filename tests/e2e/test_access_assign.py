#!/usr/bin/python3
"""End to end: who may reach which app (issue 9), against apache2 + mod_auth_mellon (app
"hr") and apache2 + mod_auth_openidc (app "wiki"), both Debian's and unmodified.

One sekishod.  Covered: an app without assignment is open to every user; once assigned to a
group, a user outside it is refused (SAML: a 403 page with a reference code that is in the
access.deny audit record, no assertion posted; OIDC: access_denied with iss and state,
prompt=none too) and a member gets in; a member removed from the group is refused on the
next SSO while the Sekisho session stays; report-only rules change nothing and audit;
break-glass passes a deny-all rule (not the assignment) and audits and warns each use; the
portal lists the apps a user may reach, SAML and OIDC, under their display names; malformed
rules are refused with a message naming the bad part and change nothing; an app assigned to
one group or user stays closed when that group or user is removed.
"""
import re
import secrets
import signal
import sys
import tempfile
import time
import urllib.parse

import access_common as ac
from sekisho_test import Server, Tap
from peers.mellon import MellonSP, parse_env as mellon_env
from peers.openidc import OidcRP
from peers import samlforge

USERS = {"alice": ["staff"], "bob": [], "carol": ["staff"], "glass": ["staff"], "erin": []}


class Scenario:
    def __init__(self, t, srv, hr, wiki, passwords):
        self.t = t
        self.srv = srv
        self.hr = hr
        self.wiki = wiki
        self.pw = passwords

    def audit_has(self, event, *fields):
        return self.srv.audit_has(self.t, event, *fields)

    def browser(self, lang="en", stop_at=()):
        return ac.browser(self.srv, lang=lang, stop_at=stop_at)

    # ---- the two apps, as a person reaches them ----

    def at_hr(self, r):
        return r.status_code == 200 and r.url == self.hr.protected and \
            "REMOTE_USER=" in r.text and mellon_env(r.text).get("REMOTE_USER")

    def at_wiki(self, r):
        return r.status_code == 200 and r.url == self.wiki.protected and \
            "OIDC_CLAIM_sub=" in r.text

    def visit(self, b, app, user=None):
        """b goes to app's protected page, logging in as user if asked to: (answer, history
        index before, whether the login form was shown)."""
        start = len(b.history)
        r = b.get(app.protected)
        asked = ac.login_page(b, r)
        if asked and user:
            r = b.submit_login(r, user, self.pw[user])
        return r, start, asked

    def outcome(self, b, app, r, start):
        if app is self.hr:
            return ac.classify(self.srv, b, r, start, reached=self.at_hr)
        return ac.classify(self.srv, b, r, start, reached=self.at_wiki,
                           redirect_uri=self.wiki.redirect_uri)

    def gets_in(self, user, app, what, b=None):
        b = b or self.browser()
        r, start, _ = self.visit(b, app, user)
        got = self.outcome(b, app, r, start)
        self.t.eq(got, "in", what)
        return b, r

    def saml_refused(self, b, r, start, user, stage, what, rule=None):
        """The checks of a refused SAML SSO: 403 page with a reference code that is in the
        access.deny record, nothing posted to the SP, no mellon session."""
        t = self.t
        ref = ac.refusal_ref(r)
        t.ok(ref and r.url.startswith(self.srv.base()),
             "%s: 403 page with a reference code" % what,
             "%d %s\n%s" % (r.status_code, r.url, r.text[:600]))
        t.ok(not ac.posted_to(b, start, self.hr.url) and "SAMLResponse" not in r.text and
             not ac.sent_to(b, start, self.hr.url + "/mellon/postResponse"),
             "%s: no SAMLResponse was posted to the SP" % what)
        t.ok(not self.at_hr(b._req("GET", self.hr.protected)),
             "%s: mellon has no session" % what)
        fields = ["user=" + user, "stage=" + stage] + (["rule=" + rule] if rule else [])
        if ref:
            self.audit_has("access.deny", "ref=" + ref, *fields)
        return ref

    def oidc_refused(self, b, start, user, what, stage=None):
        """The checks of a refused OIDC authorization: access_denied to the RP with state
        and iss, no code, the protected page not reached."""
        t = self.t
        got = ac.oidc_answers(b, start, self.wiki.redirect_uri)
        sent = [ac.query(h.url) for h in ac.sent_to(b, start, self.srv.base() +
                                                    "/oidc/authorize?")]
        state = sent[-1].get("state") if sent else None
        last = got[-1] if got else {}
        t.ok(last.get("error") == "access_denied" and last.get("iss") == self.srv.base() and
             state and last.get("state") == state and "code" not in last and
             last.get("error_description"),
             "%s: redirected to the RP with error=access_denied, error_description, state "
             "and iss" % what, got)
        t.ok(not any(self.at_wiki(h) for h in b.history[start:]),
             "%s: the RP's protected page was not reached" % what)
        self.audit_has("access.deny", "user=" + user, *(["stage=" + stage] if stage else []))


def part_open(s):
    t, srv = s.t, s.srv
    show = srv.cli("app", "show", "hr").stdout
    t.ok(re.search(r"^assigned=everyone$", show, re.M) and
         not re.search(r"^assigned=(user|group):", show, re.M),
         "app show: an app without assignment says assigned=everyone", show)
    for user in ("alice", "bob"):
        b, _ = s.gets_in(user, s.hr, "no assignment: %s reaches hr (mellon)" % user)
        s.gets_in(None, s.wiki, "no assignment: %s reaches wiki (openidc) by SSO" % user, b)


def part_assign(s):
    t, srv = s.t, s.srv
    r = srv.cli("app", "assign", "hr", "--group", "staff")
    t.eq(r.stdout.strip(), "app hr assigned to group:staff", "app assign: its answer")
    r = srv.cli("app", "assign", "hr", "--group", "staff", check=False)
    t.ok(r.returncode == 0 and "already assigned to group:staff" in r.stdout,
         "app assign a second time: says so, exit 0", r.stdout + r.stderr)
    srv.cli("app", "assign", "wiki", "--group", "staff")
    show = srv.cli("app", "show", "hr").stdout
    t.ok(re.search(r"^assigned=group:staff$", show, re.M) and "assigned=everyone" not in show,
         "app show lists the assignment", show)
    s.audit_has("admin.app.assign")

    b = s.browser()
    r, start, asked = s.visit(b, s.hr, "bob")
    t.ok(asked, "bob (not in staff) is asked to log in at hr")
    s.saml_refused(b, r, start, "bob", "login", "assigned to staff: bob at hr",
                   rule="not-assigned")
    # Japanese page, same contract.
    b = s.browser(lang="ja")
    r, start, _ = s.visit(b, s.hr, "erin")
    t.ok(ac.refusal_ref(r) and '<html lang="ja">' in r.text,
         "the refusal page in Japanese, with its reference code", r.text[:600])

    b = s.browser()
    r, start, asked = s.visit(b, s.wiki, "bob")
    t.ok(asked, "bob is asked to log in at wiki")
    s.oidc_refused(b, start, "bob", "assigned to staff: bob at wiki", stage="login")

    # prompt=none with a Sekisho session: the same answer, not login_required.
    b = s.browser(stop_at=(s.wiki.redirect_uri,))
    t.ok(ac.at_portal(srv, ac.portal_login(srv, b, "bob", s.pw["bob"])),
         "bob may still log in to the portal")
    start = len(b.history)
    b.get(ac.authorize_url(srv, s.wiki.client_id, s.wiki.redirect_uri, state="pn1",
                           prompt="none"))
    got = ac.oidc_answers(b, start, s.wiki.redirect_uri)
    t.ok(got and got[-1].get("error") == "access_denied" and got[-1].get("state") == "pn1"
         and got[-1].get("iss") == srv.base(),
         "prompt=none for an app bob is not assigned to: access_denied with state and iss",
         got)

    b, _ = s.gets_in("alice", s.hr, "assigned to staff: alice (member) reaches hr")
    s.gets_in(None, s.wiki, "assigned to staff: alice reaches wiki by SSO", b)

    r = srv.cli("app", "assign", "hr", "--user", "bob")
    t.eq(r.stdout.strip(), "app hr assigned to user:bob", "app assign --user: its answer")
    s.gets_in("bob", s.hr, "assigned as a user: bob reaches hr")
    r = srv.cli("app", "unassign", "hr", "--user", "bob")
    t.eq(r.stdout.strip(), "app hr unassigned from user:bob", "app unassign: its answer")
    r = srv.cli("app", "unassign", "hr", "--user", "bob", check=False)
    t.ok(r.returncode == 0 and "was not assigned to user:bob" in r.stdout,
         "app unassign a second time: says so, exit 0", r.stdout + r.stderr)
    s.audit_has("admin.app.unassign")
    b = s.browser()
    r, start, _ = s.visit(b, s.hr, "bob")
    t.eq(s.outcome(b, s.hr, r, start), "refused", "unassigned again: bob is refused at hr")


def part_member_removed(s):
    """Removed from the group: refused on the next SSO, the Sekisho session untouched."""
    t, srv = s.t, s.srv
    b, _ = s.gets_in("carol", s.hr, "carol (staff) reaches hr")
    s.gets_in(None, s.wiki, "carol reaches wiki by SSO", b)
    sid = ac.session_cookie(b)
    logouts = len(srv.audit_find("logout", "user=carol"))
    srv.cli("group", "remove-member", "staff", "carol")

    ac.drop_app_sessions(b)
    r, start, asked = s.visit(b, s.hr)
    t.ok(not asked, "removed from staff: the next SSO to hr does not ask for a password")
    s.saml_refused(b, r, start, "carol", "sso", "removed from staff: carol's next SSO to hr",
                   rule="not-assigned")
    r, start, asked = s.visit(b, s.wiki)
    t.ok(not asked, "removed from staff: the next SSO to wiki does not ask for a password")
    s.oidc_refused(b, start, "carol", "removed from staff: carol's next SSO to wiki",
                   stage="sso")
    start = len(b.history)
    r = b.get(srv.base() + "/saml/init/hr")
    t.ok(ac.refusal_ref(r) and not ac.posted_to(b, start, s.hr.url),
         "removed from staff: IdP-initiated SSO to hr is refused too, nothing posted",
         "%d %s" % (r.status_code, r.text[:300]))

    t.ok(sid and ac.session_cookie(b) == sid,
         "the refusals kept the browser's Sekisho session cookie")
    r = b.get(srv.base() + "/portal")
    t.ok(ac.at_portal(srv, r) and "carol" in r.text,
         "carol is still logged in at Sekisho (portal)", "%d %s" % (r.status_code, r.url))
    t.eq(len(srv.audit_find("logout", "user=carol")), logouts,
         "no logout was recorded for carol")

    srv.cli("group", "add-member", "staff", "carol")
    ac.drop_app_sessions(b)
    r, start, asked = s.visit(b, s.hr)
    t.ok(not asked and s.outcome(b, s.hr, r, start) == "in",
         "back in staff: the same session reaches hr without a password",
         "%d %s" % (r.status_code, r.url))


def part_report_only(s):
    t, srv = s.t, s.srv
    r = srv.cli("policy", "add", "watch", "--effect", "deny", "--report-only")
    t.eq(r.stdout.strip(), "policy watch added at position 1", "policy add: its answer")
    lst = srv.cli("policy", "list").stdout
    t.ok(re.search(r"^1\twatch\t.*effect=deny.*report-only", lst, re.M),
         "policy list shows the report-only rule", lst)
    before = len(srv.audit_find("policy.report", "rule=watch", "user=alice"))
    b, _ = s.gets_in("alice", s.hr, "report-only deny-all: alice still reaches hr")
    s.gets_in(None, s.wiki, "report-only deny-all: and wiki", b)
    got = srv.audit_find("policy.report", "rule=watch", "effect=deny", "user=alice")
    t.ok(len(got) >= before + 2, "report-only: a policy.report record (rule=watch "
         "effect=deny user=alice) for each of the two", got)
    t.eq(srv.audit_find("access.deny", "rule=watch"), [],
         "report-only: no access.deny names the rule")
    r = srv.cli("policy", "remove", "watch")
    t.eq(r.stdout.strip(), "policy watch removed", "policy remove: its answer")


def part_break_glass(s):
    t, srv = s.t, s.srv
    early, _ = s.gets_in("alice", s.hr, "before the deny-all rule: alice reaches hr")
    srv.cli("policy", "add", "lockdown", "--effect", "deny")
    s.audit_has("admin.policy.add", "rule=lockdown")
    # A new rule takes effect at the next request, not at the next login.
    ac.drop_app_sessions(early)
    r, start, asked = s.visit(early, s.hr)
    t.ok(not asked, "deny-all rule added: alice's session is not asked for a password")
    s.saml_refused(early, r, start, "alice", "sso", "deny-all rule added: alice's next SSO",
                   rule="lockdown")
    b = s.browser()
    r, start, _ = s.visit(b, s.hr, "alice")
    s.saml_refused(b, r, start, "alice", "login", "deny-all rule: alice at hr",
                   rule="lockdown")
    b = s.browser()
    r, start, _ = s.visit(b, s.hr, "glass")
    t.eq(s.outcome(b, s.hr, r, start), "refused", "deny-all rule: glass, not yet break-glass, "
         "is refused")

    srv.cli("user", "set", "glass", "--break-glass", "on")
    s.audit_has("admin.user.set", "break_glass=on")
    show = srv.cli("user", "show", "glass").stdout
    t.ok(re.search(r"break.glass\S*\s*[=:]?\s*(on|yes|true)", show, re.I),
         "user show says glass is a break-glass account", show)
    uses = len(srv.audit_find("access.break_glass", "user=glass"))
    log_at = len(srv.log())
    b, _ = s.gets_in("glass", s.hr, "break-glass: glass passes the deny-all rule at hr")
    s.gets_in(None, s.wiki, "break-glass: and at wiki by SSO", b)
    got = srv.audit_find("access.break_glass", "user=glass")
    t.ok(len(got) >= uses + 2, "break-glass: an access.break_glass record for each use", got)
    warned = [line for line in srv.log()[log_at:].splitlines()
              if " warn: " in line and re.search(r"break.glass", line, re.I) and
              re.search(r"\bglass\b", re.sub(r"break.glass", "", line, flags=re.I))]
    t.ok(warned, "break-glass: a warning in the server log naming the user",
         srv.log()[log_at:][-1500:])
    t.ok(not srv.audit_find("access.break_glass", "user=alice"),
         "no break-glass record for anybody else")

    # Break-glass is about rules; assignment still decides who may use the app at all.
    srv.cli("group", "remove-member", "staff", "glass")
    b = s.browser()
    r, start, _ = s.visit(b, s.hr, "glass")
    s.saml_refused(b, r, start, "glass", "login", "break-glass outside staff: glass at hr",
                   rule="not-assigned")
    srv.cli("group", "add-member", "staff", "glass")

    srv.cli("user", "set", "glass", "--break-glass", "off")
    b = s.browser()
    r, start, _ = s.visit(b, s.hr, "glass")
    t.eq(s.outcome(b, s.hr, r, start), "refused", "break-glass off: glass is refused again")
    srv.cli("policy", "remove", "lockdown")
    s.gets_in("alice", s.hr, "deny-all rule removed: alice reaches hr again")


def portal_apps(s, user, ip=None):
    b = ac.browser(s.srv, ip=ip)
    r = ac.portal_login(s.srv, b, user, s.pw[user])
    if not ac.at_portal(s.srv, r):
        raise RuntimeError("%s did not reach the portal: %d %s" % (user, r.status_code,
                                                                   r.text[:300]))
    return b, r, {text: href for href, text in ac.links(r.text)}


def part_portal(s, tmp):
    t, srv = s.t, s.srv
    r = srv.cli("app", "set", "hr", "--display-name", "勤怠管理")
    t.eq(r.stdout.strip(), "app hr updated", "app set: its answer")
    srv.cli("app", "set", "wiki", "--display-name", "社内Wiki", "--description",
            "みんなの知識")
    s.audit_has("admin.app.set")
    show = srv.cli("app", "show", "hr").stdout
    t.ok(re.search(r"^display_name=勤怠管理$", show, re.M), "app show: display_name", show)
    # Two more apps without a peer behind them: a SAML one open to all, an OIDC one for
    # finance (nobody here is in it).
    md = tmp + "/crm.xml"
    with open(md, "w") as f:
        f.write(samlforge.sp_metadata("http://127.0.0.1:9/crm", ["http://127.0.0.1:9/acs"],
                                      "http://127.0.0.1:9/slo"))
    srv.cli("app", "add-saml", "crm", "--metadata", md)
    srv.cli("app", "set", "crm", "--display-name", "顧客管理")
    ac.add_stub_client(srv, "payroll", "http://127.0.0.1:9/payroll")
    srv.cli("app", "set", "payroll", "--display-name", "給与明細")
    srv.cli("group", "add", "finance")
    srv.cli("app", "assign", "payroll", "--group", "finance")

    b, r, apps = portal_apps(s, "alice")
    t.ok("勤怠管理" in apps and "/saml/init/hr" in apps["勤怠管理"],
         "portal (alice): the SAML app hr under its display name, launched by IdP-initiated "
         "SSO", apps)
    t.ok(apps.get("社内Wiki", "").startswith(s.wiki.url + "/"),
         "portal (alice): the OIDC app wiki under its display name, linked to its site", apps)
    t.ok("顧客管理" in apps, "portal (alice): crm, assigned to nobody, is listed", apps)
    t.ok("給与明細" not in r.text and "payroll" not in r.text,
         "portal (alice): payroll (finance only) is not listed", apps)
    t.ok(not [x for x in apps if x in ("hr", "wiki", "crm")],
         "portal: no app under its internal name", apps)
    start = len(b.history)
    r = b.get(urllib.parse.urljoin(r.url, apps.get("勤怠管理", "")))
    t.ok(r.status_code == 200 and r.url == s.hr.public and
         ac.posted_to(b, start, s.hr.url + "/mellon/postResponse"),
         "portal: alice's hr link logs her in at mellon", "%d %s" % (r.status_code, r.url))

    _, r, apps = portal_apps(s, "bob")
    t.ok("顧客管理" in apps and "勤怠管理" not in r.text and "社内Wiki" not in r.text and
         "給与明細" not in r.text,
         "portal (bob, in no group): only crm, not the apps assigned to staff or finance",
         apps)

    srv.cli("policy", "add", "crm-office", "--effect", "deny", "--app", "crm", "--not-from",
            "10.0.0.0/8")
    _, r, apps = portal_apps(s, "alice")
    t.ok("顧客管理" not in r.text and "勤怠管理" in apps and "社内Wiki" in apps,
         "portal: crm, denied from alice's address by a rule, is no longer listed", apps)
    srv.cli("policy", "remove", "crm-office")

    # A display name is text, never markup.
    srv.cli("app", "set", "crm", "--display-name", "<i>CRM</i> & co")
    _, r, apps = portal_apps(s, "bob")
    t.ok("<i>CRM</i> & co" in apps and "<i>CRM" not in r.text and "&lt;i&gt;CRM" in r.text,
         "portal: a display name with markup is shown escaped", r.text[-800:])


BAD_RULES = [
    # (arguments after "policy add NAME", words stderr must have)
    (["--effect", "deny", "--from", "10.0.0.300/8"], ["--from 10.0.0.300/8", "not an address"]),
    (["--effect", "deny", "--from", "10.1.2.3/8"], ["--from 10.1.2.3/8", "host bits set",
                                                     "10.0.0.0/8"]),
    (["--effect", "deny", "--not-from", "10.0.0.0/33"], ["--not-from 10.0.0.0/33"]),
    (["--effect", "deny", "--from", "2001:db8::/129"], ["--from 2001:db8::/129"]),
    (["--effect", "deny", "--hours", "25:00-18:00"], ["--hours 25:00-18:00",
                                                      "hour 25 is out of range"]),
    (["--effect", "deny", "--hours", "09:60-18:00"], ["--hours 09:60-18:00"]),
    (["--effect", "deny", "--hours", "09:00-09:00"], ["--hours 09:00-09:00"]),
    (["--effect", "deny", "--hours", "9-18"], ["--hours 9-18"]),
    (["--effect", "deny", "--days", "mon,fun"], ["--days mon,fun", 'unknown day "fun"']),
    (["--effect", "deny", "--user", "nobody"], ["nobody", "no such user"]),
    (["--effect", "deny", "--group", "nogroup"], ["nogroup", "no such group"]),
    (["--effect", "deny", "--app", "noapp"], ["noapp", "no such app"]),
    (["--effect", "deny", "--user", "alice", "--user", "nobody"], ["nobody", "no such user"]),
    (["--effect", "deny", "--before", "nosuchrule"], ["nosuchrule"]),
    (["--effect", "maybe"], ["maybe"]),
]


def part_malformed(s):
    t, srv = s.t, s.srv
    srv.cli("policy", "add", "keep", "--effect", "allow", "--user", "alice")
    lst = srv.cli("policy", "list").stdout
    adds = len(srv.audit_find("admin.policy.add"))
    for i, (args, words) in enumerate(BAD_RULES):
        r = srv.cli("policy", "add", "bad%d" % i, *args, check=False)
        t.ok(r.returncode in (1, 2) and all(w in r.stderr for w in words) and
             r.stderr.startswith("sekisho: "),
             "policy add %s: refused, naming the bad part" % " ".join(args),
             "exit %d\n%s" % (r.returncode, r.stderr))
    r = srv.cli("policy", "add", "keep", "--effect", "deny", check=False)
    t.ok(r.returncode == 1 and "keep" in r.stderr,
         "policy add with the name of an existing rule: refused", r.stderr)
    r = srv.cli("policy", "add", "bad name", "--effect", "deny", check=False)
    t.ok(r.returncode in (1, 2) and "bad name" in r.stderr, "a rule name with a space: refused",
         r.stderr)
    r = srv.cli("tenant", "set", "default", "--timezone", "Mars/Base", check=False)
    t.ok(r.returncode == 1 and "--timezone Mars/Base: unknown time zone" in r.stderr,
         "tenant set --timezone Mars/Base: refused, naming the zone", r.stderr)
    r = srv.cli("policy", "move", "keep", "--before", "nosuchrule", check=False)
    t.ok(r.returncode == 1 and "nosuchrule" in r.stderr, "policy move before an unknown rule: "
         "refused", r.stderr)
    r = srv.cli("policy", "remove", "nosuchrule", check=False)
    t.ok(r.returncode == 1 and "nosuchrule" in r.stderr, "policy remove of an unknown rule: "
         "refused", r.stderr)
    t.eq(srv.cli("policy", "list").stdout, lst, "after the refusals policy list is unchanged")
    t.ok(lst.startswith("default=allow timezone=Asia/Tokyo\n"),
         "policy list: the tenant's default and zone first", lst)
    t.eq(len(srv.audit_find("admin.policy.add")), adds,
         "the refusals wrote no admin.policy.add record")
    srv.cli("policy", "remove", "keep")


def stub_login(s, user, client, uri):
    b = s.browser(stop_at=(uri,))
    r = b.get(ac.authorize_url(s.srv, client, uri))
    if ac.login_page(b, r):
        r = b.submit_login(r, user, s.pw[user])
    return ac.classify(s.srv, b, r, redirect_uri=uri)


def part_assignee_removed(s):
    """An app restricted to one group or user must not open up to everybody when that
    group or user is removed: the tenant's administrator restricted it on purpose."""
    t, srv = s.t, s.srv
    srv.cli("group", "add", "auditors")
    srv.cli("group", "add-member", "auditors", "erin")
    for app, target, remove in (("ledger", ["--group", "auditors"], ["group", "remove",
                                                                       "auditors"]),
                                ("vault", ["--user", "erin"], ["user", "remove", "erin"])):
        uri = "http://127.0.0.1:9/" + app
        client = ac.add_stub_client(srv, app, uri)
        srv.cli("app", "assign", app, *target)
        t.eq(stub_login(s, "bob", client, uri), "refused",
             "%s, assigned to %s only: bob is refused" % (app, target[1]))
        srv.cli(*remove)
        show = srv.cli("app", "show", app).stdout
        pt = ac.policy_test(srv, "bob", app)
        got = stub_login(s, "bob", client, uri)
        t.ok(got == "refused" and pt.get("decision") == "deny" and
             "assigned=everyone" not in show,
             "%s: after `%s` bob is still refused (the app does not open to everybody)"
             % (app, " ".join(remove)), "login: %s\npolicy test: %s\n%s" % (
                 got, pt["stdout"], show))
        t.ok(re.search(r"^assigned=(group|user):\?removed$", show, re.M),
             "%s: app show names the removed assignee ?removed" % app, show)
        r = srv.cli("app", "unassign", app, "--removed")
        t.eq(r.stdout.strip(), "app %s: assignments of removed users and groups unassigned"
             % app, "%s: app unassign --removed: its answer" % app)
        t.ok(stub_login(s, "bob", client, uri) != "refused" and
             "assigned=everyone" in srv.cli("app", "show", app).stdout,
             "%s: after app unassign --removed the app is open to everybody again" % app)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t = Tap()
    began = time.time()
    srv = None
    peers = []
    tmp = tempfile.mkdtemp(prefix="sekisho-access-")
    try:
        srv = Server()
        pw = {}
        srv.cli("group", "add", "staff")
        for name, groups in USERS.items():
            pw[name] = secrets.token_urlsafe(12)
            srv.add_user(name, pw[name], email=name + "@example.com",
                         display=name.capitalize())
            for g in groups:
                srv.cli("group", "add-member", g, name)
        hr = MellonSP(srv, "hr")
        peers.append(hr)
        wiki = OidcRP(srv, "wiki")
        peers.append(wiki)
        s = Scenario(t, srv, hr, wiki, pw)
        t.run("open without assignment", part_open, s)
        t.run("assignment", part_assign, s)
        t.run("removed from the group", part_member_removed, s)
        t.run("report-only", part_report_only, s)
        t.run("break-glass", part_break_glass, s)
        t.run("portal", part_portal, s, tmp)
        t.run("malformed rules", part_malformed, s)
        t.run("assignee removed", part_assignee_removed, s)
        leaks = [p for p in pw.values() if p in srv.log()]
        t.eq(leaks, [], "no password in the server log")
    except Exception as e:
        t.ok(False, "set-up", "%s\n%s" % (e, srv.log()[-3000:] if srv else ""))
    finally:
        for p in peers:
            p.close()
        if srv:
            srv.close()
    print("# access (assignment) scenario took %.1f s" % (time.time() - began))
    t.done()


if __name__ == "__main__":
    main()
