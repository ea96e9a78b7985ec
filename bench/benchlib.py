"""Shared by the benchmarks: openssl speed in the same run, the C load generator, the
sekishod worker's CPU and memory, and a logged-in browser session."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))


def use_build(builddir):
    os.environ["SEKISHO_BUILDDIR"] = os.path.abspath(builddir)
    import sekisho_test
    return sekisho_test


def openssl_rate(alg):
    """Signs per second per core that `openssl speed` reports for rsa2048 or ecdsap256."""
    out = subprocess.run(["openssl", "speed", "-seconds", "3", alg], capture_output=True,
                         text=True).stdout
    pat = r"^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)" if alg == "rsa2048" else \
        r"^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)"
    return float(re.search(pat, out, re.M).group(1))


def build_loadgen(tmp):
    exe = os.path.join(tmp, "loadgen")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "loadgen.c"), "-lssl",
                    "-lcrypto", "-lpthread"], check=True)
    return exe


def loadgen(exe, server, threads, seconds, rate, *mode_args):
    """(printed line, operations/s, p99 ms)."""
    cmd = [exe, "127.0.0.1", str(server.port), str(threads), str(seconds), str(rate or 0)]
    out = subprocess.run(cmd + list(mode_args), capture_output=True, text=True).stdout.strip()
    vals = dict(kv.split("=") for kv in out.split())
    return out, float(vals["rate"].rstrip("/s")), float(vals["p99"].rstrip("ms"))


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
