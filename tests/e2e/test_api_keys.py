#!/usr/bin/python3
"""API keys and their limits, through the admin API against the running server.

sekishod (and the sekisho commands that read use counters) run under libfaketime with a
clock that stands still at the time written in a file, from 2027-01-31 20:00:00 UTC, four
hours before a month ends; the test moves it.  So the limits are held without a single
timing: calls "at the same time" are at the same second, and a call a second later is at
the next one.

- A burst of 20 parallel calls with one key at one instant: exactly one 200, 19 × 429
  rate_limited with Retry-After; RateLimit-Limit/Remaining/Reset on answers, Remaining
  going down a call at a time and Reset counting to the month's end.
- A wrong key (the right id, another secret) gets 401 and changes nothing of the real
  key (`apikey show`); an address sending many wrong keys gets 429, the real key still
  works from it.
- Suspended: 403 forbidden; resumed: works.  Expired: 401.  A read key cannot POST (403);
  a key cannot create a key with a scope it lacks (403, field scopes).
- Creation through the API answers the key once (201, Location); GET never shows it;
  PATCH suspended honours If-Match (412); DELETE; bad input is 400 naming the field and
  changes nothing; a taken name is 409.
- The month: a key makes 5000 calls (a second apart), the 5001st is 429 with Retry-After
  to the month's end, `apikey list` shows it in state quota, one apikey.quota_exhausted
  audit record; after a restart it is still refused; in the next month it counts from 0.
- Audit records name the key, never hold a key string; no key string in the log.
"""
import concurrent.futures
import os
import re
import subprocess
import time

import requests

import api_common as ac
import sekisho_test as st

t = st.Tap()
START = 1801425600          # 2027-01-31T20:00:00Z
MONTH_END = 1801440000      # 2027-02-01T00:00:00Z
KEY_RE = r"sks_[0-9a-f]{16}_[A-Za-z0-9_-]{43}"


class Clock:
    """sekishod's clock: standing still at self.now (seconds, UTC)."""

    def __init__(self, path):
        self.path = path
        self.env = dict(st.faketime_env(path), TZ="UTC")
        self.set(START)

    def set(self, now):
        self.now = now
        with open(self.path, "w") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S\n", time.gmtime(now)))

    def tick(self, seconds=1):
        self.set(self.now + seconds)


class Env:
    def __init__(self):
        # started once at the real time: its TLS certificate must be valid for the client
        self.srv = st.Server()
        self.srv.stop()
        self.clock = Clock(os.path.join(self.srv.tmp, "clock"))
        self.srv.env = self.clock.env
        self.srv.start()
        self.keys = []          # every key string made, to look for in logs

    def cli(self, *args, check=True):
        """sekisho at the server's time (use counters are read against it)."""
        r = subprocess.run([st.SEKISHO, "--dir", self.srv.dir] + list(args),
                           capture_output=True, text=True, timeout=120, env=self.clock.env)
        if check and r.returncode != 0:
            raise RuntimeError("sekisho %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def make_key(self, name, scopes, *extra):
        out = self.cli("apikey", "create", name, "--scope", scopes, *extra).stdout
        m = re.fullmatch(r"api_key=(%s)\n" % KEY_RE, out)
        if m is None:
            raise RuntimeError("apikey create printed %r" % out)
        self.keys.append(m.group(1))
        return m.group(1)

    def show(self, name):
        out = self.cli("apikey", "show", name).stdout
        return dict(line.split(": ", 1) for line in out.splitlines())


def burst(e, api):
    key = e.make_key("burst", "read,write")
    with concurrent.futures.ThreadPoolExecutor(20) as ex:
        rs = list(ex.map(lambda _: api.call("GET", "apikeys/burst", key=key,
                                            expect=(200, 429)), range(20)))
    codes = sorted(r.status_code for r in rs)
    t.eq(codes, [200] + [429] * 19, "a burst of 20 at one instant: exactly one 200")
    refused = [r for r in rs if r.status_code == 429]
    t.ok(all(r.headers.get("Retry-After") == "1" and r.body["error"] == "rate_limited"
             for r in refused), "the others: 429 rate_limited with Retry-After: 1",
         [(r.headers.get("Retry-After"), r.body) for r in refused[:2]])
    ok = [r for r in rs if r.status_code == 200][0]
    t.eq((ok.headers.get("RateLimit-Limit"), ok.headers.get("RateLimit-Remaining"),
          ok.headers.get("RateLimit-Reset")), ("5000", "4999", str(MONTH_END - START)),
         "RateLimit-Limit, -Remaining and -Reset (seconds to the month's end)")
    e.clock.tick()
    r = api.call("GET", "apikeys/burst", key=key)
    t.eq((r.headers.get("RateLimit-Remaining"), r.headers.get("RateLimit-Reset")),
         ("4998", str(MONTH_END - e.clock.now)), "a second later: Remaining goes down by one")
    t.eq((r.body["calls_this_month"], r.body["remaining_this_month"], r.body["total_calls"]),
         (2, 4998, 2), "the key as GET shows it: this call and the burst's one (refused "
         "ones not counted)")
    t.ok("api_key" not in r.body and "hash" not in r.body, "GET shows no key, no hash")
    return key


def wrong_keys(e, api, key):
    before = e.show("burst")
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    e.clock.tick()
    r = api.call("GET", "apikeys/burst", key=wrong, expect=401)
    t.eq(r.body["error"], "unauthorized", "the right id with another secret: 401")
    t.eq(e.show("burst"), before, "the wrong key changed nothing of the real key's counters")
    statuses = [api.call("GET", "apikeys", key=wrong, expect=(401, 429)).status_code
                for _ in range(25)]
    t.ok(statuses[-1] == 429 and 401 in statuses and statuses.index(429) <= 20,
         "an address sending many wrong keys gets 429", statuses)
    r = api.request("GET", "apikeys", key=wrong)
    t.ok(r.status_code == 429 and r.headers.get("Retry-After"), "with Retry-After",
         r.headers)
    r = api.call("GET", "apikeys/burst", key=key)
    t.eq(r.status_code, 200, "the real key still works from that address")
    e.clock.tick(61)


def states(e, api, key):
    e.cli("apikey", "suspend", "burst")
    e.clock.tick()
    r = api.call("GET", "apikeys/burst", key=key, expect=403)
    t.eq(r.body["error"], "forbidden", "a suspended key: 403 forbidden")
    e.cli("apikey", "resume", "burst")
    e.clock.tick()
    t.eq(api.call("GET", "apikeys/burst", key=key).status_code, 200, "resumed: it works")
    short = e.make_key("short", "read", "--expires", "1m")
    t.eq(api.call("GET", "apikeys/short", key=short).status_code, 200,
         "a key before its expiry works")
    e.clock.tick(60)
    r = api.call("GET", "apikeys/short", key=short, expect=401)
    t.eq(r.body["error"], "unauthorized", "an expired key: 401")
    t.ok("\texpired\t" in e.cli("apikey", "list").stdout, "apikey list: expired")
    reader = e.make_key("reader", "read")
    r = api.call("POST", "apikeys", json={"name": "x", "scopes": ["read"]}, key=reader,
                 expect=403)
    t.eq(r.body["error"], "forbidden", "a read key cannot POST: 403")
    e.clock.tick()
    t.eq(api.call("GET", "apikeys", key=reader).status_code, 200, "but it can GET")


def create_via_api(e, api, key):
    e.clock.tick()
    r = api.call("POST", "apikeys", json={"name": "more", "scopes": ["read", "certs"]},
                 key=key, expect=403)
    t.eq((r.body["error"], r.body.get("field")), ("forbidden", "scopes"),
         "a key cannot create a key with a scope it lacks (403, field scopes)")
    e.clock.tick()
    r = api.call("POST", "apikeys", json={"name": "ci", "scopes": ["read"],
                                          "expires_in": "90d", "trial": True},
                 key=key, expect=201)
    new = r.body.get("api_key", "")
    e.keys.append(new)
    t.ok(re.fullmatch(KEY_RE, new) is not None, "201 with the key, once", r.body)
    t.ok(r.headers.get("Location", "").endswith("/api/v1/apikeys/ci"), "Location",
         r.headers.get("Location"))
    t.eq((r.body["scopes"], r.body["trial"], r.body["state"], r.body["created_by"]),
         (["read"], True, "active", "apikey:burst"), "the new key's object")
    t.eq(r.body["expires"], time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                          time.gmtime(e.clock.now + 90 * 86400)),
         "expires in 90 days")
    e.clock.tick()
    r = api.call("GET", "apikeys/ci", key=new)
    t.ok("api_key" not in r.body and new not in r.text, "the new key works; GET never "
         "shows the key", r.body)
    return new


def key_names(e):
    """Each key's name, scopes and state."""
    return [line.split("\t")[:3] for line in e.cli("apikey", "list").stdout.splitlines()]


def bad_input(e, api, key):
    listed = key_names(e)
    cases = [({"name": "x", "scopes": ["read"], "colour": "red"}, 400, None),
             ({"name": "x", "scopes": ["admin"]}, 400, "scopes"),
             ({"name": "x", "scopes": []}, 400, "scopes"),
             ({"name": "x", "scopes": "read"}, 400, "scopes"),
             ({"name": "x", "scopes": ["read"], "expires_in": "1s"}, 400, "expires_in"),
             ({"name": "x", "scopes": ["read"], "expires_in": 90}, 400, "expires_in"),
             ({"name": "bad name", "scopes": ["read"]}, 400, "name"),
             ({"scopes": ["read"]}, 400, "name"),
             ({"name": "CI", "scopes": ["read"]}, 409, "name")]
    for body, status, field in cases:
        e.clock.tick()
        r = api.call("POST", "apikeys", json=body, key=key, expect=status, raw=True)
        t.ok(field is None or r.body.get("field") == field,
             "POST %s: %d naming %s" % (body, status, field), r.body)
    e.clock.tick()
    r = api.call("PATCH", "apikeys/ci", json={"suspended": "yes"}, key=key, expect=400,
                 raw=True)
    t.eq(r.body.get("field"), "suspended", "PATCH suspended not a boolean: 400")
    t.eq(key_names(e), listed, "bad input changed nothing")


def patch_delete(e, api, key):
    e.clock.tick()
    r = api.call("GET", "apikeys/ci", key=key)
    etag = r.headers["ETag"]
    e.clock.tick()
    api.call("PATCH", "apikeys/ci", json={"suspended": True}, key=key, expect=412,
             headers={"If-Match": 'W/"0"'})
    t.eq(e.show("ci")["state"], "active", "PATCH with a stale If-Match: 412, unchanged")
    e.clock.tick()
    r = api.call("PATCH", "apikeys/ci", json={"suspended": True}, key=key,
                 headers={"If-Match": etag})
    t.eq(r.body["state"], "suspended", "PATCH suspended with the ETag: suspended")
    t.ok(r.headers.get("ETag") not in (None, etag), "with a new ETag")
    e.clock.tick()
    r = api.call("PATCH", "apikeys/ci", json={"suspended": False}, key=key)
    t.eq(r.body["state"], "active", "and resumed")
    e.clock.tick()
    api.call("DELETE", "apikeys/ci", key=key, expect=204)
    e.clock.tick()
    api.call("GET", "apikeys/ci", key=key, expect=404)
    t.ok("ci\t" not in e.cli("apikey", "list").stdout, "deleted")
    e.clock.tick()
    items = api.call("GET", "apikeys?limit=2", key=key).body
    t.ok(len(items["items"]) == 2 and items.get("next_cursor"), "a page of 2 with a cursor")
    e.clock.tick()
    rest = api.call("GET", "apikeys?limit=2&cursor=" + items["next_cursor"], key=key).body
    names = [k["name"] for k in items["items"] + rest["items"]]
    t.eq(names, ["burst", "reader", "short"], "pages in name order")


def month(e, api):
    key = e.make_key("quota", "read")
    s = requests.Session()
    s.trust_env = False
    h = {"Authorization": "Bearer " + key}
    url = api.base + "apikeys/quota"
    bad = []
    for i in range(5000):
        e.clock.tick()
        r = s.get(url, headers=h, timeout=60, verify=e.srv.ca)
        if r.status_code != 200:
            bad.append((i, r.status_code, r.text[:200]))
            break
    t.eq(bad, [], "5000 calls a second apart in the month: all 200")
    t.eq(e.show("quota")["calls_this_month"], "5000", "apikey show: 5000 this month")
    e.clock.tick()
    r = api.call("GET", "apikeys/quota", key=key, expect=429)
    t.eq((r.body["error"], r.headers.get("Retry-After")),
         ("rate_limited", str(MONTH_END - e.clock.now)),
         "the 5001st: 429 with Retry-After to the month's end")
    t.eq(r.headers.get("RateLimit-Remaining"), "0", "RateLimit-Remaining: 0")
    e.clock.tick(3600)
    api.call("GET", "apikeys/quota", key=key, expect=429)
    t.ok(re.search(r"^quota\tread\tquota\tcalls=5000/5000 this month\t",
                   e.cli("apikey", "list").stdout, re.M),
         "apikey list: state quota", e.cli("apikey", "list").stdout)
    recs = e.srv.audit_find("apikey.quota_exhausted", "key=quota")
    t.eq(len(recs), 1, "one apikey.quota_exhausted audit record")
    e.srv.restart()
    e.clock.tick()
    api.call("GET", "apikeys/quota", key=key, expect=429)
    t.eq(e.show("quota")["total_calls"], "5000", "after a restart: still refused, counted")
    e.clock.set(MONTH_END + 1)
    r = api.call("GET", "apikeys/quota", key=key)
    t.eq((r.headers.get("RateLimit-Remaining"), r.body["calls_this_month"],
          r.body["state"]), ("4999", 1, "active"), "the next month counts from 0")
    return key


def no_key_leaks(e):
    recs = e.srv.audit()
    text = "\n".join("%s %s" % r for r in recs)
    t.eq(st.grep_secret_leaks(text, e.keys), [], "no key string in the audit trail")
    t.eq(st.grep_secret_leaks(e.srv.log(), e.keys), [], "no key string in the log")
    t.ok(e.srv.audit_find("api.call", "key=burst", "method=GET", "status=200"),
         "api.call records name the key")
    t.ok(e.srv.audit_find("admin.apikey.create", "name=ci", "actor=apikey:burst"),
         "the creation through the API is audited with the key's name")


def main():
    e = Env()
    try:
        api = ac.ApiClient(e.srv, "default", ["unused"])
        key = burst(e, api)
        wrong_keys(e, api, key)
        states(e, api, key)
        create_via_api(e, api, key)
        bad_input(e, api, key)
        patch_delete(e, api, key)
        month(e, api)
        no_key_leaks(e)
    finally:
        e.srv.close()
    t.done()


main()
