"""Shared by the benchmarks: openssl speed in the same run, the C load generator,
certbench and policybench, the sekishod worker's CPU and memory, a logged-in browser
session, a SAML SP and OIDC clients registered through the sekisho command."""
import base64
import os
import re
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
REDIRECT = "http://127.0.0.1:9/cb"
SP_ENTITY = "https://sp.bench.invalid/sp"
SP_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%(e)s">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%(acs)s" index="0" isDefault="true"/>
</md:SPSSODescriptor></md:EntityDescriptor>"""


def use_build(builddir):
    os.environ["SEKISHO_BUILDDIR"] = os.path.abspath(builddir)
    import sekisho_test
    return sekisho_test


def pinned(cpu, cmd):
    """cmd run on one core (taskset), or as it is when cpu is None."""
    return cmd if cpu is None else ["taskset", "-c", str(cpu)] + list(cmd)


def openssl_speed(algs, cpu=None, seconds=3):
    """{alg: (sign/s, verify/s)} that `openssl speed` reports for one core, for each of
    rsa2048, rsa3072 and ecdsap256."""
    out = subprocess.run(pinned(cpu, ["openssl", "speed", "-seconds", str(seconds)] +
                                list(algs)), capture_output=True, text=True).stdout
    pats = {"rsa2048": r"^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)",
            "rsa3072": r"^rsa 3072 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)",
            "ecdsap256": r"^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)"}
    rates = {}
    for alg in algs:
        m = re.search(pats[alg], out, re.M)
        rates[alg] = (float(m.group(1)), float(m.group(2)))
    return rates


def openssl_rate(alg):
    """Signs per second per core that `openssl speed` reports for rsa2048 or ecdsap256."""
    return openssl_speed([alg])[alg][0]


def build_loadgen(tmp):
    exe = os.path.join(tmp, "loadgen")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "loadgen.c"), "-lssl",
                    "-lcrypto", "-lpthread"], check=True)
    return exe


def loadgen(exe, server, threads, seconds, rate, *mode_args, cpu=None):
    """(printed line, operations/s, p99 ms)."""
    cmd = [exe, "127.0.0.1", str(server.port), str(threads), str(seconds), str(rate or 0)]
    out = subprocess.run(pinned(cpu, cmd + list(mode_args)), capture_output=True,
                         text=True).stdout.strip()
    vals = dict(kv.split("=") for kv in out.split())
    return out, float(vals["rate"].rstrip("/s")), float(vals["p99"].rstrip("ms"))


def make_vars(builddir):
    """NAME = value lines of the configured Makefile (the flags configure found), with
    continuation lines joined and $(NAME) references expanded."""
    raw = {}
    with open(os.path.join(builddir, "Makefile")) as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_]+) = (.*)$", line)
        if m:
            raw[m.group(1)] = m.group(2)

    def expand(value, depth=0):
        return re.sub(r"\$\(([A-Za-z0-9_]+)\)", lambda m: expand(raw.get(m.group(1), ""),
                                                                 depth + 1)
                      if depth < 10 else "", value)
    return {k: expand(v) for k, v in raw.items()}


def build_cbench(builddir, tmp, name):
    """bench/NAME.c linked as sekisho and sekishod are (SEKISHO_LIBS of builddir's
    Makefile), with the headers of the tree builddir was configured from."""
    build = os.path.abspath(builddir)
    v = make_vars(build)
    src = v.get("abs_top_srcdir") or os.path.join(HERE, "..")
    exe = os.path.join(tmp, name)
    incs = ["-I" + build, "-I" + os.path.join(build, "idp")] + [
        "-I" + os.path.join(src, d) for d in ("lib", "policies", "connectors", "idp", "certs",
                                             "admin", "idp/web", "idp/api")]
    cflags = " ".join(v.get(k, "") for k in ("OPENSSL_CFLAGS", "LMDB_CFLAGS")).split()
    libs = [os.path.join(build, w) if w.endswith(".a") else w
            for w in v["SEKISHO_LIBS"].split()]
    subprocess.run(["cc", "-std=gnu11", "-O2", "-o", exe, os.path.join(HERE, name + ".c")] +
                   incs + cflags + libs, check=True)
    return exe


def build_certbench(builddir, tmp):
    return build_cbench(builddir, tmp, "certbench")


def make_csr(tmp, name):
    """A P-256 device key and its CSR: (key path, CSR path)."""
    key, csr = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + name, "-keyout",
                    key, "-out", csr], check=True, capture_output=True)
    return key, csr


def worker_pid(server):
    return server.worker_pid()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def login(st, server, user, password):
    b = st.Browser(verify=server.ca)
    b.submit_login(b.get(server.base() + "/login"), user, password)
    return b.s.cookies.get("sekisho_sid")


def saml_sp(srv, tmp, user="bench", password="bench-password-1"):
    """A SAML SP (POST binding, unsigned requests) and a user; the SP's entity ID."""
    md = os.path.join(tmp, "sp.xml")
    with open(md, "w") as f:
        f.write(SP_METADATA % {"e": SP_ENTITY, "acs": "https://sp.bench.invalid/acs"})
    srv.cli("app", "add-saml", "bench", "--metadata", md)
    srv.add_user(user, password)
    return SP_ENTITY


def _field(out, name):
    """NAME=value or "NAME: value" in the sekisho command's output (versions differ)."""
    m = re.search(r"\b%s\s*[=:]\s*(\S+)" % re.escape(name), out)
    if m is None:
        raise RuntimeError("no %s in: %s" % (name, out))
    return m.group(1)


def oidc_client(srv, name, *extra):
    """An OIDC client: (client_id, the Basic credentials, URL-encoded as RFC 6749 says)."""
    r = srv.cli("app", "add-oidc", name, "--redirect-uri", REDIRECT, *extra)
    out = r.stdout + r.stderr
    cid, secret = _field(out, "client_id"), _field(out, "client_secret")
    basic = base64.b64encode(("%s:%s" % (urllib.parse.quote(cid, safe=""),
                                         urllib.parse.quote(secret, safe=""))).encode())
    return cid, basic.decode()
