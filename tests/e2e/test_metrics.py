#!/usr/bin/python3
"""GET /metrics scraped as Prometheus would, parsed by hand against the text format.

- The whole answer follows the text format (HELP and TYPE before a family's samples, label
  values quoted and escaped, numeric values; histogram buckets cumulative and +Inf equal
  to _count).
- After one good login, two wrong passwords and 20 parallel logins of unknown users, the
  counters moved by exactly 1, 2 and 20 (the counters are shared by the worker's threads).
- An OIDC code flow (public client, PKCE) ends in a token: sso_total for that client + 1.
- Certificates: one issued now is active, one issued 1800 days ago (faketime) is active and
  expiring; a revoked one stops counting.  An API key used once shows 1 call this
  month against the quota of 5000.
- LMDB map use is positive and below the map size; no backup yet: age -1.
- The latency histogram of the "page" area counts the page requests made.
- /healthz reports the clock's NTP state as the kernel has it (adjtimex through ctypes:
  STA_UNSYNC or TIME_ERROR = not synchronised), and /metrics the same as a gauge.
- metrics_from: a server allowing only 127.0.0.2 answers 403 to 127.0.0.1 (even with an
  X-Forwarded-For naming 127.0.0.2: no trusted proxy) and 200 to 127.0.0.2.
- metrics_listen: /metrics is served on that port (and nothing else: 404), the main
  listener answers /metrics with 404; metrics_from applies there too.
"""
import concurrent.futures
import ctypes
import os
import re
import subprocess
import urllib.parse

import requests

import access_common as acc
import api_common as ac
import sekisho_test as st
from sekisho_test import Server, Tap

t = Tap()
PW = "correct horse battery"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"   # RFC 7636's, for PKCE_CHALLENGE
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|\+Inf|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def parse_labels(text):
    out, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            raise ValueError("bad labels: %r" % text)
        out[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\n", "\n").replace(
            "\\\\", "\\")
        pos = m.end()
    return out


def parse(text):
    """{(name, frozenset(labels.items())): value} and {family: type}; raises on bad text."""
    samples, types, helps = {}, {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            if name in types or kind not in ("counter", "gauge", "histogram"):
                raise ValueError("bad TYPE line %r" % line)
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("bad sample line %r" % line)
        name = m.group(1)
        fam = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        if fam not in types or fam not in helps:
            raise ValueError("sample before its TYPE/HELP: %r" % line)
        key = (name, frozenset(parse_labels(m.group(3) or "").items()))
        if key in samples:
            raise ValueError("duplicate sample %r" % line)
        samples[key] = float(m.group(4))
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def scrape(srv, source=None, headers=None):
    s = requests.Session()
    s.trust_env = False
    if source:
        s.mount("https://", acc._SourceAdapter(source))
    return s.get(srv.url + "/metrics", verify=srv.ca, timeout=30, headers=headers or {})


def check_histograms(samples, types):
    bad = []
    for fam, kind in types.items():
        if kind != "histogram":
            continue
        areas = {dict(k[1]).get("area") for k in samples if k[0] == fam + "_count"}
        for area in areas:
            buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in samples.items()
                              if k[0] == fam + "_bucket" and dict(k[1])["area"] == area))
            counts = [v for _, v in buckets]
            if counts != sorted(counts) or buckets[-1][0] != float("inf") or \
                    counts[-1] != value(samples, fam + "_count", area=area):
                bad.append(area)
    return bad


def oidc_sso(srv, b, client_id, redirect):
    start = len(b.history)
    b.get(acc.authorize_url(srv, client_id, redirect))
    ans = acc.oidc_answers(b, start, redirect)
    if not ans or "code" not in ans[-1]:
        return None
    r = requests.post(srv.base() + "/oidc/token", verify=srv.ca, timeout=30, data={
        "grant_type": "authorization_code", "code": ans[-1]["code"],
        "redirect_uri": redirect, "client_id": client_id, "code_verifier": VERIFIER})
    return r.status_code


def issue(srv, user, label, tmp, back=None):
    key, csr, out = (os.path.join(tmp, label + e) for e in (".key", ".csr", ".crt"))
    subprocess.run(["openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-keyout", key, "-out", csr, "-subj",
                    "/CN=device"], check=True, capture_output=True)
    cmd = [st.SEKISHO, "--dir", srv.dir, "cert", "issue", user, "--label", label,
           "--csr", csr, "--out", out]
    r = subprocess.run((st.faketime(["-f", back]) if back else []) + cmd,
                       capture_output=True, text=True, timeout=120)
    return re.search(r"^serial=([0-9A-F]+)$", r.stdout, re.M).group(1)


def part_format_and_counters(srv):
    r = scrape(srv)
    t.eq(r.status_code, 200, "GET /metrics from 127.0.0.1: 200")
    t.ok(r.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
         "Content-Type is the text format's", r.headers.get("Content-Type"))
    try:
        before, types = parse(r.text)
        t.ok(True, "the answer parses as the text format")
    except ValueError as e:
        t.ok(False, "the answer parses as the text format", str(e))
        return
    for fam in ("sekisho_logins_total", "sekisho_refusals_total", "sekisho_sso_total",
                "sekisho_http_request_duration_seconds", "sekisho_lmdb_used_bytes",
                "sekisho_certificates_active", "sekisho_apikey_calls_month",
                "sekisho_backup_age_seconds"):
        t.ok(fam in types, "family %s is there" % fam)
    t.eq(value(before, "sekisho_backup_age_seconds"), -1.0, "no backup yet: age -1")
    used = value(before, "sekisho_lmdb_used_bytes")
    t.ok(0 < used <= value(before, "sekisho_lmdb_map_bytes"),
         "LMDB use positive and within the map", str(used))

    srv.add_user("alice", PW)
    redirect = "https://rp.example/cb"
    b = acc.browser(srv, stop_at=(redirect,))
    acc.portal_login(srv, acc.browser(srv), "alice", "wrong password 1")
    acc.portal_login(srv, acc.browser(srv), "alice", "wrong password 2")
    r = acc.portal_login(srv, b, "alice", PW)
    t.ok(acc.at_portal(srv, r), "alice logs in")

    def unknown(i):
        return acc.portal_login(srv, acc.browser(srv), "nobody%d" % i, "x").status_code
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        codes = list(ex.map(unknown, range(20)))
    t.eq(codes, [401] * 20, "20 parallel unknown users refused")

    cid = acc.add_stub_client(srv, "rp", redirect)
    t.eq(oidc_sso(srv, b, cid, redirect), 200, "an OIDC code flow ends in a token")

    after, _ = parse(scrape(srv).text)
    d = lambda name, **lb: value(after, name, **lb) - value(before, name, **lb)  # noqa: E731
    t.eq(d("sekisho_logins_total", tenant="default"), 1.0, "logins_total + 1")
    fails = {dict(k[1])["reason"]: v - before.get(k, 0) for k, v in after.items()
             if k[0] == "sekisho_refusals_total" and dict(k[1])["event"] == "login.fail"}
    t.ok(sum(fails.values()) == 22.0, "refusals_total{event=login.fail} + 22", str(fails))
    t.eq(d("sekisho_sso_total", tenant="default", protocol="oidc", app=cid), 1.0,
         "sso_total{protocol=oidc,app=client} + 1")
    t.ok(d("sekisho_http_request_duration_seconds_count", area="page") >= 23,
         "the page histogram counts the login pages",
         str(d("sekisho_http_request_duration_seconds_count", area="page")))
    t.ok(d("sekisho_http_request_duration_seconds_count", area="oidc") >= 2,
         "the oidc histogram counts authorize and token")
    t.eq(check_histograms(after, types), [], "histogram buckets cumulative, +Inf = _count")


def part_store_gauges(srv):
    tmp = srv.tmp
    srv.add_user("bob", PW)
    issue(srv, "bob", "now", tmp)
    issue(srv, "bob", "old", tmp, back="-1800d")
    gone = issue(srv, "bob", "gone", tmp)
    srv.cli("cert", "revoke", gone)
    key = ac.make_key(srv, "default", "k1", "read")
    requests.get(srv.base() + "/api/v1/users", verify=srv.ca, timeout=30,
                 headers={"Authorization": "Bearer " + key}).raise_for_status()
    m, _ = parse(scrape(srv).text)
    t.eq(value(m, "sekisho_certificates_active", tenant="default"), 2.0,
         "2 active certificates (the revoked one not counted)")
    t.eq(value(m, "sekisho_certificates_expiring", tenant="default"), 1.0,
         "1 expiring within 30 days (issued 1800 days ago)")
    t.eq(value(m, "sekisho_apikey_calls_month", tenant="default", key="k1"), 1.0,
         "the key's call this month")
    t.eq(value(m, "sekisho_apikey_quota_month"), 5000.0, "quota 5000")
    t.ok(key not in scrape(srv).text, "no API key string in the metrics")


class Timex(ctypes.Structure):
    # struct timex of <sys/timex.h> on 64-bit Linux: the fields up to maxerror, padding after
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long),
                ("status", ctypes.c_int), ("rest", ctypes.c_char * 200)]


def kernel_clock():
    """(synchronised, maxerror in microseconds) as the kernel says."""
    tx = Timex()
    state = ctypes.CDLL(None, use_errno=True).adjtimex(ctypes.byref(tx))
    return state != 5 and not tx.status & 0x40, tx.maxerror   # TIME_ERROR, STA_UNSYNC


def part_healthz(srv):
    r = requests.get(srv.url + "/healthz", verify=srv.ca, timeout=30)
    synced, maxerr = kernel_clock()
    lines = dict(ln.split(" ", 1) for ln in r.text.splitlines()[1:] if " " in ln)
    t.eq(r.text.splitlines()[:1], ["ok"], "/healthz still starts with ok")
    t.eq(lines.get("clock_synchronised"), "yes" if synced else "no",
         "/healthz: clock_synchronised as the kernel says (%s)" % synced)
    got = int(lines.get("clock_maxerror_us", "-1"))
    # maxerror grows by 500 us per second while unsynchronised: allow a few seconds
    t.ok(abs(got - maxerr) <= 5000,
         "/healthz: clock_maxerror_us as the kernel's", "%d vs %d" % (got, maxerr))
    m, _ = parse(scrape(srv).text)
    t.eq(value(m, "sekisho_clock_synchronised"), 1.0 if synced else 0.0,
         "/metrics: sekisho_clock_synchronised")


def part_metrics_from():
    srv = Server(["metrics_from 127.0.0.2"])
    try:
        r = scrape(srv)
        t.eq(r.status_code, 403, "metrics_from 127.0.0.2: 403 to 127.0.0.1")
        t.ok("sekisho_" not in r.text, "no numbers in the refusal")
        r = scrape(srv, headers={"X-Forwarded-For": "127.0.0.2"})
        t.eq(r.status_code, 403, "X-Forwarded-For without a trusted proxy changes nothing")
        r = scrape(srv, source="127.0.0.2")
        t.eq(r.status_code, 200, "200 to 127.0.0.2")
        t.ok("metrics: refused 127.0.0.1" in srv.log(), "the refusal is logged")
    finally:
        srv.close()


def part_metrics_listen():
    port = st.free_port()
    srv = Server(["metrics_listen 127.0.0.1:%d" % port, "metrics_from 127.0.0.1"])
    try:
        own = "https://127.0.0.1:%d" % port
        r = requests.get(own + "/metrics", verify=srv.ca, timeout=30)
        t.eq(r.status_code, 200, "metrics_listen: /metrics there")
        t.ok("sekisho_logins_total" in r.text, "with the numbers")
        r = requests.get(own + "/t/default/login", verify=srv.ca, timeout=30)
        t.eq(r.status_code, 404, "metrics_listen answers nothing else")
        t.eq(scrape(srv).status_code, 404, "the main listener: /metrics 404")
        t.eq(requests.get(srv.url + "/healthz", verify=srv.ca, timeout=30).status_code, 200,
             "the main listener still serves")
        s = requests.Session()
        s.mount("https://", acc._SourceAdapter("127.0.0.2"))
        t.eq(s.get(own + "/metrics", verify=srv.ca, timeout=30).status_code, 403,
             "metrics_from applies on metrics_listen (127.0.0.2: 403)")
    finally:
        srv.close()


def main():
    srv = Server()
    try:
        t.run("format and counters", part_format_and_counters, srv)
        t.run("store gauges", part_store_gauges, srv)
        t.run("healthz", part_healthz, srv)
    finally:
        srv.close()
    t.run("metrics_from", part_metrics_from)
    t.run("metrics_listen", part_metrics_listen)
    t.done()


if __name__ == "__main__":
    main()
