#!/usr/bin/python3
"""End to end: the audit trail through the admin API (GET audit, audit/export,
audit/verify) against `sekisho audit`.

The query's filters (event and event prefix, user, app, since, until) give the records
`sekisho audit --json` gives for the same filters; pages follow by cursor in sequence
order; bad filters, cursors and formats are 400 naming the parameter; the export of more
than 5,000 records as JSON lines and as CSV parses and equals the query's records (and the
CLI's tab lines), as an attachment, while the server's anonymous memory grows by no more
than a few MB (it reads the trail in batches); verify says intact with as many records as
the CLI lists.  The database lives on tmpfs so 12,000 users import in seconds.
"""
import csv
import io
import json
import os
import tempfile

import requests

import access_common as ac
import api_common
from sekisho_test import Server, Tap

t = Tap()
BULK = 12000
MAX_GROWTH_KB = 1536    # the whole trail in one buffer grows it by about 2.5 MB


def cli_records(srv, *args):
    """`sekisho audit --json` with args: the records in the API's form."""
    out = srv.cli("audit", "--json", *args).stdout
    recs = []
    for line in out.splitlines():
        o = json.loads(line)
        head = {k: o.pop(k) for k in ("seq", "time", "event")}
        recs.append(dict(head, fields=o))
    return recs


def upto(recs, cut):
    return [r for r in recs if r["seq"] <= cut]


def setup(srv):
    srv.add_user("alice", "alice-password-1")
    srv.add_user("bob", "bob-password-1")
    ac.add_stub_client(srv, "crm", "http://127.0.0.1:9/crm")
    srv.cli("app", "assign", "crm", "--user", "alice")
    for _ in range(2):
        b = ac.browser(srv)
        ac.portal_login(srv, b, "Alice", "wrong-password")


FILTERS = [
    {},
    {"event": "admin.user.add"},
    {"event": "admin.*"},
    {"event": "login.*", "user": "alice"},
    {"user": "ALICE"},
    {"app": "crm"},
    {"since": "1h"},
    {"until": "2000-01-01"},
    {"since": "2999-01-01T00:00:00Z"},
    {"event": "admin.app.*", "since": "7d", "until": "2999-01-01"},
]


def filters(srv, api):
    cut = cli_records(srv)[-1]["seq"]
    for f in FILTERS:
        q = "&".join("%s=%s" % kv for kv in f.items())
        got = upto(api.all_items("audit" + ("?" + q if q else ""), limit=200), cut)
        args = []
        for k, v in f.items():
            args += ["--" + k, v]
        want = upto(cli_records(srv, *args), cut)
        t.ok(got == want and (want or "until" in f or "2999" in q),
             "GET audit?%s gives what sekisho audit gives (%d)" % (q, len(want)),
             "got %r\nwant %r" % (got[:3], want[:3]))
    alice = upto(api.all_items("audit?user=alice", limit=200), cut)
    t.ok(any(r["event"] == "login.fail" for r in alice), "the failed logins are Alice's")


def paging(srv, api):
    first = api.call("GET", "audit?limit=2").body
    second = api.call("GET", "audit?limit=2&cursor=" + first["next_cursor"]).body
    seqs = [r["seq"] for r in first["items"] + second["items"]]
    t.eq(seqs, sorted(seqs), "oldest first, the next page after the first")
    t.eq(len(set(seqs)), 4, "pages do not overlap")
    for q, field in (("audit?since=yesterday", "since"), ("audit?until=13:00", "until"),
                     ("audit?cursor=bm90LWEtc2Vx", "cursor"), ("audit?limit=0", "limit"),
                     ("audit/export?format=xml", "format")):
        r = api.call("GET", q, expect=400)
        t.eq(r.body.get("field"), field, "%s: 400 naming %s" % (q, field))


def newest_first(srv, api):
    cut = cli_records(srv)[-1]["seq"]
    for q in ("", "event=login.*", "user=alice&since=1h"):
        want = list(reversed(upto(api.all_items("audit" + ("?" + q if q else ""), limit=200),
                                  cut)))
        got = [r for r in api.all_items("audit?order=desc" + ("&" + q if q else ""), limit=25)
               if r["seq"] <= cut]
        t.ok(got == want and want, "order=desc&%s: the same records newest first, in pages "
             "of 25 (%d)" % (q, len(want)))
    first = api.call("GET", "audit?order=desc&limit=2").body
    second = api.call("GET", "audit?order=desc&limit=2&cursor=" + first["next_cursor"]).body
    seqs = [r["seq"] for r in first["items"] + second["items"]]
    t.eq(seqs, sorted(seqs, reverse=True), "newest first across pages")
    t.eq(len(set(seqs)), 4, "pages do not overlap")
    r = api.call("GET", "audit?order=sideways", expect=400)
    t.eq(r.body.get("field"), "order", "order=sideways: 400 naming order")


def rss_anon_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def sanitized(pid):
    """AddressSanitizer keeps freed memory in quarantine: no memory check under it."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def export(srv, api, key, fmt, event):
    """Stream the export, sampling the worker's anonymous memory: (text, headers, peak)."""
    pid = srv.worker_pid()
    r = requests.get(srv.base() + "/api/v1/audit/export?format=%s&event=%s" % (fmt, event),
                     headers={"Authorization": "Bearer " + key}, verify=srv.ca, stream=True,
                     timeout=120)
    chunks, peak = [], rss_anon_kb(pid)
    for chunk in r.iter_content(32768):
        chunks.append(chunk)
        peak = max(peak, rss_anon_kb(pid))
    return r.status_code, b"".join(chunks).decode(), r.headers, peak


def bulk(srv, api, keys):
    path = os.path.join(srv.tmp, "bulk.tsv")
    with open(path, "w") as f:
        for i in range(BULK):
            f.write("bulk%05d\tbulk%05d@example.com\tBulk user number %05d, imported to "
                    "fill the audit trail\n" % (i, i, i))
    srv.cli("user", "import", path)
    pid = srv.worker_pid()
    # warm up: the worker's threads and the export path, then the baseline
    export(srv, api, keys[0], "jsonl", "nothing")
    base = rss_anon_kb(pid)
    status, text, headers, peak_j = export(srv, api, keys[1], "jsonl", "admin.user.add")
    t.eq(status, 200, "export as JSON lines: 200")
    t.ok(headers.get("Content-Type", "").startswith("application/x-ndjson") and
         "attachment" in headers.get("Content-Disposition", ""),
         "application/x-ndjson as an attachment", dict(headers))
    lines = [json.loads(ln) for ln in text.splitlines()]
    t.ok(len(lines) > BULK, "more than %d records exported (%d)" % (BULK, len(lines)))
    query = api.all_items("audit?event=admin.user.add", limit=200)
    t.ok(lines == query, "the JSON lines are the query's records (%d)" % len(query))
    status, text, headers, peak_c = export(srv, api, keys[0], "csv", "admin.user.add")
    t.ok(status == 200 and headers.get("Content-Type", "").startswith("text/csv") and
         "attachment" in headers.get("Content-Disposition", ""), "export as CSV: text/csv "
         "attachment", dict(headers))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    t.eq(rows[0], ["seq", "time", "event", "fields"], "the CSV header")
    tab = [ln.split("\t", 3) for ln in
           srv.cli("audit", "--event", "admin.user.add").stdout.splitlines()]
    t.ok(rows[1:] == tab, "the CSV rows are sekisho audit's lines (%d)" % len(tab),
         "%r\n%r" % (rows[1:3], tab[:2]))
    t.eq([int(r[0]) for r in rows[1:]], [r["seq"] for r in query],
         "and the query's records")
    growth = max(peak_j, peak_c) - base
    if sanitized(pid):
        print("# memory growth %d kB not checked under AddressSanitizer" % growth)
        return
    t.ok(growth < MAX_GROWTH_KB, "the worker's memory grew by %d kB while streaming "
         "(less than %d kB)" % (growth, MAX_GROWTH_KB))


def verify(srv, api):
    n_before = len(cli_records(srv))
    r = api.call("GET", "audit/verify").body
    n_after = len(cli_records(srv))
    t.eq(r.get("intact"), True, "verify: intact")
    t.ok(n_before <= r.get("records", -1) <= n_after, "verify counts the records the CLI "
         "lists (%s between %d and %d)" % (r.get("records"), n_before, n_after))
    t.ok("intact" in srv.cli("audit", "verify").stdout, "sekisho audit verify agrees")


def main():
    if os.path.isdir("/dev/shm"):
        tempfile.tempdir = "/dev/shm"
    srv = Server()
    try:
        setup(srv)
        keys = api_common.make_keys(srv, "default", "r", 8, "read")
        api = api_common.ApiClient(srv, "default", keys[:6])
        t.run("filters", filters, srv, api)
        t.run("paging", paging, srv, api)
        t.run("newest first", newest_first, srv, api)
        t.run("export", bulk, srv, api, keys[6:])
        t.run("verify", verify, srv, api)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
