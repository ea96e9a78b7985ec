#!/usr/bin/python3
"""The admin API's OpenAPI document, held against the running server.

- openapi.json is served without a key, is OpenAPI 3.1 with this tenant's server URL,
  every $ref resolves and every schema in it is a valid JSON Schema (2020-12).
- Every documented operation is called (reads first, then writes, deletes last) with the
  objects made here; each answer's status must be documented for that operation and its
  body must validate against the documented schema.  A documented route the server does
  not have (404 "no such resource", 405) fails; so does every method the document does
  not list for a path (it must get 405 with Allow) — the unit test test_api_routes holds
  the route tables against the document the other way round.
- What the framework does for every route: 401 with WWW-Authenticate without a key, 415
  for a body that is not JSON, 400 for JSON that does not parse or is not an object, a
  JSON 404 for an unknown path, HEAD like GET without a body, RateLimit-* headers, one
  `api.call` audit record per call naming the key (never the key itself).
"""
import json
import re

import jsonschema
import requests

import api_common as ac
import sekisho_test as st

t = st.Tap()
PW = "Api-Docs-Passw0rd-77!"
METHODS = ("get", "post", "put", "patch", "delete")


def walk_refs(doc, node, tap, where="#"):
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            target = doc
            try:
                for part in ref.lstrip("#/").split("/"):
                    target = target[part]
            except (KeyError, TypeError):
                tap.ok(False, "reference %s at %s resolves" % (ref, where))
        for k, v in node.items():
            walk_refs(doc, v, tap, where + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_refs(doc, v, tap, "%s/%d" % (where, i))


def check_document(srv):
    r = requests.get(srv.base() + "/api/v1/openapi.json", verify=srv.ca, timeout=30)
    t.eq(r.status_code, 200, "openapi.json without a key")
    doc = r.json()
    t.eq(doc.get("openapi"), "3.1.0", "OpenAPI 3.1")
    t.eq(doc["servers"][0]["url"], srv.base() + "/api/v1", "server URL of this tenant")
    other = requests.get(srv.base("other") + "/api/v1/openapi.json", verify=srv.ca,
                         timeout=30).json()
    t.eq(other["servers"][0]["url"], srv.base("other") + "/api/v1", "and of another tenant")
    bad = []
    walk_refs(doc, doc, type("T", (), {"ok": lambda self, c, n: bad.append(n)})())
    t.eq(bad, [], "every $ref resolves")
    errors = []
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            errors.append("%s: %s" % (name, e.message))
    t.eq(errors, [], "every component schema is a valid JSON Schema")
    ops = [(p, m) for p, item in doc["paths"].items() for m in METHODS if m in item]
    t.ok(len(ops) >= 40, "the document has the API's operations (%d)" % len(ops))
    missing = [(p, m) for p, m in ops if not doc["paths"][p][m].get("responses")]
    t.eq(missing, [], "every operation documents its responses")
    return doc


def fixtures(srv, cli_keys):
    srv.add_user("alice", PW, email="alice@example.com")
    srv.add_user("bob", PW)
    srv.cli("group", "add", "staff")
    srv.cli("group", "add-member", "staff", "alice")
    srv.cli("app", "add-oidc", "wiki", "--redirect-uri", "https://wiki.example.com/cb")
    srv.cli("policy", "add", "office", "--effect", "allow", "--group", "staff")
    return {
        "users": "alice", "groups": "staff", "members": "alice", "apps": "wiki",
        "rules": "office", "apikeys": "spare", "catalog": "generic-saml",
        "certificates": "00", "user": "bob", "group": "staff",
    }


def fill(template, names):
    """The path with each {param} replaced by the fixture of the segment before it."""
    out, prev = [], None
    for seg in template.strip("/").split("/"):
        if seg.startswith("{"):
            key = seg[1:-1]
            out.append(names.get(prev) or names.get(key) or "nothing-here")
        else:
            out.append(seg)
        prev = seg
    return "/".join(out)


def sweep(api, doc, names):
    ops = [(p, m) for p, item in doc["paths"].items() for m in METHODS if m in item]
    order = {"get": 0, "post": 1, "put": 1, "patch": 1, "delete": 2}
    ops.sort(key=lambda pm: (order[pm[1]], pm[0]))
    bad = []
    for path, method in ops:
        url = fill(path, names)
        body = {} if method in ("post", "put", "patch") else None
        r = api.request(method.upper(), url, json=body)
        op = doc["paths"][path][method]
        schema, documented = ac.response_schema(doc, op, r.status_code)
        detail = r.text[:200]
        if r.status_code == 405 or (r.status_code == 404 and "no such resource" in detail):
            bad.append("%s %s: the server has no such route (%d)" % (method, path,
                                                                   r.status_code))
        elif not documented:
            bad.append("%s %s: status %d not documented: %s" % (method, path, r.status_code,
                                                                detail))
        elif schema is not None and r.content and "json" in r.headers.get("Content-Type", ""):
            try:
                ac.validate(doc, schema, r.json())
            except jsonschema.ValidationError as e:
                bad.append("%s %s: %d answer does not match its schema: %s" % (
                    method, path, r.status_code, e.message[:200]))
    t.eq(bad, [], "every documented operation (%d) answers as documented" % len(ops))


def served_elsewhere(doc, path, method, url):
    """Does another documented path, with a {param} where path has a literal, take method
    for url (GET users/import is the user called import)?"""
    for other, item in doc["paths"].items():
        if other == path or method not in item:
            continue
        pat = "^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(other.strip("/"))) + "$"
        if re.match(pat, url):
            return True
    return False


def undocumented_methods(api, doc, names):
    bad, elsewhere = [], 0
    for path, item in doc["paths"].items():
        for m in METHODS:
            if m in item:
                continue
            url = fill(path, names)
            if served_elsewhere(doc, path, m, url):
                elsewhere += 1
                continue
            r = api.request(m.upper(), url, json={} if m != "get" and
                            m != "delete" else None)
            if r.status_code != 405 or not r.headers.get("Allow"):
                bad.append("%s %s: %d" % (m, path, r.status_code))
    t.eq(bad, [], "methods the document does not list get 405 with Allow (%d served by a "
         "path with a parameter instead)" % elsewhere)


def framework(srv, api, key):
    base = srv.base() + "/api/v1/"
    r = requests.get(base + "users", verify=srv.ca, timeout=30)
    t.eq(r.status_code, 401, "no key: 401")
    t.ok("Bearer" in r.headers.get("WWW-Authenticate", ""), "with WWW-Authenticate: Bearer")
    t.eq(r.json().get("error"), "unauthorized", "JSON error body")
    r = api.request("POST", "groups", data="name=x",
                    content_type="application/x-www-form-urlencoded")
    t.eq(r.status_code, 415, "a form body: 415")
    r = api.request("POST", "groups", data="{not json", content_type="application/json")
    t.eq((r.status_code, r.json().get("error")), (400, "invalid_request"), "bad JSON: 400")
    r = api.request("POST", "groups", data="[1,2]", content_type="application/json")
    t.eq(r.status_code, 400, "a JSON array: 400")
    r = api.request("POST", "groups", data='{"name":"a","name":"b"}',
                    content_type="application/json")
    t.eq(r.status_code, 400, "repeated JSON members: 400")
    r = api.request("GET", "no/such/thing")
    t.eq((r.status_code, r.json().get("error")), (404, "not_found"), "unknown path: JSON 404")
    r = api.request("HEAD", "users")
    t.eq((r.status_code, r.content), (200, b""), "HEAD: 200 without a body")
    r = api.request("GET", "users")
    for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        t.ok(r.headers.get(h, "").isdigit(), "%s header" % h)
    t.eq(r.headers.get("RateLimit-Limit"), "5000", "the monthly limit")
    recs = srv.audit()
    calls = [f for e, f in recs if e == "api.call"]
    t.ok(calls and all(re.search(r"(^|\s)key=doc\d", f) for f in calls),
         "api.call records name the key")
    t.ok(key not in json.dumps(recs) and key not in srv.log(),
         "the key is in no audit record or log line")
    t.ok(not re.search(r"sks_[0-9a-f]{16}_", srv.log()), "no key string in the log")


def main():
    srv = st.Server()
    try:
        srv.cli("tenant", "add", "other")
        keys = ac.make_keys(srv, "default", "doc", 6, "read,write,certs")
        ac.make_key(srv, "default", "spare", "read")
        doc = check_document(srv)
        names = fixtures(srv, keys)
        api = ac.ApiClient(srv, "default", keys)
        t.run("framework", framework, srv, api, keys[0])
        t.run("undocumented methods", undocumented_methods, api, doc, names)
        t.run("every documented operation", sweep, api, doc, names)
    finally:
        srv.close()
    t.done()


if __name__ == "__main__":
    main()
