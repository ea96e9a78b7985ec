#!/usr/bin/python3
"""End to end: the device CA and `sekisho cert`, checked with openssl as the device.

Covered: the tenant CAs (P-256 by default, RSA-3072 on request); PKCS#12 files (AES-256,
PBKDF2 and a SHA-256 MAC by default, 3DES/SHA-1 with --legacy) that openssl converts; the
content of every certificate (serial, subject, extensions, validity 5 years from the issue
time with notBefore backdated, 29 February, GeneralizedTime after 2049, never past the CA);
the password and label rules; CSRs (proof of possession, weak and explicit-parameter keys,
requested extensions ignored); the cap of 10 active certificates per user under concurrent
issuance, revoked and expired ones freeing their slot; revocation by serial in every form
openssl prints, the CRL from the command line and over HTTP; --expiring-within; removing a
user revokes their certificates; refusals change nothing; the audit trail; no password in
the log or the audit trail.
"""
import concurrent.futures
import datetime
import os
import re
import stat
import subprocess
import tempfile

import requests

import sekisho_test
from sekisho_test import Server, Tap

P12_PASSWORD = "p12-password-for-tests"
USERS = ["alice", "bob", "carol", "capper", "racer", "burst", "expo", "leaver", "old", "leap",
         "rules", "csr", "gone"]


def run(cmd, **kw):
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def openssl(*args, **kw):
    return run(["openssl"] + list(args), **kw)


def gmt(s):
    """openssl's "Feb 28 23:59:59 2033 GMT" as an aware datetime."""
    return datetime.datetime.strptime(s.strip(), "%b %d %H:%M:%S %Y %Z").replace(
        tzinfo=datetime.timezone.utc)


class Scenario:
    def __init__(self, t, srv, tmp):
        self.t = t
        self.srv = srv
        self.tmp = tmp
        self.n = 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def issue(self, user, label="laptop", password=P12_PASSWORD, extra=(), env=(), out=None,
              tenant=None):
        """`cert issue` to a PKCS#12 file: (CompletedProcess, out path, serial or None)."""
        self.n += 1
        out = out or self.path("c%d.p12" % self.n)
        cmd = list(env) + [sekisho_test.SEKISHO, "--dir", self.srv.dir]
        if tenant:
            cmd += ["--tenant", tenant]
        cmd += ["cert", "issue", user, "--label", label, "--out", out,
                "--password-stdin"] + list(extra)
        r = run(cmd, input=(password + "\n") if password is not None else "")
        m = re.search(r"^serial=([0-9A-F]+)$", r.stdout, re.M)
        return r, out, m.group(1) if m else None

    def issue_csr(self, user, csr, label="csr device", env=(), out=None, tenant=None):
        self.n += 1
        out = out or self.path("c%d.pem" % self.n)
        cmd = list(env) + [sekisho_test.SEKISHO, "--dir", self.srv.dir]
        if tenant:
            cmd += ["--tenant", tenant]
        r = run(cmd + ["cert", "issue", user, "--label", label, "--csr", csr, "--out", out])
        m = re.search(r"^serial=([0-9A-F]+)$", r.stdout, re.M)
        return r, out, m.group(1) if m else None

    def p12_cert(self, p12, password=P12_PASSWORD, legacy=False):
        """The device certificate in a PKCS#12 file, as a PEM file path."""
        out = p12 + ".crt"
        r = openssl("pkcs12", "-in", p12, "-passin", "pass:" + password, "-clcerts",
                    "-nokeys", "-out", out, *(["-legacy"] if legacy else []))
        return out if r.returncode == 0 else None

    def x509(self, pem, *what):
        return openssl("x509", "-in", pem, "-noout", *what).stdout

    def csr(self, name, keyargs=("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"),
            subj="/CN=device", addext=()):
        path = self.path(name + ".csr")
        cmd = ["req", "-new", "-nodes", "-keyout", self.path(name + ".key"), "-out", path,
               "-subj", subj] + list(keyargs)
        for e in addext:
            cmd += ["-addext", e]
        r = openssl(*cmd)
        if r.returncode != 0:
            raise RuntimeError("openssl req: %s" % r.stderr)
        return path

    def records(self, user=None):
        """`cert list` rows as lists of fields."""
        out = self.srv.cli("cert", "list", *([user] if user else [])).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def active(self, user):
        return sum(1 for r in self.records(user) if r[3] == "active")

    def refused(self, r, out, name, want=None, code=None):
        """A refusal: non-zero exit (code if given), message on stderr, no file."""
        ok = r.returncode != 0 and (code is None or r.returncode == code)
        self.t.ok(ok and not os.path.exists(out) and (want is None or want in r.stderr),
                  name, "rc=%d %s" % (r.returncode, (r.stdout + r.stderr)[-400:]))


def setup():
    srv = Server()
    for u in USERS:
        srv.add_user(u, u + "-password-1", email=u + "@example.com")
    return srv


def part_ca(s):
    ca = s.path("ca.pem")
    s.srv.cli("cert", "ca", "--out", ca)
    text = s.x509(ca, "-text")
    s.t.ok("prime256v1" in text and "ecdsa-with-SHA256" in text,
           "the default device CA is EC P-256, signing with SHA-256", text[:600])
    s.t.ok(re.search(r"Basic Constraints: critical\s+CA:TRUE", text) and
           re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign", text),
           "the CA is CA:TRUE (critical) for certificate and CRL signing only")
    nb = gmt(s.x509(ca, "-startdate").split("=", 1)[1])
    na = gmt(s.x509(ca, "-enddate").split("=", 1)[1])
    s.t.ok(na - nb >= datetime.timedelta(days=20 * 365),
           "the CA is valid for 20 years (%s to %s)" % (nb, na))
    s.t.ok("default" in s.x509(ca, "-subject"), "the CA names its tenant")
    s.t.eq(stat.S_IMODE(os.stat(os.path.join(s.srv.dir, "ca.key")).st_mode), 0o600,
           "the key that seals the CA keys is mode 0600")
    r = s.srv.cli("tenant", "add", "rsa", "--ca-key", "rsa3072")
    s.t.ok("device CA of tenant rsa created (rsa3072)" in r.stdout,
           "tenant add --ca-key rsa3072", r.stdout)
    rca = s.path("rsa-ca.pem")
    s.srv.cli("cert", "ca", "--out", rca, tenant="rsa")
    text = s.x509(rca, "-text")
    s.t.ok("Public-Key: (3072 bit)" in text and "sha384WithRSAEncryption" in text,
           "the rsa tenant's CA is RSA-3072 signing with SHA-384", text[:900])
    r = s.srv.cli("tenant", "ca", "default", check=False)
    s.t.ok(r.returncode != 0 and "already has a device CA" in r.stderr,
           "a second CA for a tenant is refused", r.stderr)
    r = s.srv.cli("tenant", "add", "weak", "--ca-key", "rsa1024", check=False)
    s.t.ok(r.returncode != 0 and "p256 or rsa3072" in r.stderr, "--ca-key rsa1024 is refused")
    # The CA's private key is nowhere in the data directory in clear text.
    leaks = []
    for root, _, files in os.walk(s.srv.dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                if b"PRIVATE KEY-----" in fh.read() and f not in ("server.key", "ca.key"):
                    leaks.append(f)
    s.t.eq(leaks, [], "no clear-text private key in the data directory but the TLS key")
    # And the rsa tenant issues, openssl verifies.
    s.srv.add_user("ren", "ren-password-1", tenant="rsa")
    r, p12, serial = s.issue("ren", tenant="rsa")
    crt = s.p12_cert(p12) if r.returncode == 0 else None
    s.t.ok(crt and openssl("verify", "-CAfile", rca, "-purpose", "sslclient",
                           crt).returncode == 0,
           "a certificate from the RSA-3072 CA verifies against it", r.stderr)
    return ca


def part_pkcs12(s, ca):
    r, p12, serial = s.issue("alice", "laptop")
    s.t.ok(r.returncode == 0 and serial, "cert issue writes a PKCS#12 file", r.stderr)
    s.t.eq(stat.S_IMODE(os.stat(p12).st_mode), 0o600, "the PKCS#12 file is mode 0600")
    info = openssl("pkcs12", "-info", "-noout", "-in", p12, "-passin", "pass:" + P12_PASSWORD)
    s.t.ok(info.returncode == 0 and "MAC: sha256" in info.stderr and
           "PBES2, PBKDF2, AES-256-CBC" in info.stderr and "3DES" not in info.stderr,
           "default PKCS#12: AES-256-CBC with PBKDF2, SHA-256 MAC", info.stderr)
    key = s.path("alice.key")
    k = openssl("pkcs12", "-in", p12, "-passin", "pass:" + P12_PASSWORD, "-nocerts", "-nodes",
                "-out", key)
    crt = s.p12_cert(p12)
    s.t.ok(k.returncode == 0 and crt, "openssl pkcs12 converts it into a key and a certificate")
    pub1 = openssl("pkey", "-in", key, "-pubout").stdout
    pub2 = openssl("x509", "-in", crt, "-noout", "-pubkey").stdout
    s.t.ok(pub1 and pub1 == pub2, "the key in the file belongs to the certificate")
    cas = openssl("pkcs12", "-in", p12, "-passin", "pass:" + P12_PASSWORD, "-cacerts",
                  "-nokeys").stdout
    s.t.ok(s.x509(ca, "-fingerprint", "-sha256").split("=", 1)[1].strip() in
           openssl("x509", "-noout", "-fingerprint", "-sha256", input=cas).stdout,
           "the file carries the tenant CA certificate")
    bad = openssl("pkcs12", "-in", p12, "-passin", "pass:wrong-password-123", "-nokeys")
    s.t.ok(bad.returncode != 0, "a wrong password does not open it")
    r, lp12, _ = s.issue("alice", "old mac", extra=["--legacy"])
    info = openssl("pkcs12", "-info", "-noout", "-in", lp12, "-passin",
                   "pass:" + P12_PASSWORD)
    s.t.ok(r.returncode == 0 and "MAC: sha1" in info.stderr and
           "pbeWithSHA1And3-KeyTripleDES-CBC" in info.stderr and "AES" not in info.stderr,
           "--legacy: 3DES with a SHA-1 MAC", info.stderr)
    s.t.ok(s.p12_cert(lp12) is not None, "openssl converts the legacy file too")
    return serial, crt


def part_content(s, ca, serial, crt):
    text = s.x509(crt, "-text")
    ossl_serial = s.x509(crt, "-serial").strip().split("=", 1)[1]
    s.t.eq(int(ossl_serial, 16), int(serial, 16), "the serial printed is the certificate's")
    s.t.ok(int(serial, 16).bit_length() <= 128 and int(serial, 16).bit_length() > 64,
           "the serial is a positive number of at most 128 bits (%d)" %
           int(serial, 16).bit_length())
    subj = s.x509(crt, "-subject", "-nameopt", "RFC2253").strip()
    s.t.ok("CN=alice" in subj and "OU=laptop" in subj and "O=default" in subj,
           "the subject names tenant, user and device label", subj)
    s.t.ok(re.search(r"Key Usage: critical\s+Digital Signature\s*\n", text),
           "keyUsage: digitalSignature only, critical")
    s.t.ok(re.search(r"Extended Key Usage:\s*\n\s+TLS Web Client Authentication\s*\n", text),
           "extendedKeyUsage: clientAuth only")
    s.t.ok(re.search(r"Basic Constraints: critical\s+CA:FALSE", text), "CA:FALSE")
    ski = re.search(r"Subject Key Identifier:\s*\n\s+(\S+)", s.x509(ca, "-text"))
    aki = re.search(r"Authority Key Identifier:\s*\n\s+(?:keyid:)?(\S+)", text)
    s.t.ok("Subject Key Identifier" in text and ski and aki and
           aki.group(1) == ski.group(1), "SKI present and AKI is the CA's key identifier")
    s.t.ok("Subject Alternative Name" not in text, "no subject alternative name")
    v = openssl("verify", "-CAfile", ca, "-purpose", "sslclient", crt)
    s.t.ok(v.returncode == 0, "openssl verifies it for client authentication", v.stderr)
    v = openssl("verify", "-CAfile", ca, "-purpose", "sslserver", crt)
    s.t.ok(v.returncode != 0, "and refuses it as a server certificate")
    show = s.srv.cli("cert", "show", serial).stdout
    issued = datetime.datetime.strptime(re.search(r"^issued=(\S+)$", show, re.M).group(1),
                                        "%Y-%m-%dT%H:%M:%SZ").replace(
                                            tzinfo=datetime.timezone.utc)
    nb = gmt(s.x509(crt, "-startdate").split("=", 1)[1])
    na = gmt(s.x509(crt, "-enddate").split("=", 1)[1])
    s.t.eq(issued - nb, datetime.timedelta(seconds=300), "notBefore is 5 minutes before issue")
    s.t.eq(na, issued.replace(year=issued.year + 5), "notAfter is the same instant 5 years on")
    now = datetime.datetime.now(datetime.timezone.utc)
    s.t.ok(abs((now - issued).total_seconds()) < 120, "issued is now (%s)" % issued)
    s.t.ok("status=active" in show and "user=alice" in show and "label=laptop" in show,
           "cert show: active, user, label", show)
    fp = openssl("x509", "-in", crt, "-noout", "-fingerprint", "-sha256").stdout
    fp = fp.split("=", 1)[1].strip().replace(":", "").lower()
    s.t.ok(re.search(r"^sha256=%s$" % fp, show, re.M, ) or
           re.search(r"^sha256=%s$" % fp.upper(), show, re.M),
           "cert show gives the certificate's SHA-256 fingerprint", show)
    _, _, serial2 = s.issue("bob", "desk")
    s.t.ok(serial2 and serial2 != serial, "serials differ between certificates")


def asn1_times(pem):
    """The ASN.1 tags of notBefore and notAfter: UTCTIME or GENERALIZEDTIME."""
    der = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"],
                         capture_output=True, timeout=60).stdout
    out = subprocess.run(["openssl", "asn1parse", "-inform", "DER"], input=der,
                         capture_output=True, timeout=60).stdout.decode()
    return re.findall(r"prim:\s+(UTCTIME|GENERALIZEDTIME)\s*:", out)[:2]


def part_dates(s):
    # A clock that stands still (-f, no "@"): the dates are compared to the second, and a
    # slow start (a sanitizer build on a busy machine) must not move them.
    env = sekisho_test.faketime(["-f", "2028-02-29 12:00:00"])
    r, p12, _ = s.issue("leap", "leap day", env=env)
    crt = s.p12_cert(p12) if r.returncode == 0 else None
    s.t.ok(crt, "issuing on 29 February works", r.stdout + r.stderr)
    if crt:
        s.t.eq(s.x509(crt, "-startdate").strip(), "notBefore=Feb 29 11:55:00 2028 GMT",
               "29 February: notBefore backdated 5 minutes")
        s.t.eq(s.x509(crt, "-enddate").strip(), "notAfter=Feb 28 12:00:00 2033 GMT",
               "29 February: notAfter on 28 February five years on")
        s.t.eq(asn1_times(crt), ["UTCTIME", "UTCTIME"], "dates before 2050 are UTCTime")
    # The default CA (created today, 20 years) would end before a certificate issued in
    # 2045: refused, nothing written, nothing stored.
    before = len(s.records("leap"))
    r, out, _ = s.issue("leap", "too late", env=sekisho_test.faketime("2045-01-01 00:00:00"))
    s.refused(r, out, "a certificate that would outlive its CA is refused",
              "device CA expires before")
    s.t.eq(len(s.records("leap")), before, "and not recorded")
    # A tenant whose CA was made in 2040 issues in 2046 until 2051: GeneralizedTime.
    fut = sekisho_test.faketime("2040-01-01 00:00:00")
    r = run(fut + [sekisho_test.SEKISHO, "--dir", s.srv.dir, "tenant", "add", "future"])
    s.t.ok(r.returncode == 0, "a tenant made in 2040", r.stderr)
    s.srv.add_user("flo", "flo-password-1", tenant="future")
    r, p12, _ = s.issue("flo", "2046", env=sekisho_test.faketime("2046-06-01 08:00:00"),
                        tenant="future")
    crt = s.p12_cert(p12) if r.returncode == 0 else None
    s.t.ok(crt, "issued in 2046", r.stdout + r.stderr)
    if crt:
        s.t.eq(s.x509(crt, "-enddate").strip(), "notAfter=Jun  1 08:00:00 2051 GMT",
               "notAfter 2051-06-01")
        s.t.eq(asn1_times(crt), ["UTCTIME", "GENERALIZEDTIME"],
               "notAfter after 2049 is GeneralizedTime, notBefore stays UTCTime")


def part_rules(s):
    before = len(s.records())
    audit_before = len(s.srv.audit())
    bad = [("short-pw-11", "laptop", "11-character password"),
           ("x" * 51, "laptop", "51-character password"),
           ("tab\tin-password", "laptop", "password with a control character"),
           ("pässwörd-with-umlaut", "laptop", "password outside printable ASCII"),
           (P12_PASSWORD, "", "empty label"),
           (P12_PASSWORD, "l" * 65, "65-byte label"),
           (P12_PASSWORD, "bad\nlabel", "label with a newline"),
           (P12_PASSWORD, "ラベル" * 8, "label of 72 UTF-8 bytes")]
    for pw, label, name in bad:
        r, out, _ = s.issue("rules", label, password=pw)
        s.refused(r, out, "refused: " + name)
    # Invalid UTF-8 in the label, straight from argv.
    out = s.path("badutf8.p12")
    r = subprocess.run([sekisho_test.SEKISHO.encode(), b"--dir", s.srv.dir.encode(), b"cert",
                        b"issue", b"rules", b"--label", b"caf\xe9", b"--out", out.encode(),
                        b"--password-stdin"], input=(P12_PASSWORD + "\n").encode(),
                       capture_output=True, timeout=60)
    s.t.ok(r.returncode != 0 and not os.path.exists(out), "refused: label not UTF-8")
    r, out, _ = s.issue("rules", password=None)
    s.refused(r, out, "refused: no password on standard input")
    r = s.srv.cli("cert", "issue", "rules", "--label", "x", "--out", s.path("np.p12"),
                  check=False)
    s.refused(r, s.path("np.p12"), "refused: PKCS#12 without --password-stdin",
              "--password-stdin")
    r, out, _ = s.issue("nobody")
    s.refused(r, out, "refused: unknown user", "no such user")
    s.srv.cli("user", "disable", "carol")
    r, out, _ = s.issue("carol")
    s.refused(r, out, "refused: disabled user", "disabled")
    s.srv.cli("user", "enable", "carol")
    r, out, _ = s.issue("rules", out=s.path("no/such/dir/x.p12"))
    s.refused(r, s.path("no/such/dir/x.p12"), "refused: output directory missing")
    r, out, _ = s.issue("rules", tenant="nosuchtenant")
    s.refused(r, out, "refused: unknown tenant")
    s.t.eq(len(s.records()), before, "refusals store no certificate")
    s.t.eq([a for a in s.srv.audit()[audit_before:] if a[0] == "cert.issue"], [],
           "and audit no issuance")
    for pw, label, name in (("a" * 12, "l" * 64, "12-character password, 64-byte label"),
                            ("~" * 50, "ラベル ok", "50-character password, UTF-8 label")):
        r, p12, _ = s.issue("rules", label, password=pw)
        s.t.ok(r.returncode == 0 and s.p12_cert(p12, password=pw), "accepted: " + name,
               r.stderr)
    r = s.srv.cli("cert", "issue", "rules", "--label", "x", "--csr", s.path("none.csr"),
                  "--out", s.path("y.pem"), "--password-stdin", input="x" * 20, check=False)
    s.refused(r, s.path("y.pem"), "refused: --csr with --password-stdin")


def part_csr(s, ca):
    csr = s.csr("good", subj="/CN=bob/O=other", addext=(
        "basicConstraints=critical,CA:TRUE", "subjectAltName=email:bob@example.com",
        "extendedKeyUsage=serverAuth", "keyUsage=keyCertSign"))
    r, pem, serial = s.issue_csr("csr", csr)
    s.t.ok(r.returncode == 0 and serial, "a P-256 CSR is issued", r.stderr)
    text = s.x509(pem, "-text")
    subj = s.x509(pem, "-subject", "-nameopt", "RFC2253")
    s.t.ok("CN=csr" in subj and "bob" not in subj, "the subject comes from Sekisho, not the "
           "CSR", subj)
    s.t.ok(re.search(r"CA:FALSE", text) and "CA:TRUE" not in text and
           "Subject Alternative Name" not in text and "Server Authentication" not in text and
           "Certificate Sign" not in text,
           "requested extensions are ignored (CA:TRUE, another user's SAN, serverAuth)")
    pub_csr = openssl("req", "-in", csr, "-noout", "-pubkey").stdout
    s.t.eq(openssl("x509", "-in", pem, "-noout", "-pubkey").stdout, pub_csr,
           "the certificate carries the CSR's key")
    s.t.ok(openssl("verify", "-CAfile", ca, "-purpose", "sslclient", pem).returncode == 0,
           "and verifies against the CA")
    s.t.eq(stat.S_IMODE(os.stat(pem).st_mode), 0o644, "the certificate file is mode 0644")
    ok_keys = [(("-newkey", "rsa:2048"), "RSA-2048"),
               (("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"), "P-384")]
    for args, name in ok_keys:
        r, _, _ = s.issue_csr("csr", s.csr(name, keyargs=args), label=name)
        s.t.ok(r.returncode == 0, "accepted: CSR with " + name, r.stderr)
    before = len(s.records())
    # Explicit EC parameters.
    ek = s.path("explicit.key")
    openssl("ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey", "-noout",
            "-out", ek)
    ecsr = s.path("explicit.csr")
    g = openssl("req", "-new", "-key", ek, "-subj", "/CN=x", "-out", ecsr)
    s.t.ok(g.returncode == 0 and "Prime:" in openssl("req", "-in", ecsr, "-noout",
                                                      "-text").stdout,
           "the explicit-parameter CSR has explicit parameters", g.stderr)
    # A bad proof of possession: one bit of the signature flipped.
    der = s.path("good.der")
    openssl("req", "-in", csr, "-outform", "DER", "-out", der)
    with open(der, "rb") as f:
        b = bytearray(f.read())
    b[-5] ^= 0x01
    with open(der, "wb") as f:
        f.write(bytes(b))
    badpop = s.path("badpop.csr")
    openssl("req", "-inform", "DER", "-in", der, "-out", badpop)
    v = openssl("req", "-in", badpop, "-noout", "-verify")
    s.t.ok("verify failure" in v.stdout + v.stderr,
           "openssl agrees the tampered CSR's signature is bad", v.stdout + v.stderr)
    big = s.path("big.csr")
    with open(big, "w") as f:
        f.write("-----BEGIN CERTIFICATE REQUEST-----\n" + ("A" * 64 + "\n") * 1100 +
                "-----END CERTIFICATE REQUEST-----\n")
    empty = s.path("empty.csr")
    open(empty, "w").close()
    cases = [(s.csr("rsa1024", keyargs=("-newkey", "rsa:1024")), "RSA-1024", "2048"),
             (ecsr, "explicit EC parameters", "explicit"),
             (badpop, "bad proof of possession", None),
             (s.csr("k1", keyargs=("-newkey", "ec", "-pkeyopt",
                                   "ec_paramgen_curve:secp256k1")), "curve secp256k1", None),
             (ca, "a certificate instead of a CSR", None),
             (empty, "an empty file", None),
             (big, "a 70 KB file", None),
             (s.path("missing.csr"), "a missing file", None)]
    for path, name, want in cases:
        r, out, _ = s.issue_csr("csr", path, label="bad")
        s.refused(r, out, "refused: CSR with " + name, want)
    s.t.eq(len(s.records()), before, "refused CSRs store nothing")


def part_cap(s):
    csr = s.csr("cap")
    serials = []
    for i in range(10):
        r, _, serial = s.issue_csr("capper", csr, label="device %d" % i)
        serials.append(serial)
    s.t.ok(all(serials), "10 certificates for one user")
    r, out, _ = s.issue("capper", "eleventh")
    s.refused(r, out, "the 11th active certificate is refused with exit code 3", code=3)
    s.t.ok("already has 10 active device certificates (the limit is 10): revoke one first"
           in r.stderr, "with a clear message", r.stderr)
    r, out, _ = s.issue_csr("capper", csr, label="eleventh")
    s.refused(r, out, "also on the CSR path", code=3)
    s.t.eq(s.active("capper"), 10, "still 10 active")
    s.srv.cli("cert", "revoke", serials[0])
    r, _, _ = s.issue("capper", "after revoke")
    s.t.ok(r.returncode == 0, "revoking one frees its slot", r.stderr)
    r, out, _ = s.issue("capper", "twelfth")
    s.refused(r, out, "then the cap holds again", code=3)

    # Expiry frees a slot: one issued 6 years ago (expired now) does not count.
    r, _, _ = s.issue("expo", "ancient", env=sekisho_test.faketime(["-f", "-2200d"]))
    s.t.ok(r.returncode == 0, "a certificate issued 2200 days ago", r.stderr)
    ok = [s.issue_csr("expo", csr, label="d%d" % i)[0].returncode == 0 for i in range(10)]
    s.t.ok(all(ok), "10 more go to the same user: the expired one holds no slot")
    rows = s.records("expo")
    s.t.eq(sorted(r[3] for r in rows), ["active"] * 10 + ["expired"],
           "cert list: 10 active, 1 expired")
    # And five years on, a certificate issued today has expired too.
    r, _, _ = s.issue("expo", "future", env=sekisho_test.faketime(["-f", "+1830d"]))
    s.t.ok(r.returncode == 0, "5 years on (faketime) the user's slots are free again",
           r.stderr)


def concurrent_issue(s, user, n):
    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        futs = [ex.submit(s.issue, user, "race %d" % i) for i in range(n)]
        return [f.result() for f in futs]


def part_race(s):
    csr = s.csr("race")
    for i in range(9):
        s.issue_csr("racer", csr, label="r%d" % i)
    s.t.eq(s.active("racer"), 9, "racer has 9 active")
    res = concurrent_issue(s, "racer", 5)
    wins = [r for r, out, serial in res if r.returncode == 0]
    s.t.eq(len(wins), 1, "5 concurrent issuances at 9 active: exactly one succeeds")
    s.t.eq(sorted(r.returncode for r, _, _ in res), [0, 3, 3, 3, 3],
           "the others exit 3 (the cap)")
    s.t.eq(sum(os.path.exists(out) for _, out, _ in res), 1, "and exactly one file written")
    s.t.eq(s.active("racer"), 10, "racer has 10 active")
    for i in range(5):
        s.issue_csr("burst", csr, label="b%d" % i)
    res = concurrent_issue(s, "burst", 8)
    s.t.eq(sorted(r.returncode for r, _, _ in res), [0] * 5 + [3] * 3,
           "8 concurrent at 5 active: exactly 5 succeed")
    s.t.eq(s.active("burst"), 10, "burst has 10 active")
    files = [out for r, out, _ in res if os.path.exists(out)]
    s.t.ok(len(files) == 5 and all(s.p12_cert(f) for f in files),
           "every written file is a whole PKCS#12 that opens")


def part_revoke(s, ca):
    crl0 = s.path("crl0.der")
    r = s.srv.cli("cert", "crl", "--out", crl0)
    n0 = int(re.search(r"CRL (\d+) ", r.stdout).group(1))
    r, p12, serial = s.issue("bob", "phone")
    crt = s.p12_cert(p12)
    ossl = s.x509(crt, "-serial").strip().split("=", 1)[1]
    for form in (ossl, ossl.lower(), ":".join(ossl[i:i + 2] for i in range(0, len(ossl), 2))):
        show = s.srv.cli("cert", "show", form, check=False)
        s.t.ok(show.returncode == 0 and "user=bob" in show.stdout,
               "cert show %s (as openssl prints it, any case, colons)" % form)
    for bad in ("xyz", "", "12" * 30, "-1"):
        r = s.srv.cli("cert", "revoke", bad, check=False)
        s.t.ok(r.returncode != 0 and "serial" in r.stderr, "revoke %r: clear error" % bad,
               r.stderr)
    r = s.srv.cli("cert", "revoke", "AB" * 16, check=False)
    s.t.ok(r.returncode != 0, "revoking an unknown serial fails", r.stderr)
    r = s.srv.cli("cert", "revoke", serial, "--reason", "bogus", check=False)
    s.t.ok(r.returncode != 0 and "--reason must be one of" in r.stderr,
           "an unknown reason is refused")
    s.t.ok("status=active" in s.srv.cli("cert", "show", serial).stdout,
           "and revokes nothing")
    colon = ":".join(ossl.lower()[i:i + 2] for i in range(0, len(ossl), 2))
    r = s.srv.cli("cert", "revoke", colon, "--reason", "keyCompromise")
    m = re.search(r"revoked \(keyCompromise\); CRL (\d+) published", r.stdout)
    s.t.ok(m and int(m.group(1)) > n0, "revoke by lower-case colon serial, a new CRL", r.stdout)
    show = s.srv.cli("cert", "show", serial).stdout
    s.t.ok("status=revoked" in show and "reason=keyCompromise" in show and "revoked=" in show,
           "cert show: revoked, keyCompromise", show)
    r = s.srv.cli("cert", "revoke", serial)
    s.t.ok("already revoked" in r.stdout, "revoking twice says so", r.stdout)
    s.srv.audit_has(s.t, "cert.revoke", "serial=" + serial, "reason=keyCompromise")

    # The CRL, from the command line and over HTTP.
    crl = s.path("crl.der")
    r = s.srv.cli("cert", "crl", "--out", crl)
    n1 = int(re.search(r"CRL (\d+) ", r.stdout).group(1))
    s.t.ok(n1 > n0, "the CRL number went up (%d -> %d)" % (n0, n1))
    text = openssl("crl", "-inform", "DER", "-in", crl, "-CAfile", ca, "-noout", "-text")
    s.t.ok(text.returncode == 0 and "verify OK" in text.stderr + text.stdout,
           "the CRL verifies against the CA", text.stderr)
    s.t.ok(re.search(r"Serial Number: %s\s.*?CRL Reason Code:\s*\n\s+Key Compromise" %
                     ossl, text.stdout, re.S), "the CRL lists the serial with its reason")
    s.t.ok(re.search(r"X509v3 CRL Number:\s*\n\s+%d\b" % n1, text.stdout),
           "the CRL carries its number")
    lu = gmt(re.search(r"Last Update: (.*)", text.stdout).group(1))
    nu = gmt(re.search(r"Next Update: (.*)", text.stdout).group(1))
    s.t.eq(nu - lu, datetime.timedelta(days=7), "nextUpdate is 7 days after lastUpdate")
    h = requests.get(s.srv.base() + "/certs/crl", verify=s.srv.ca)
    s.t.ok(h.status_code == 200 and h.headers.get("Content-Type") == "application/pkix-crl",
           "GET /t/default/certs/crl: 200 application/pkix-crl", h.headers)
    hcrl = s.path("http.crl")
    with open(hcrl, "wb") as f:
        f.write(h.content)
    ht = openssl("crl", "-inform", "DER", "-in", hcrl, "-CAfile", ca, "-noout", "-text")
    s.t.ok(ht.returncode == 0 and ossl in ht.stdout and
           re.search(r"CRL Number:\s*\n\s+%d\b" % n1, ht.stdout),
           "the served CRL verifies and is the current one", ht.stdout[:400])
    h = requests.get(s.srv.base() + "/certs/ca.pem", verify=s.srv.ca)
    with open(ca) as f:
        s.t.ok(h.status_code == 200 and h.text == f.read(),
               "GET /t/default/certs/ca.pem is the CA certificate")
    h = requests.get(s.srv.base("nosuch") + "/certs/crl", verify=s.srv.ca)
    s.t.eq(h.status_code, 404, "no CRL for an unknown tenant")
    pem_crl = s.path("crl.pem")
    openssl("crl", "-inform", "DER", "-in", crl, "-out", pem_crl)
    v = openssl("verify", "-crl_check", "-CRLfile", pem_crl, "-CAfile", ca, crt)
    s.t.ok(v.returncode != 0 and "revoked" in v.stdout + v.stderr,
           "openssl verify -crl_check: the revoked certificate is revoked")
    _, p12b, _ = s.issue("bob", "other")
    v = openssl("verify", "-crl_check", "-CRLfile", pem_crl, "-CAfile", ca, s.p12_cert(p12b))
    s.t.ok(v.returncode == 0, "and an active one passes", v.stderr)
    # Every reason name is accepted.
    for reason in ("unspecified", "affiliationChanged", "superseded", "cessationOfOperation",
                   "privilegeWithdrawn"):
        _, _, sr = s.issue("carol", reason[:20])
        r = s.srv.cli("cert", "revoke", sr, "--reason", reason, check=False)
        s.t.ok(r.returncode == 0 and "reason=" + reason in s.srv.cli(
            "cert", "show", sr).stdout, "revoke --reason " + reason, r.stderr)


def part_expiring(s):
    # Issued 1800 days ago: expires in 1826 - 1800 = 26 days (or 25 with a leap day).
    r, _, serial = s.issue("old", "aging", env=sekisho_test.faketime(["-f", "-1800d"]))
    s.t.ok(r.returncode == 0, "a certificate issued 1800 days ago", r.stderr)
    _, _, fresh = s.issue("old", "new one")
    out = s.srv.cli("cert", "list", "--expiring-within", "30d").stdout
    s.t.ok(serial in out and fresh not in out, "--expiring-within 30d lists it, not the new one",
           out)
    out = s.srv.cli("cert", "list", "old", "--expiring-within", "20d").stdout
    s.t.ok(serial not in out, "--expiring-within 20d does not", out)
    out = s.srv.cli("cert", "list", "old", "--expiring-within", "1830d").stdout
    s.t.ok(serial in out and fresh in out, "--expiring-within 1830d lists both (5 years is at "
           "most 1827 days)", out)
    for bad in ("abc", "0", "-5d", "30x"):
        r = s.srv.cli("cert", "list", "--expiring-within", bad, check=False)
        s.t.ok(r.returncode != 0 and "duration" in r.stderr,
               "--expiring-within %s: clear error" % bad, r.stderr)
    r = s.srv.cli("cert", "list", "nobody", check=False)
    s.t.ok(r.returncode != 0 and "no such user" in r.stderr, "cert list for an unknown user")
    rows = {r[0]: r for r in s.records("old")}
    s.t.ok(rows[serial][3] == "active" and rows[serial][6] == "-",
           "cert list: status active, never used", rows[serial])


def part_user_remove(s):
    serials = [s.issue("leaver", "d%d" % i)[2] for i in range(2)]
    s.srv.cli("user", "remove", "leaver")
    for sr in serials:
        show = s.srv.cli("cert", "show", sr).stdout
        s.t.ok("status=revoked" in show and "reason=cessationOfOperation" in show,
               "removing the user revoked %s (cessationOfOperation)" % sr, show)
    h = requests.get(s.srv.base() + "/certs/crl", verify=s.srv.ca)
    crl = s.path("leaver.crl")
    with open(crl, "wb") as f:
        f.write(h.content)
    text = openssl("crl", "-inform", "DER", "-in", crl, "-noout", "-text").stdout
    s.t.ok(all(sr in text for sr in serials), "the served CRL lists them at once")
    # A new user of the same name gets their own ID: the old certificates stay revoked and
    # do not count against the new user's cap.
    s.srv.add_user("leaver", "leaver-password-2")
    r, _, _ = s.issue("leaver", "fresh")
    s.t.ok(r.returncode == 0 and s.active("leaver") == 1,
           "a new user of the same name starts with no active certificate", r.stderr)


def part_audit(s):
    s.srv.audit_has(s.t, "cert.issue", "user=alice", "label=laptop", "method=pkcs12")
    s.srv.audit_has(s.t, "cert.issue", "user=csr", "method=csr")
    v = s.srv.cli("audit", "verify", check=False)
    s.t.ok(v.returncode == 0, "the audit chain verifies", v.stdout + v.stderr)
    secrets = [P12_PASSWORD, "a" * 12, "~" * 50] + [u + "-password-1" for u in USERS]
    text = s.srv.log() + "\n".join("%s %s" % r for r in s.srv.audit())
    s.t.eq(sekisho_test.grep_secret_leaks(text, secrets), [],
           "no password in the log or the audit trail")


def main():
    t = Tap()
    srv = setup()
    tmp = tempfile.mkdtemp(prefix="sekisho-certs-")
    try:
        s = Scenario(t, srv, tmp)
        ca = part_ca(s)
        serial, crt = part_pkcs12(s, ca)
        t.run("certificate content", part_content, s, ca, serial, crt)
        t.run("dates", part_dates, s)
        t.run("password and label rules", part_rules, s)
        t.run("CSR", part_csr, s, ca)
        t.run("cap", part_cap, s)
        t.run("concurrent issuance", part_race, s)
        t.run("revocation and CRL", part_revoke, s, ca)
        t.run("expiring", part_expiring, s)
        t.run("user remove", part_user_remove, s)
        part_audit(s)
    finally:
        srv.close()
        if os.environ.get("SEKISHO_KEEP") != "1":
            subprocess.run(["rm", "-rf", tmp])
    t.done()


if __name__ == "__main__":
    main()
