"""The command lines as a new administrator meets them (issue 8): `user import` with a bad
first line, SAML metadata with http endpoints, `key list --use ca`, unknown or extra
arguments, `init` and `sekishod -n` on a public URL, `cert issue --out` over a file,
help, version, typos, passwords asked on a terminal (a pseudo-terminal here) and counted
in characters, the audit trail's filters and JSON lines, and client secrets that survive
`curl -u`."""
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

import requests

import sekisho_test as st

sys.path.insert(0, st.PEERS)
import samlforge as sf  # noqa: E402

t = st.Tap()
RULE = ("must be https (http only for 127.0.0.1, [::1] or localhost), absolute, without "
        "fragment or user info")


def version():
    with open(os.path.join(st.SRCDIR, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[sekisho\], \[([^]]+)\]", f.read()).group(1)


def run(cmd, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def crashed(r):
    """A signal or an abort, not an exit."""
    return r.returncode < 0 or r.returncode >= 128


def users(srv):
    return srv.cli("user", "list").stdout


# ---- item 2: user import whose first line is bad ----

def import_bad_first_line(srv):
    before = users(srv)
    cases = [("bad user name", "bad name!\tx@example.org\tX\n", "bad user name"),
             ("bad email", "okname\tnot-an-email\tX\n", "bad email address"),
             ("too many fields", "okname\tx@example.org\tX\textra\n", "more than three fields"),
             ("bad name, good lines after", "b@d n@me\nfine1\tf@example.org\n",
              "bad user name"),
             ("an existing user", "alice\ta@example.org\n", "already exists")]
    for name, text, msg in cases:
        path = os.path.join(srv.tmp, "import.txt")
        with open(path, "w") as f:
            f.write(text)
        r = srv.cli("user", "import", path, check=False)
        t.ok(r.returncode == 1 and not crashed(r) and r.stderr.startswith(
            "sekisho: %s:1: " % path) and msg in r.stderr,
             "import with a bad first line (%s): exit 1 with the message, no crash" % name,
             "%d %s" % (r.returncode, r.stderr))
        t.eq(users(srv), before, "import with a bad first line (%s) imports nothing" % name)


# ---- item 3: SAML endpoints follow the redirect-URI rule ----

def saml_http_endpoints(srv):
    r = srv.cli("app", "add-oidc", "httprp", "--redirect-uri", "http://rp.example/cb",
                check=False)
    oidc_msg = r.stderr.strip().split(": ", 2)[-1]
    t.ok(r.returncode == 1 and oidc_msg == RULE, "add-oidc refuses an http redirect URI",
         r.stderr)
    cases = [("http ACS on a public host", ["http://sp.example.com/acs"],
              "https://sp.example.com/slo", "AssertionConsumerService http://sp.example.com/acs"),
             ("http second ACS", ["https://sp.example.com/acs", "http://sp.example.com/acs2"],
              "https://sp.example.com/slo", "AssertionConsumerService "
              "http://sp.example.com/acs2"),
             ("http SLO on a public host", ["https://sp.example.com/acs"],
              "http://sp.example.com/slo", "SingleLogoutService http://sp.example.com/slo"),
             ("http ACS to a host named like loopback", ["http://127.0.0.1.evil.example/acs"],
              "https://sp.example.com/slo", "AssertionConsumerService "
              "http://127.0.0.1.evil.example/acs"),
             ("ACS with user info", ["https://user@sp.example.com/acs"],
              "https://sp.example.com/slo", "AssertionConsumerService "
              "https://user@sp.example.com/acs")]
    for i, (name, acs, slo, what) in enumerate(cases):
        md = os.path.join(srv.tmp, "sp%d.xml" % i)
        with open(md, "w") as f:
            f.write(sf.sp_metadata("https://sp%d.example.com/sp" % i, acs, slo))
        r = srv.cli("app", "add-saml", "sp%d" % i, "--metadata", md, check=False)
        t.ok(r.returncode == 1 and ("%s: %s: %s" % (md, what, RULE)) in r.stderr and
             r.stderr.strip().split(": ", 3)[-1] == oidc_msg,
             "add-saml refuses metadata with an %s, with add-oidc's words" % name, r.stderr)
        t.ok("sp%d\t" % i not in srv.cli("app", "list").stdout,
             "add-saml with an %s registers nothing" % name)
    # The same ACS hidden in UTF-7 ("+ADw-" is "<"): lasso follows the declared encoding.
    md = os.path.join(srv.tmp, "utf7.xml")
    hidden = ('+ADw-md:AssertionConsumerService index=+ACI-1+ACI- Binding=+ACI-urn:oasis:'
              'names:tc:SAML:2.0:bindings:HTTP-POST+ACI- Location=+ACI-http://evil.example.org'
              '/acs+ACI-/+AD4-')
    text = sf.sp_metadata("https://utf7.example.com/sp", ["https://sp.example.com/acs"],
                          "https://sp.example.com/slo")
    i = text.index("<md:AssertionConsumerService")
    with open(md, "w") as f:
        f.write((text[:i] + hidden + text[i:]).replace('<?xml version="1.0"?>',
                                                        '<?xml version="1.0" encoding="UTF-7"?>'))
    r = srv.cli("app", "add-saml", "utf7", "--metadata", md, check=False)
    t.ok(r.returncode == 1 and "declares an encoding other than UTF-8" in r.stderr,
         "add-saml refuses metadata in UTF-7, which could hide an http ACS from the check",
         r.stderr)
    t.ok("utf7\t" not in srv.cli("app", "list").stdout, "UTF-7 metadata registers nothing")
    for i, (name, acs, slo) in enumerate([
            ("https endpoints", ["https://sp.example.com/acs"], "https://sp.example.com/slo"),
            ("http to 127.0.0.1", ["http://127.0.0.1:9/acs"], "http://127.0.0.1:9/slo"),
            ("http to localhost and [::1]", ["http://localhost:9/acs"], "http://[::1]:9/slo")]):
        md = os.path.join(srv.tmp, "okp%d.xml" % i)
        with open(md, "w") as f:
            f.write(sf.sp_metadata("https://ok%d.example.com/sp" % i, acs, slo))
        r = srv.cli("app", "add-saml", "ok%d" % i, "--metadata", md, check=False)
        t.ok(r.returncode == 0, "add-saml accepts %s" % name, r.stderr)


# ---- item 4: key list --use ca; unknown and extra arguments everywhere ----

def key_list_ca(srv):
    r = srv.cli("key", "list", "--use", "ca", check=False)
    lines = r.stdout.splitlines()
    ca = os.path.join(srv.tmp, "ca.pem")
    srv.cli("cert", "ca", "--out", ca)
    fp = st.sh(["openssl", "x509", "-in", ca, "-noout", "-fingerprint", "-sha256"]).stdout
    fp = fp.strip().split("=", 1)[-1].replace(":", "")
    t.ok(r.returncode == 0 and len(lines) == 1 and lines[0].split("\t")[:2] == ["ca", fp[:16]]
         and lines[0].split("\t")[3] == "active",
         "key list --use ca lists the tenant's device CA key", r.stdout + r.stderr)
    t.ok(any(line.startswith("ca\t") for line in srv.cli("key", "list").stdout.splitlines()),
         "key list without --use includes the CA key")
    r = srv.cli("key", "list", "--use", "foo", check=False)
    t.ok(r.returncode == 2 and '"foo"' in r.stderr and "saml, oidc or ca" in r.stderr and
         not r.stdout, "key list --use foo: exit 2 naming the value and the allowed ones",
         "%d %s" % (r.returncode, r.stderr))


def bad_command_lines(srv):
    state = lambda: (users(srv), srv.cli("app", "list").stdout,  # noqa: E731
                     srv.cli("group", "list").stdout, srv.cli("policy", "list").stdout)
    before = state()
    cases = [(["user", "list", "extra"], "extra"),
             (["group", "list", "x"], '"x"'),
             (["tenant", "list", "x"], '"x"'),
             (["key", "list", "x"], '"x"'),
             (["policy", "list", "x"], '"x"'),
             (["audit", "verify", "x"], '"x"'),
             (["user", "add"], "NAME"),
             (["user", "add", "a1", "b1"], '"b1"'),
             (["user", "list", "--email", "x@example.org"], "--email"),
             (["group", "add", "g1", "--name", "x"], "--name"),
             (["app", "list", "--bogus"], "--bogus"),
             (["cert", "show"], "SERIAL"),
             (["cert", "list", "--reason", "x"], "--reason"),
             (["key", "rotate", "--use", "ca"], '"ca"'),
             (["app", "add-saml", "x1"], "--metadata"),
             (["app", "add-oidc", "x2", "--auth", "basic"], '"basic"'),
             (["app", "add-oidc", "x3", "--redirect-uri"], "--redirect-uri"),
             (["user", "add", "u1", "--email", "a@x.org", "--email", "b@x.org"], "twice"),
             (["policy", "set", "--user", "alice", "device-required", "maybe"], '"maybe"'),
             (["audit", "--since"], "--since"),
             (["audit", "--since", "yesterday"], "--since"),
             (["backup"], "PATH"),
             (["user", "disable"], "NAME")]
    for args, needle in cases:
        r = srv.cli(*args, check=False)
        t.ok(r.returncode == 2 and needle in r.stderr and "usage:" in r.stderr and
             not r.stdout, "sekisho %s: exit 2, names %s" % (" ".join(args), needle),
             "%d out=%r err=%r" % (r.returncode, r.stdout[:200], r.stderr[:300]))
    t.eq(state(), before, "refused command lines changed nothing")
    # audit --user was silently ignored: it filters now.
    r = srv.cli("audit", "--user", "nobody-at-all")
    t.ok(r.stdout == "" and srv.cli("audit").stdout != "",
         "audit --user filters (nothing for an unknown user)", r.stdout[:300])


# ---- item 5: init on a public URL, sekishod -n ----

def write_conf(d, key, value):
    path = os.path.join(d, "sekishod.conf")
    with open(path) as f:
        lines = [ln for ln in f.read().splitlines() if not ln.startswith(key + " ")]
    lines.append("%s %s" % (key, value))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, len(lines)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def check(d):
    return run([st.SEKISHOD, "--dir", d, "-n"])


def init_public_url(tmp):
    d = os.path.join(tmp, "pub")
    r = run([st.SEKISHO, "init", "--dir", d, "--url", "https://idp.example.co.jp"])
    conf = read(os.path.join(d, "sekishod.conf"))
    t.ok(r.returncode == 0 and re.search(r"^listen \*:443$", conf, re.M) and
         "idp.example.co.jp:443" not in conf,
         "init --url https://idp.example.co.jp listens on every address at port 443",
         conf + r.stderr)
    r = check(d)
    t.ok(r.returncode == 0 and r.stdout == "configuration OK\n", "sekishod -n: OK",
         r.stdout + r.stderr)
    d2 = os.path.join(tmp, "pub2")
    r = run([st.SEKISHO, "init", "--dir", d2, "--url", "https://idp.example.co.jp:8443",
             "--listen", "127.0.0.1:9443"])
    t.ok(r.returncode == 0 and "\nlisten 127.0.0.1:9443\n" in read(
        os.path.join(d2, "sekishod.conf")), "init --listen writes the address given", r.stderr)
    r = run([st.SEKISHO, "init", "--dir", os.path.join(tmp, "pub3"), "--url",
             "https://idp.example.co.jp", "--listen", "idp.example.co.jp"])
    t.ok(r.returncode == 2 and "--listen" in r.stderr and
         not os.path.exists(os.path.join(tmp, "pub3")),
         "init --listen without a port: exit 2, nothing made", r.stderr)
    return d


def check_listen(d):
    for value, msg in (("idp.example.invalid:443", "does not resolve"),
                       ("192.0.2.1:443", "not an address of this host"),
                       ("127.0.0.1:https", "port"),
                       ("idp.example.co.jp", "HOST:PORT")):
        path, line = write_conf(d, "listen", value)
        r = check(d)
        t.ok(r.returncode == 1 and r.stderr.startswith("%s:%d: listen %s: " % (
            path, line, value)) and msg in r.stderr and "configuration OK" not in r.stdout,
             "sekishod -n refuses listen %s with file:line" % value, r.stdout + r.stderr)
    path, line = write_conf(d, "listen", "*:443")
    path, line = write_conf(d, "device_listen", "idp.example.invalid:8444")
    r = check(d)
    t.ok(r.returncode == 1 and "%s:%d: device_listen" % (path, line) in r.stderr,
         "sekishod -n checks device_listen too", r.stderr)
    write_conf(d, "device_listen", "127.0.0.1:8444")
    r = check(d)
    t.ok(r.returncode == 0, "sekishod -n: a local device_listen is fine", r.stderr)


def check_data_dir(d, tmp):
    data = os.path.join(d, "data")
    if os.geteuid() == 0:
        path, line = write_conf(d, "user", "nobody")
        r = check(d)
        t.ok(r.returncode == 1 and "%s:%d: user nobody cannot write %s" % (path, line, data)
             in r.stderr, "sekishod -n: a data directory the user cannot write is refused",
             r.stdout + r.stderr)
        os.chmod(tmp, 0o755)
        os.chmod(d, 0o755)
        nobody = int(st.sh(["id", "-u", "nobody"]).stdout)
        for root, dirs, files in os.walk(data):
            for n in [root] + [os.path.join(root, f) for f in files]:
                os.chown(n, nobody, -1)
        r = check(d)
        t.ok(r.returncode == 0, "sekishod -n: OK once the user owns it", r.stderr)
        write_conf(d, "user", "no-such-user-here")
        r = check(d)
        t.ok(r.returncode == 1 and "user no-such-user-here: no such user" in r.stderr,
             "sekishod -n: an unknown user is refused", r.stderr)
    else:
        os.chmod(data, 0o500)
        r = check(d)
        t.ok(r.returncode == 1 and "cannot write" in r.stderr,
             "sekishod -n: a data directory this user cannot write is refused", r.stderr)
        os.chmod(data, 0o700)


def listen_everywhere():
    """listen *:PORT takes IPv4 and IPv6 connections."""
    port = st.free_port()
    srv = st.Server(port=port, start=False)
    try:
        write_conf(srv.dir, "listen", "*:%d" % port)
        srv.start()
        for host in ("127.0.0.1", "[::1]"):
            r = requests.get("https://%s:%d/healthz" % (host, port), verify=False, timeout=10)
            t.ok(r.status_code == 200, "listen *:PORT answers on %s" % host)
    except Exception as e:
        t.ok(False, "listen *:PORT starts", "%s\n%s" % (e, srv.log()))
    finally:
        srv.close()


# ---- item 6: cert issue --out over an existing file ----

def cert_out_exists(srv):
    srv.add_user("dora", "dora-password-1")
    p12 = os.path.join(srv.tmp, "dora.p12")
    with open(p12, "w") as f:
        f.write("keep me\n")
    pw = "p12-password-123\n"
    r = srv.cli("cert", "issue", "dora", "--label", "laptop", "--out", p12,
                "--password-stdin", input=pw, check=False)
    with open(p12, "rb") as f:
        kept = f.read()
    t.ok(r.returncode == 1 and "exists" in r.stderr and "--force" in r.stderr,
         "cert issue --out EXISTING is refused", r.stdout + r.stderr)
    t.eq(kept, b"keep me\n", "the existing file is untouched")
    t.eq(srv.cli("cert", "list", "dora").stdout, "", "no certificate was issued or counted")
    key = os.path.join(srv.tmp, "dev.key")
    csr = os.path.join(srv.tmp, "dev.csr")
    st.sh(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=dora"])
    with open(p12, "wb") as f:
        f.write(b"keep me\n")
    r = srv.cli("cert", "issue", "dora", "--label", "phone", "--csr", csr, "--out", p12,
                check=False)
    t.ok(r.returncode == 1 and "exists" in r.stderr and srv.cli(
        "cert", "list", "dora").stdout == "", "cert issue --csr --out EXISTING is refused too",
         r.stderr)
    r = srv.cli("cert", "issue", "dora", "--label", "laptop", "--out", p12, "--force",
                "--password-stdin", input=pw, check=False)
    with open(p12, "rb") as f:
        data = f.read()
    t.ok(r.returncode == 0 and data != b"keep me\n" and data[:1] == b"\x30" and
         srv.cli("cert", "list", "dora").stdout.count("\tactive\t") == 1,
         "cert issue --force replaces the file", r.stderr)
    t.eq(oct(os.stat(p12).st_mode & 0o777), "0o600", "the replaced PKCS#12 file is 0600")
    leftovers = [n for n in os.listdir(srv.tmp) if ".tmp" in n]
    t.eq(leftovers, [], "no temporary files left beside --out")


# ---- item 7: help, version, typos, missing directories ----

def help_and_version(srv):
    for args in (["--help"], ["-h"], ["help"], ["help", "user"], ["help", "user", "add"],
                 ["user", "--help"], ["user", "add", "--help"], ["audit", "--help"],
                 ["--dir", srv.dir, "cert", "issue", "-h"]):
        r = run([st.SEKISHO] + args)
        t.ok(r.returncode == 0 and r.stdout.startswith("usage: ") and not r.stderr,
             "sekisho %s: usage on stdout, exit 0" % " ".join(args),
             "%d %r" % (r.returncode, r.stderr[:200]))
    r = run([st.SEKISHO, "help", "user"])
    t.ok("user add" in r.stdout and "app add-oidc" not in r.stdout,
         "help user shows the user commands only", r.stdout)
    r = run([st.SEKISHO])
    t.ok(r.returncode == 2 and "usage:" in r.stderr and not r.stdout,
         "sekisho without a command: usage on stderr, exit 2")
    r = run([st.SEKISHO, "--version"])
    t.eq((r.returncode, r.stdout), (0, "sekisho %s\n" % version()), "sekisho --version")
    r = run([st.SEKISHOD, "--version"])
    t.eq((r.returncode, r.stdout), (0, "sekishod %s\n" % version()), "sekishod --version")
    r = run([st.SEKISHOD, "--help"])
    t.ok(r.returncode == 0 and r.stdout.startswith("usage: sekishod") and not r.stderr,
         "sekishod --help: usage on stdout, exit 0")
    r = run([st.SEKISHOD, "--bogus"])
    t.ok(r.returncode == 2 and "usage:" in r.stderr, "sekishod --bogus: exit 2")


def typos(srv):
    for args, msg in ((["usr", "list"], 'unknown command "usr"; did you mean "user"?'),
                      (["user", "lst"], 'unknown command "user lst"; did you mean '
                       '"user list"?'),
                      (["audit", "--usr", "x"], 'unknown option "--usr" for "audit"; did you '
                       'mean "--user"?'),
                      (["app", "add-oidc", "x", "--redirect-url", "https://x/cb"],
                       'did you mean "--redirect-uri"?'),
                      (["--tenat", "x", "user", "list"], 'did you mean "--tenant"?')):
        r = srv.cli(*args, check=False)
        t.ok(r.returncode == 2 and r.stderr.startswith("sekisho: unknown ") and
             msg in r.stderr.splitlines()[0] and not r.stdout,
             "sekisho %s: %s" % (" ".join(args), msg), r.stderr[:300])


def missing_dir(tmp):
    for d in (os.path.join(tmp, "nonexistent"), tempfile.mkdtemp(dir=tmp)):
        r = run([st.SEKISHO, "--dir", d, "user", "list"])
        t.ok(r.returncode == 1 and r.stderr == (
            'sekisho: %s has no sekishod.conf; run "sekisho init --dir %s --url '
            'https://HOST" first\n' % (d, d)), "a --dir without sekishod.conf says to run init",
             r.stderr)


class Tty:
    """A command with a pseudo-terminal on standard input (what a person types into)."""

    def __init__(self, cmd):
        self.master, slave = os.openpty()
        self.p = subprocess.Popen(cmd, stdin=slave, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        os.close(slave)
        self.seen = b""

    def expect(self, text, timeout=30):
        """Read the terminal until text shows (a deadline, not a timing)."""
        end = time.time() + timeout
        while text.encode() not in self.seen and time.time() < end:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:
                    break
        return text.encode() in self.seen

    def type(self, line):
        os.write(self.master, (line + "\n").encode())

    def finish(self):
        out, err = self.p.communicate(timeout=120)
        self.expect("\x00", timeout=0.5)
        os.close(self.master)
        return self.p.returncode, out, err


def login_ok(srv, user, password):
    b = st.Browser(verify=srv.ca, lang="en")
    r = b.submit_login(b.get(srv.base() + "/login"), user, password)
    return r.status_code == 200 and "/portal" in r.url


def typed(srv, args, prompt, first, second):
    """Run sekisho args on a terminal, answer its two prompts; (asked, rc, out, err, seen)."""
    tty = Tty([st.SEKISHO, "--dir", srv.dir] + args)
    asked = tty.expect(prompt)
    tty.type(first)
    asked = tty.expect("Again: ") and asked
    tty.type(second)
    rc, out, err = tty.finish()
    return asked, rc, out, err, tty.seen


def terminal_prompts(srv):
    pw = "関所の通行手形です"  # 9 characters, 27 bytes
    passwd = ["user", "passwd", "alice"]
    asked, rc, out, err, seen = typed(srv, passwd, "New password for alice: ", pw, pw)
    t.ok(asked, "user passwd on a terminal asks twice", seen)
    t.ok(rc == 0 and "password changed" in out, "user passwd on a terminal sets it", err)
    t.ok(pw.encode() not in seen, "the typed password is not echoed", seen)
    t.ok(login_ok(srv, "alice", pw), "alice logs in with the password typed")
    asked, rc, out, err, seen = typed(srv, passwd, "New password for alice: ",
                                      "another-password-1", "another-password-2")
    t.ok(rc == 1 and "do not match" in err, "two different answers are refused", err)
    t.ok(login_ok(srv, "alice", pw), "the password stays as it was")
    r = srv.cli(*passwd, check=False)
    t.ok(r.returncode == 2 and "--password-stdin" in r.stderr,
         "user passwd without a terminal or --password-stdin: exit 2", r.stderr)
    asked, rc, out, err, seen = typed(srv, ["user", "add", "erin", "--ask-password"],
                                      "Password for erin: ", "erin-password-1",
                                      "erin-password-1")
    t.ok(asked and rc == 0 and login_ok(srv, "erin", "erin-password-1"),
         "user add --ask-password on a terminal", err)
    p12 = os.path.join(srv.tmp, "erin.p12")
    asked, rc, out, err, seen = typed(srv, ["cert", "issue", "erin", "--label", "pc", "--out",
                                            p12], "PKCS#12 password: ", "p12-password-123",
                                      "p12-password-123")
    ok = rc == 0 and st.sh(["openssl", "pkcs12", "-in", p12, "-passin",
                            "pass:p12-password-123", "-nokeys", "-noout"]).returncode == 0
    t.ok(asked and ok, "cert issue asks for the PKCS#12 password on a terminal", err)


def password_characters(srv):
    seven, eight = "関所通行手形券", "関所通行手形券々"
    r = srv.cli("user", "add", "kanji7", "--password-stdin", input=seven + "\n", check=False)
    t.ok(r.returncode == 1 and "too short" in r.stderr and "kanji7\t" not in users(srv),
         "a 7-character password (21 bytes) is too short", r.stderr)
    r = srv.cli("user", "add", "kanji8", "--password-stdin", input=eight + "\n", check=False)
    t.ok(r.returncode == 0 and login_ok(srv, "kanji8", eight),
         "an 8-character Japanese password (24 bytes) is long enough", r.stderr)
    r = subprocess.run([st.SEKISHO, "--dir", srv.dir, "user", "add", "badutf8",
                        "--password-stdin"], input=b"password\xff\xfe1\n", capture_output=True)
    t.ok(r.returncode == 1 and b"UTF-8" in r.stderr, "a password that is not UTF-8 is refused",
         r.stderr)


# ---- item 10: client secrets that survive curl -u ----

def client_secrets(srv):
    token_url = srv.base() + "/oidc/token"
    curl_ok = req_ok = alphabet_ok = 0
    for i in range(20):
        out = srv.cli("app", "add-oidc", "cc%d" % i, "--grant", "client_credentials").stdout
        cid = re.search(r"^client_id=(.*)$", out, re.M).group(1)
        secret = re.search(r"^client_secret=(.*)$", out, re.M).group(1)
        alphabet_ok += bool(re.fullmatch(r"[A-Za-z0-9_-]{43,}", secret) and
                            re.fullmatch(r"[A-Za-z0-9_-]+", cid))
        r = st.sh(["curl", "-sS", "--cacert", srv.ca, "-u", "%s:%s" % (cid, secret),
                   "-d", "grant_type=client_credentials", token_url])
        try:
            curl_ok += "access_token" in json.loads(r.stdout)
        except ValueError:
            pass
        r = requests.post(token_url, auth=(cid, secret), verify=srv.ca, timeout=30,
                          data={"grant_type": "client_credentials"})
        req_ok += r.status_code == 200 and "access_token" in r.json()
    t.eq(alphabet_ok, 20, "client_id and client_secret are base64url without padding, "
         "secrets of 43+ characters")
    t.eq(curl_ok, 20, "curl -u id:secret gets a token for all 20 fresh clients")
    t.eq(req_ok, 20, "python requests (HTTP Basic, no form-encoding) gets a token too")


# ---- item 9, the reading side: audit filters and JSON ----

def audit_filters(srv):
    for user, pw in (("alice", "wrong-password-1"), ("bob", "wrong-password-1"),
                     ("bob", "bob-password-1")):
        b = st.Browser(verify=srv.ca, lang="en")
        b.submit_login(b.get(srv.base() + "/login"), user, pw)
    out = srv.cli("app", "add-oidc", "auditcc", "--grant", "client_credentials").stdout
    cid = re.search(r"^client_id=(.*)$", out, re.M).group(1)
    secret = re.search(r"^client_secret=(.*)$", out, re.M).group(1)
    requests.post(srv.base() + "/oidc/token", auth=(cid, secret), verify=srv.ca, timeout=30,
                  data={"grant_type": "client_credentials"})

    def recs(*args):
        r = srv.cli("audit", *args, check=False)
        if r.returncode != 0:
            return None
        return [line.split("\t", 3) for line in r.stdout.splitlines()]

    def count(*args):
        got = recs(*args)
        return -1 if got is None else len(got)

    everything = recs()
    events = set(r[2] for r in everything)
    got = recs("--event", "login.fail")
    t.ok(got and all(r[2] == "login.fail" for r in got) and len(got) == sum(
        r[2] == "login.fail" for r in everything), "audit --event login.fail: exactly those")
    got = recs("--event", "login.*")
    t.ok(got and set(r[2] for r in got) == set(e for e in events if e.startswith("login.")) and
         {"login.ok", "login.fail"} <= set(r[2] for r in got),
         "audit --event 'login.*': every login event and nothing else",
         got and set(r[2] for r in got))
    got = recs("--user", "bob")
    t.ok(got and all(re.search(r"(^| )user=bob( |$)", r[3]) for r in got) and len(got) >= 2,
         "audit --user bob: only bob's records", got)
    got = recs("--event", "login.fail", "--user", "bob")
    t.ok(got is not None and len(got) == 1 and got[0][2] == "login.fail",
         "audit --event and --user combine", got)
    got = recs("--app", "auditcc")
    t.ok(got and all(("client=" + cid) in r[3] for r in got) and
         any(r[2] == "oidc.client_credentials" for r in got),
         "audit --app finds the client's records by its client_id", got)
    t.eq(recs("--app", "no-such-app"), [], "audit --app for an unknown app: nothing")
    t.eq(recs("--since", "2999-01-01T00:00:00Z"), [], "audit --since in the future: nothing")
    t.eq(recs("--until", "2000-01-01"), [], "audit --until 2000-01-01: nothing")
    t.eq(count("--since", "2000-01-01", "--until", "2999-01-01T00:00:00Z"),
         len(everything), "audit --since and --until around everything: everything")
    t.eq(count("--since", "1h"), len(everything), "audit --since 1h: everything just made")
    r = srv.cli("audit", "--json", "--user", "bob", check=False)
    try:
        objs = [json.loads(line) for line in r.stdout.splitlines()]
    except ValueError:
        objs = []
    text = recs("--user", "bob") or []
    t.ok(objs and [o["seq"] for o in objs] == [int(x[0]) for x in text] and
         all(isinstance(o["seq"], int) and re.fullmatch(
             r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", o["time"]) and o["user"] == "bob" and
             isinstance(o["event"], str) for o in objs),
         "audit --json: one object per line with seq, time, event and the fields",
         r.stdout[:500])
    fail = [o for o in objs if o["event"] == "login.fail"]
    t.ok(fail and all(isinstance(v, str) for k, v in fail[0].items() if k != "seq") and
         "ip" in fail[0] and "reason" in fail[0], "audit --json: every field a string member",
         fail)


def main():
    tmp = tempfile.mkdtemp(prefix="sekisho-cli-")
    srv = st.Server()
    try:
        srv.add_user("alice", "alice-password-1")
        srv.add_user("bob", "bob-password-1")
        t.run("user import", import_bad_first_line, srv)
        t.run("saml endpoints", saml_http_endpoints, srv)
        t.run("key list", key_list_ca, srv)
        t.run("bad command lines", bad_command_lines, srv)
        t.run("cert --out", cert_out_exists, srv)
        t.run("help", help_and_version, srv)
        t.run("typos", typos, srv)
        t.run("missing dir", missing_dir, tmp)
        t.run("terminal", terminal_prompts, srv)
        t.run("characters", password_characters, srv)
        t.run("client secrets", client_secrets, srv)
        t.run("audit", audit_filters, srv)
        d = t.run("init", init_public_url, tmp)
        if d:
            t.run("listen", check_listen, d)
            t.run("data dir", check_data_dir, d, tmp)
        t.run("listen *", listen_everywhere)
    finally:
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


main()
