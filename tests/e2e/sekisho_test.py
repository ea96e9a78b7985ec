"""Shared helpers for the end-to-end scenarios.

Each scenario (tests/e2e/test_*.py) starts its own sekishod on 127.0.0.1 with a fresh
directory (sekisho init), drives it with real peers, and prints TAP lines through
`Tap`.  Nothing here needs a server started by hand.

Environment (set by tests/run): SEKISHO_BUILDDIR (binaries), SEKISHO_SRCDIR.
SEKISHO_WRAPPER, when set, is a command prefix for sekishod (valgrind, for example).
SEKISHO_KEEP=1 keeps the temporary directories for inspection.
"""
import base64
import glob
import html.parser
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

import requests
import urllib3

urllib3.disable_warnings()

BUILDDIR = os.environ.get("SEKISHO_BUILDDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SRCDIR = os.environ.get("SEKISHO_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SEKISHOD = os.path.join(BUILDDIR, "idp", "sekishod")
SEKISHO = os.path.join(BUILDDIR, "cli", "sekisho")
PEERS = os.path.join(SRCDIR, "tests", "e2e", "peers")


def _sanitized():
    """True when sekishod was built with AddressSanitizer (configure --enable-asan)."""
    try:
        with open(SEKISHOD, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


SANITIZED = _sanitized()

# Reports of AddressSanitizer, UBSan, LeakSanitizer or valgrind found in server logs; a
# scenario with any fails (Tap.done adds the failing check).
SANITIZER_FINDINGS = []
_SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: |"
                           r"ERROR SUMMARY: [1-9]|definitely lost: [1-9]|"
                           r"indirectly lost: [1-9]")


class Tap:
    """TAP output: one line per check.  A scenario's exit status is non-zero on failure."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name), flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print("#   " + line, flush=True)
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got %r, want %r" % (got, want))

    def run(self, name, fn, *args):
        """Run fn(*args); an exception is a failed check named name."""
        try:
            return fn(*args)
        except Exception:
            self.ok(False, name, traceback.format_exc())
            return None

    def done(self):
        if os.environ.get("SEKISHO_WRAPPER") or SANITIZER_FINDINGS:
            self.ok(not SANITIZER_FINDINGS, "no sanitizer or valgrind findings in server logs",
                    "\n".join(SANITIZER_FINDINGS))
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=20.0, host="127.0.0.1"):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    """A sekishod instance in a temporary directory.

    extra_config: lines appended to sekishod.conf (the fast argon2 settings below keep
    hundreds of logins cheap in tests; production defaults are in sekishod.conf(5)).
    env: sekishod's environment (default: the tests' own).
    """

    FAST = ["argon2_t_cost 1", "argon2_m_cost 64k"]

    def __init__(self, extra_config=(), port=None, start=True, env=None, prefix=()):
        """env: sekishod's environment; prefix: a command prefix for it (faketime,
        setpriv)."""
        self.env = env
        self.prefix = list(prefix)
        self.tmp = tempfile.mkdtemp(prefix="sekisho-e2e-")
        self.dir = os.path.join(self.tmp, "dir")
        self.port = port or free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.proc = None
        self.log_path = os.path.join(self.tmp, "sekishod.log")
        self.cli("init", "--url", self.url, dir_first=False)
        with open(os.path.join(self.dir, "sekishod.conf"), "a") as f:
            for line in list(self.FAST) + list(extra_config):
                f.write(line + "\n")
        if start:
            self.start()

    @property
    def ca(self):
        """The server's self-signed certificate, to verify TLS against."""
        return os.path.join(self.dir, "tls", "server.crt")

    def base(self, tenant="default"):
        return "%s/t/%s" % (self.url, tenant)

    def cli(self, *args, input=None, check=True, dir_first=True, tenant=None):
        cmd = [SEKISHO]
        if dir_first:
            cmd += ["--dir", self.dir]
        if tenant:
            cmd += ["--tenant", tenant]
        cmd += list(args)
        if not dir_first:
            cmd += ["--dir", self.dir]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode,
                                                        r.stdout, r.stderr))
        return r

    def add_user(self, name, password, email=None, display=None, tenant=None):
        args = ["user", "add", name, "--password-stdin"]
        if email:
            args += ["--email", email]
        if display:
            args += ["--name", display]
        return self.cli(*args, input=password + "\n", tenant=tenant)

    def start(self):
        if self.proc and self.proc.poll() is None:
            # a second daemon would answer nothing new and outlive close()
            raise RuntimeError("sekishod is running already (pid %d)" % self.proc.pid)
        wrapper = shlex.split(os.environ.get("SEKISHO_WRAPPER", ""))
        self.logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.prefix + wrapper + [SEKISHOD, "--dir", self.dir,
                                                             "-f"],
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=self.env)
        end = time.time() + (120 if wrapper else 20)
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("sekishod exited: %s" % self.log())
            try:
                r = requests.get(self.url + "/healthz", verify=self.ca, timeout=2)
                if r.status_code == 200:
                    return
            except (requests.RequestException, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError("sekishod did not come up: %s" % self.log())

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if getattr(self, "logf", None):
            self.logf.close()
            self.logf = None

    def restart(self):
        self.stop()
        self.start()

    def children(self):
        """(pid, comm) of the processes sekishod forked: the worker and the ca process."""
        kids = []
        if not self.proc:
            return kids
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                kids.append((int(pid), comm))
        return kids

    def worker_pid(self):
        """The network worker (the ca process names itself sekishod-ca), or None."""
        for pid, comm in self.children():
            if comm != "sekishod-ca":
                return pid
        return None

    def ca_pid(self):
        for pid, comm in self.children():
            if comm == "sekishod-ca":
                return pid
        return None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def audit(self, tenant=None):
        """The audit records as a list of (event, fields) tuples."""
        out = self.cli("audit", tenant=tenant).stdout
        recs = []
        for line in out.splitlines():
            parts = line.split("\t", 3)
            if len(parts) == 4:
                recs.append((parts[2], parts[3]))
        return recs

    def audit_find(self, event, *fields, recs=None):
        """The fields of the audit records (recs, default all) of event having every one of
        these key=value."""
        return [f for e, f in (self.audit() if recs is None else recs) if e == event and all(
            re.search(r"(^|\s)%s(\s|$)" % re.escape(kv), f) for kv in fields)]

    def audit_has(self, tap, event, *fields):
        """A Tap check that the audit trail has an event record with all these key=value."""
        recs = self.audit()
        hit = self.audit_find(event, *fields, recs=recs)
        return tap.ok(hit, "audit: %s %s" % (event, " ".join(fields)),
                      "\n".join("%s %s" % r for r in recs[-15:]))

    def close(self):
        self.stop()
        log = self.log()
        for m in _SANITIZER_RE.finditer(log):
            start = max(0, log.rfind("\n", 0, max(0, m.start() - 2000)))
            SANITIZER_FINDINGS.append("%s: %s" % (self.log_path, log[start:m.end() + 3000]))
            break
        if os.environ.get("SEKISHO_KEEP") != "1" and not SANITIZER_FINDINGS:
            shutil.rmtree(self.tmp, ignore_errors=True)


class _Forms(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = []
        self._cur = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._cur = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                         "id": a.get("id"), "fields": {}}
            self.forms.append(self._cur)
        elif tag == "input" and self._cur is not None and a.get("name"):
            self._cur["fields"][a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._cur = None


def parse_forms(text):
    p = _Forms()
    p.feed(text)
    return p.forms


class Browser:
    """A scripted browser: a cookie jar, redirects followed, Sekisho's auto-POST forms
    submitted as a browser running their script would.  verify: CA file(s) to trust."""

    UA = "sekisho-e2e/1.0"

    def __init__(self, verify=True, lang=None, stop_at=()):
        """stop_at: URL prefixes not to follow (a client's redirect_uri with nothing
        listening behind it): the redirect to them is the answer."""
        self.stop_at = tuple(stop_at)
        self.s = requests.Session()
        self.s.trust_env = False
        self.s.headers["User-Agent"] = self.UA
        if lang:
            self.s.headers["Accept-Language"] = lang
        self.verify = verify
        self.history = []

    def _req(self, method, url, **kw):
        kw.setdefault("verify", self.verify)
        kw.setdefault("timeout", 30)
        kw.setdefault("allow_redirects", False)
        r = self.s.request(method, url, **kw)
        self.history.append(r)
        return r

    def get(self, url, **kw):
        return self.follow(self._req("GET", url, **kw))

    def post(self, url, data, **kw):
        return self.follow(self._req("POST", url, data=data, **kw))

    def follow(self, r, max_hops=20, autopost=True):
        """Follow redirects and auto-submitting forms (id sekisho-post) until a page."""
        for _ in range(max_hops):
            if r.status_code in (301, 302, 303, 307) and "Location" in r.headers:
                url = urllib.parse.urljoin(r.url, r.headers["Location"])
                if self.stop_at and url.startswith(self.stop_at):
                    return r
                r = self._req("GET", url)
                continue
            if autopost and r.status_code == 200 and 'id="sekisho-post"' in r.text:
                form = [f for f in parse_forms(r.text) if f["id"] == "sekisho-post"][0]
                r = self._req("POST", urllib.parse.urljoin(r.url, form["action"]),
                              data=form["fields"])
                continue
            return r
        raise RuntimeError("too many redirects")

    def login_form(self, r):
        """The Sekisho login form on page r, or None."""
        for f in parse_forms(r.text):
            if "password" in f["fields"] and "csrf" in f["fields"]:
                return f
        return None

    def submit_login(self, r, username, password):
        f = self.login_form(r)
        if f is None:
            raise RuntimeError("no login form on %s (%d): %s" % (r.url, r.status_code,
                                                                 r.text[:500]))
        data = dict(f["fields"])
        data["username"] = username
        data["password"] = password
        return self.post(urllib.parse.urljoin(r.url, f["action"]), data)


def faketime(spec):
    """A command prefix running a program at a faked time (libfaketime's faketime; spec
    as it takes it, "2028-02-29 10:00:00" or with "-f" "-2200d").  AddressSanitizer wants
    to be first among the preloaded libraries; with faketime it cannot be, so the check is
    turned off for that program."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    asan = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    return ["env", "ASAN_OPTIONS=" + asan, "faketime"] + (
        list(spec) if isinstance(spec, (list, tuple)) else [spec])


def faketime_env(clock_file):
    """sekishod's environment with libfaketime reading the time from clock_file: "+0"
    (written here) is the real time, "+90" 90 s ahead, "2030-01-04 14:59:00" a clock that
    stands still at that time (local time: TZ=UTC in the environment makes it UTC); each
    call of time() reads the file again."""
    libs = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
    if not libs:
        raise RuntimeError("libfaketime missing: apt-get install faketime")
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = dict(os.environ, LD_PRELOAD=libs[0], FAKETIME_TIMESTAMP_FILE=clock_file,
               FAKETIME_NO_CACHE="1", FAKETIME_DONT_FAKE_MONOTONIC="1",
               ASAN_OPTIONS=(asan + ":" if asan else "") + "verify_asan_link_order=0")
    with open(clock_file, "w") as f:
        f.write("+0\n")
    return env


def wait_until(cond, what, timeout=60):
    """cond()'s first true value, asked every 0.2 s; RuntimeError naming what after
    timeout seconds (a limit for a hung server, not a timing the test measures)."""
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def grep_secret_leaks(text, secrets):
    """The secrets (strings) that appear in text."""
    return [s for s in secrets if s and s in text]


def spki_hash(cert):
    """base64 SHA-256 of the certificate's public key (Chromium's
    --ignore-certificate-errors-spki-list trusts exactly that key)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    dgst = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der,
                          capture_output=True, check=True).stdout
    return base64.b64encode(dgst).decode()


def artifacts(name):
    """Where a test keeps its screenshots: NAME under tests/run's output directory
    ($SEKISHO_TEST_OUT), else a fresh directory."""
    out = os.environ.get("SEKISHO_TEST_OUT")
    if out and os.path.isdir(out):
        path = os.path.join(out, name)
        os.makedirs(path, exist_ok=True)
        return path
    return tempfile.mkdtemp(prefix="sekisho-%s-" % name)


def browser_script(tap, script, cfg, tmp, prefix="", timeout=180):
    """Run tests/e2e/browser/SCRIPT (Playwright driving Chromium) with cfg as its
    CONFIG.json; its TAP lines become checks of tap (names prefixed with prefix)."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")
    cfg = dict(cfg, chromium=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    cfg_path = os.path.join(tmp, "config.json")
    with open(cfg_path, "w") as f:
        json.dump(cfg, f)
    r = subprocess.run(["node", os.path.join(here, script), cfg_path], capture_output=True,
                       text=True, timeout=timeout, cwd=here)
    for line in r.stdout.splitlines():
        if line.startswith(("ok ", "not ok ")):
            tap.ok(line.startswith("ok "), prefix + line.split(" - ", 1)[-1])
        elif line.startswith("#"):
            print(line)
    tap.ok(r.returncode in (0, 1) and "1.." in r.stdout, "the browser script ran",
           r.stdout[-2000:] + r.stderr[-2000:])


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                          **kw)
