#!/usr/bin/python3
"""End to end: device certificates through the admin API (/t/TENANT/api/v1/certificates).

Every request and answer is validated against the server's OpenAPI document
(api_common.ApiClient).  The certificates are checked with openssl as the device would:
  csr       a CSR made here with openssl: 201 with a certificate that verifies against the
            tenant CA for client authentication, GET shows it with its PEM; it passes the
            device check of a device-required login (curl presents it).
  pkcs12    format pkcs12: the file opens with the password (AES and PBKDF2; legacy: 3DES
            and a SHA-1 MAC); neither the file nor the password is in the log or the audit.
  cap       10 active certificates per user: the 11th is 409 limit_reached; at 9 active,
            two requests at once: exactly one gets in.
  revoke    the reason recorded, the API's CRL lists the serial, revoking again is 200
            unchanged; bad reason 400 and nothing changed.
  filters   user, status, expiring_within (a certificate issued 1800 days ago under
            faketime is the only one expiring within 30 days), paging by serial.
  refusals  a read-only key cannot issue or revoke (403); bad CSR, unknown user, bad label,
            csr with format pkcs12, unknown member: 400/404 naming the field, nothing
            issued; another tenant's certificate is 404.
  ca down   with the ca process gone the worker's calls fail cleanly (500) and work again
            once the supervisor has restarted it.
"""
import base64
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse

import sekisho_test
from sekisho_test import Server, Tap
from api_common import ApiClient, make_key, make_keys
from peers.device import DeviceBrowser

P12_PW = "api-p12-password-77"
PW = "alice-password-1"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)


def openssl(*args, **kw):
    return run(["openssl"] + list(args), **kw)


class S:
    def __init__(self, t, srv, tmp, dport):
        self.t, self.srv, self.tmp, self.dport = t, srv, tmp, dport
        self.device_url = "https://127.0.0.1:%d" % dport
        self.api = ApiClient(srv, "default", make_keys(srv, "default", "c", 10, "read,certs"))
        self.ro = ApiClient(srv, "default", [make_key(srv, "default", "ro", "read")])
        self.ca = self.path("ca.pem")
        srv.cli("cert", "ca", "--out", self.ca)
        self.n = 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def csr(self, name):
        """A P-256 CSR (PEM text) with its key in name.key."""
        path = self.path(name + ".csr")
        r = openssl("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-keyout", self.path(name + ".key"),
                    "-out", path, "-subj", "/CN=device")
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        with open(path) as f:
            return f.read()

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return p

    def all(self, query=""):
        return self.api.all_items("certificates" + query)

    def serials(self, query=""):
        return [c["serial"] for c in self.all(query)]


def part_csr(s):
    t = s.t
    csr = s.csr("alice")
    r = s.api.call("POST", "certificates", {"user": "alice", "label": "laptop", "csr": csr},
                   expect=201)
    c = r.body
    serial = c["serial"]
    t.ok(r.headers.get("Location", "").endswith("/api/v1/certificates/" + serial),
         "201 with Location certificates/SERIAL", r.headers)
    t.ok(c["user"] == "alice" and c["label"] == "laptop" and c["status"] == "active" and
         c["revoked_at"] is None and c["revocation_reason"] is None,
         "the answer: alice's active certificate labelled laptop", c)
    pem = s.write("alice.crt", c["certificate"])
    v = openssl("verify", "-CAfile", s.ca, "-purpose", "sslclient", pem)
    t.ok(v.returncode == 0, "openssl verifies it against the tenant CA for client auth",
         v.stdout + v.stderr)
    m = openssl("x509", "-in", pem, "-noout", "-serial", "-modulus", "-pubkey").stdout
    k = openssl("pkey", "-in", s.path("alice.key"), "-pubout").stdout
    t.ok(("serial=" + serial) in m and k.strip() in m, "the certificate carries the serial "
         "and the CSR's public key")
    years = int(c["not_after"][:4]) - int(c["not_before"][:4])
    t.eq(years, 5, "valid for 5 years")
    g = s.api.call("GET", "certificates/" + serial.lower()).body
    t.ok(g["certificate"] == c["certificate"] and g["serial"] == serial,
         "GET certificates/{serial} (either case) shows it with the same PEM")
    t.ok(serial in s.srv.cli("cert", "list", "alice").stdout, "the CLI lists it")
    s.srv.audit_has(t, "cert.issue", "user=alice", "serial=" + serial, "method=csr",
                    "actor=apikey:c0")
    s.alice = (pem, s.path("alice.key"), serial)


def part_device(s):
    """The API-issued certificate is a device certificate: a login to a device-required
    OIDC client passes the device check with it (curl presents it)."""
    t = s.t
    redirect = "https://rp.example/cb"
    out = s.srv.cli("app", "add-oidc", "dev", "--redirect-uri", redirect, "--public").stdout
    client_id = re.search(r"^client_id=(\S+)$", out, re.M).group(1)
    s.srv.cli("policy", "set", "--app", "dev", "device-required", "on")
    q = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect,
        "scope": "openid", "state": "st", "nonce": "n",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256"})
    b = DeviceBrowser(s.srv, s.device_url, cert=s.alice[:2], stop_at=(redirect,))
    r = b.get(s.srv.base() + "/oidc/authorize?" + q)
    r = b.submit_login(r, "alice", PW)
    loc = r.headers.get("Location", "")
    went = [h for h in b.history if h.url.startswith(s.device_url)]
    t.ok(went and loc.startswith(redirect) and "code=" in loc,
         "a device-required login passes the device check with it", "%s %s %s" % (
             r.status_code, loc, r.text[:400]))
    s.srv.audit_has(t, "device.check", "user=alice", "serial=" + s.alice[2], "via=tls")


def part_pkcs12(s):
    t = s.t
    r = s.api.call("POST", "certificates", {"user": "bob", "label": "phone",
                                            "format": "pkcs12", "password": P12_PW},
                   expect=201)
    b64 = r.body["pkcs12"]
    p12 = s.write("bob.p12", base64.b64decode(b64))
    info = openssl("pkcs12", "-in", p12, "-passin", "pass:" + P12_PW, "-info", "-noout")
    t.ok(info.returncode == 0 and "PBKDF2, AES-256-CBC" in info.stderr and
         "MAC: sha256" in info.stderr, "the PKCS#12 opens with the password (AES, PBKDF2, "
         "SHA-256 MAC)", info.stderr)
    crt = s.path("bob.crt")
    openssl("pkcs12", "-in", p12, "-passin", "pass:" + P12_PW, "-clcerts", "-nokeys",
            "-out", crt)
    t.ok(("serial=" + r.body["serial"]) in openssl("x509", "-in", crt, "-noout",
                                                     "-serial").stdout,
         "it holds the certificate of the answer")
    t.ok(openssl("verify", "-CAfile", s.ca, crt).returncode == 0, "which verifies")
    bad = openssl("pkcs12", "-in", p12, "-passin", "pass:wrong-password-1", "-noout")
    t.ok(bad.returncode != 0, "a wrong password does not open it")
    t.ok("pkcs12" not in s.api.call("GET", "certificates/" + r.body["serial"]).body,
         "GET never shows the file again")
    r2 = s.api.call("POST", "certificates", {"user": "bob", "label": "old phone",
                                             "format": "pkcs12", "password": P12_PW,
                                             "legacy": True}, expect=201)
    p = s.write("bob-legacy.p12", base64.b64decode(r2.body["pkcs12"]))
    info = openssl("pkcs12", "-in", p, "-passin", "pass:" + P12_PW, "-info", "-noout",
                   "-legacy")
    t.ok(info.returncode == 0 and "MAC: sha1" in info.stderr and "TripleDES" in info.stderr,
         "legacy: 3DES with a SHA-1 MAC", info.stderr)
    before = s.serials("?user=bob")
    e = s.api.call("POST", "certificates", {"user": "bob", "label": "x", "format": "pkcs12",
                                            "password": "short"}, expect=400, raw=True).body
    t.eq(e.get("field"), "password", "a password under 12 characters: 400 naming password")
    t.eq(s.serials("?user=bob"), before, "and nothing was issued")
    audit = "\n".join("%s %s" % x for x in s.srv.audit())
    leaks = sekisho_test.grep_secret_leaks(s.srv.log() + audit, [
        P12_PW, b64[:40], b64[-40:], r2.body["pkcs12"][:40]])
    t.eq(leaks, [], "neither the password nor the file is in the log or the audit")
    s.srv.audit_has(t, "cert.issue", "user=bob", "method=pkcs12")


def part_cap(s):
    t = s.t
    s.srv.add_user("capper", PW)
    csr = s.csr("capper")
    for i in range(9):
        s.api.call("POST", "certificates", {"user": "capper", "label": "d%d" % i, "csr": csr},
                   expect=201)
    res = []
    racers = [make_key(s.srv, "default", "race%d" % i, "certs") for i in (0, 1)]

    def one(i):
        r = s.api.request("POST", "certificates", json={"user": "capper",
                                                        "label": "race%d" % i, "csr": csr},
                          key=racers[i])
        res.append(r)

    th = [threading.Thread(target=one, args=(i,)) for i in (0, 1)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    codes = sorted(r.status_code for r in res)
    t.eq(codes, [201, 409], "at 9 active, two requests at once: one 201, one 409")
    lost = [r for r in res if r.status_code == 409]
    t.ok(lost and lost[0].json().get("error") == "limit_reached",
         "the loser: limit_reached", lost[0].text if lost else res)
    e = s.api.call("POST", "certificates", {"user": "capper", "label": "eleventh",
                                            "csr": csr}, expect=409).body
    t.ok(e["error"] == "limit_reached" and e.get("field") == "user" and "10" in e["detail"],
         "the 11th: 409 limit_reached naming the user", e)
    t.eq(len(s.serials("?user=capper&status=active")), 10, "exactly 10 active")
    s.capper = s.serials("?user=capper")


def crl_text(s, body):
    der = s.write("api.crl", body)
    return openssl("crl", "-inform", "DER", "-in", der, "-CAfile", s.ca, "-noout", "-text")


def part_revoke(s):
    t = s.t
    serial = s.capper[0]
    e = s.api.call("POST", "certificates/%s/revoke" % serial, {"reason": "sometimes"},
                   expect=400, raw=True).body
    t.eq(e.get("field"), "reason", "an unknown reason: 400 naming reason")
    t.eq(s.api.call("GET", "certificates/" + serial).body["status"], "active",
         "and the certificate is still active")
    c = s.api.call("POST", "certificates/%s/revoke" % serial,
                   {"reason": "keyCompromise"}).body
    t.ok(c["status"] == "revoked" and c["revocation_reason"] == "keyCompromise" and
         c["revoked_at"], "revoke: 200, revoked for keyCompromise", c)
    again = s.api.call("POST", "certificates/%s/revoke" % serial, {"reason": "superseded"}).body
    t.ok(again["revoked_at"] == c["revoked_at"] and again["revocation_reason"] ==
         "keyCompromise", "revoking again: 200 with the first revocation unchanged", again)
    r = s.api.call("GET", "certificates/crl")
    t.eq(r.headers.get("Content-Type"), "application/pkix-crl", "the CRL is DER")
    text = crl_text(s, r.content)
    t.ok(text.returncode == 0 and "verify OK" in text.stdout + text.stderr and
         re.search(r"Serial Number: %s\s.*?Key Compromise" % serial, text.stdout, re.S),
         "the API's CRL verifies and lists the serial with its reason", text.stdout[:600])
    s.api.call("POST", "certificates", {"user": "capper", "label": "freed",
                                        "csr": s.csr("capper2")}, expect=201)
    t.ok(True, "the revocation freed a slot")
    s.api.call("POST", "certificates/%s/revoke" % s.capper[1], None)
    t.eq(s.api.call("GET", "certificates/" + s.capper[1]).body["revocation_reason"],
         "unspecified", "revoke without a body: unspecified")
    s.api.call("POST", "certificates/0123ABCD/revoke", {"reason": "superseded"}, expect=404)
    s.srv.audit_has(t, "cert.revoke", "serial=" + serial, "reason=keyCompromise",
                    "ip=127.0.0.1")


def part_filters(s):
    t = s.t
    s.srv.add_user("old", PW)
    csr = s.write("old.csr", s.csr("old"))
    r = run(sekisho_test.faketime(["-f", "-1800d"]) + [
        sekisho_test.SEKISHO, "--dir", s.srv.dir, "cert", "issue", "old", "--label", "aging",
        "--csr", csr, "--out", s.path("old.crt")])
    old = re.search(r"^serial=([0-9A-F]+)$", r.stdout, re.M)
    t.ok(old, "a certificate issued 1800 days ago (faketime)", r.stdout + r.stderr)
    old = old.group(1) if old else None
    t.eq(s.serials("?expiring_within=30d"), [old], "expiring_within=30d: only that one")
    t.eq(s.serials("?expiring_within=20d"), [], "expiring_within=20d: none")
    within = s.serials("?expiring_within=1830d")
    active = s.serials("?status=active")
    t.ok(sorted(within) == sorted(active) and old in within,
         "expiring_within=1830d: every active one (5-year certificates), no revoked one")
    revoked = s.serials("?status=revoked")
    t.ok(s.capper[0] in revoked and not set(revoked) & set(active),
         "status=revoked and status=active split them")
    everything = s.serials()
    t.eq(everything, sorted(everything), "the list is in serial order")
    t.eq([c["serial"] for c in s.api.all_items("certificates", limit=3)], everything,
         "paged 3 at a time: the same list")
    t.eq(s.serials("?user=alice"), [s.alice[2]], "user=alice: hers only")
    e = s.api.call("GET", "certificates?status=lost", expect=400).body
    t.eq(e.get("field"), "status", "status=lost: 400 naming status")
    e = s.api.call("GET", "certificates?expiring_within=soon", expect=400).body
    t.eq(e.get("field"), "expiring_within", "expiring_within=soon: 400 naming it")
    s.api.call("GET", "certificates?user=nobody", expect=404)


def part_refusals(s):
    t = s.t
    before = s.serials()
    csr = s.csr("ro")
    s.ro.call("POST", "certificates", {"user": "alice", "label": "ro", "csr": csr},
              expect=403)
    s.ro.call("POST", "certificates/%s/revoke" % s.alice[2], {"reason": "superseded"},
              expect=403)
    t.eq(s.ro.call("GET", "certificates/" + s.alice[2]).body["status"], "active",
         "a read-only key can read, cannot issue or revoke (403)")
    bad_csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAAA\n-----END CERTIFICATE REQUEST-----\n"
    cases = [
        ("a malformed CSR", {"user": "alice", "label": "x", "csr": bad_csr}, 400, "csr"),
        ("a certificate instead of a CSR", {"user": "alice", "label": "x",
                                            "csr": open(s.alice[0]).read()}, 400, "csr"),
        ("an unknown user", {"user": "nobody", "label": "x", "csr": csr}, 404, "user"),
        ("an empty label", {"user": "alice", "label": "", "csr": csr}, 400, "label"),
        ("a label of 65 bytes", {"user": "alice", "label": "x" * 65, "csr": csr}, 400,
         "label"),
        ("csr with format pkcs12", {"user": "alice", "label": "x", "csr": csr,
                                    "format": "pkcs12", "password": P12_PW}, 400, "csr"),
        ("no csr and no format", {"user": "alice", "label": "x"}, 400, "csr"),
        ("a password without pkcs12", {"user": "alice", "label": "x", "csr": csr,
                                       "password": P12_PW}, 400, "password"),
        ("an unknown member", {"user": "alice", "label": "x", "csr": csr, "days": 9999},
         400, "days"),
    ]
    for name, body, code, field in cases:
        e = s.api.call("POST", "certificates", body, expect=code, raw=True).body
        t.eq(e.get("field"), field, "%s: %d naming %s" % (name, code, field))
    t.eq(s.serials(), before, "none of them issued anything")
    s.srv.cli("tenant", "add", "other")
    s.srv.add_user("olga", PW, tenant="other")
    ocsr = s.write("olga.csr", s.csr("olga"))
    r = run([sekisho_test.SEKISHO, "--dir", s.srv.dir, "--tenant", "other", "cert", "issue",
             "olga", "--label", "o", "--csr", ocsr, "--out", s.path("olga.crt")])
    oserial = re.search(r"^serial=([0-9A-F]+)$", r.stdout, re.M).group(1)
    s.api.call("GET", "certificates/" + oserial, expect=404)
    s.api.call("POST", "certificates/%s/revoke" % oserial, {"reason": "superseded"},
               expect=404)
    t.ok(oserial not in s.serials(), "another tenant's certificate: 404, not listed")
    other = ApiClient(s.srv, "other", [make_key(s.srv, "other", "o", "read")])
    t.eq(other.call("GET", "certificates/" + oserial).body["status"], "active",
         "and untouched: its own tenant's key sees it active")


def part_ca_down(s):
    """The ca process gone (the supervisor stopped so it cannot restart it yet): the
    worker's calls fail with 500; once restarted they work again."""
    t = s.t
    sup = s.srv.proc.pid
    ca = s.srv.ca_pid()
    os.kill(sup, signal.SIGSTOP)
    try:
        os.kill(ca, signal.SIGKILL)
        time.sleep(0.3)
        e = s.api.call("POST", "certificates", {"user": "bob", "label": "while down",
                                                "csr": s.csr("down")}, expect=500).body
        t.eq(e["error"], "internal", "ca process gone: issue answers 500")
        s.api.call("GET", "certificates/crl", expect=500)
        t.ok(s.api.call("GET", "certificates/" + s.alice[2]).body["serial"],
             "reading certificates still works")
    finally:
        os.kill(sup, signal.SIGCONT)
    ok = False
    end = time.time() + 20
    while time.time() < end and not ok:
        ok = s.api.request("GET", "certificates/crl").status_code == 200
    t.ok(ok, "restarted by the supervisor, the ca process answers the worker again",
         s.srv.log()[-1500:])
    s.api.call("POST", "certificates", {"user": "bob", "label": "after", "csr": s.csr("up")},
               expect=201)
    t.ok("connected to the restarted ca process" in s.srv.log(), "the worker says so")


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="sekisho-apicerts-")
    dport = sekisho_test.free_port()
    srv = Server(["device_listen 127.0.0.1:%d" % dport])
    try:
        for u in ("alice", "bob"):
            srv.add_user(u, PW)
        s = S(t, srv, tmp, dport)
        t.run("issue from a CSR", part_csr, s)
        t.run("as a device certificate", part_device, s)
        t.run("issue as PKCS#12", part_pkcs12, s)
        t.run("the cap", part_cap, s)
        t.run("revoke and the CRL", part_revoke, s)
        t.run("filters", part_filters, s)
        t.run("refusals", part_refusals, s)
        t.run("ca process down", part_ca_down, s)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
