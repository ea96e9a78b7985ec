"""What the admin API's tests share: keys made with the command line, and a client that
validates every answer against the server's own OpenAPI document.

make_keys(server, tenant, prefix, n, scopes) makes n keys with `sekisho apikey create` and
returns their strings.  ApiClient(server, tenant, keys) sends calls in turn with each key,
waiting per key so that no key makes two calls within one second (the server allows one
per second per key): with 8 keys about 8 calls per second.

call(method, path, json=None, expect=200, ...) checks the status, then validates the
body against the documented response schema of that path, method and status (every
documented operation must document the statuses it answers with); the request body too
against the documented requestBody schema, unless raw=True (deliberately bad input).
"""
import json as jsonlib
import threading
import time

import jsonschema
import requests

_DOCS = {}


def make_key(server, tenant, name, scopes, *extra):
    """A key called name (`sekisho apikey create`): its string."""
    r = server.cli("apikey", "create", name, "--scope", scopes, *extra, tenant=tenant)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("api_key=")]
    if len(lines) != 1:
        raise RuntimeError("apikey create printed %r" % r.stdout)
    return lines[0][len("api_key="):]


def make_keys(server, tenant, prefix, n, scopes):
    """n keys called prefix0, prefix1 ...: their strings."""
    return [make_key(server, tenant, "%s%d" % (prefix, i), scopes) for i in range(n)]


def openapi(server, tenant="default"):
    """The server's document (no key needed), cached per server and tenant."""
    k = (server.url, tenant)
    if k not in _DOCS:
        r = requests.get(server.base(tenant) + "/api/v1/openapi.json", verify=server.ca,
                         timeout=30)
        r.raise_for_status()
        _DOCS[k] = r.json()
    return _DOCS[k]


def _template_match(template, path):
    a, b = template.strip("/").split("/"), path.strip("/").split("/")
    if len(a) != len(b):
        return False
    return all(x == y or (x.startswith("{") and x.endswith("}") and y) for x, y in zip(a, b))


def find_operation(doc, method, path):
    """(template, operation) documented for method and path (without the query)."""
    path = path.split("?", 1)[0]
    exact = [t for t in doc["paths"] if t == "/" + path.strip("/")]
    for t in exact + [t for t in doc["paths"] if _template_match(t, path)]:
        op = doc["paths"][t].get(method.lower())
        if op:
            return t, op
    return None, None


class _Resolver:
    def __init__(self, doc):
        self.doc = doc

    def deref(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            node = self.doc
            for part in ref.lstrip("#/").split("/"):
                node = node[part]
            obj = node
        return obj


def validate(doc, schema, value):
    # Resolve "#/components/..." against the document itself.
    resolver = jsonschema.RefResolver.from_schema(doc)
    jsonschema.Draft202012Validator(schema, resolver=resolver).validate(value)


def response_schema(doc, op, status):
    r = _Resolver(doc)
    responses = op.get("responses", {})
    resp = responses.get(str(status)) or responses.get("%dXX" % (status // 100)) \
        or responses.get("default")
    if resp is None:
        return None, False
    resp = r.deref(resp)
    content = resp.get("content")
    if not content:
        return None, True
    for ctype in ("application/json", "application/scim+json"):
        if ctype in content:
            return content[ctype].get("schema"), True
    return None, True


def request_schema(doc, op):
    r = _Resolver(doc)
    body = op.get("requestBody")
    if not body:
        return None
    body = r.deref(body)
    for ctype in ("application/json", "application/merge-patch+json"):
        if ctype in body.get("content", {}):
            return body["content"][ctype].get("schema")
    return None


class ApiError(AssertionError):
    pass


class ApiClient:
    def __init__(self, server, tenant, keys, base=None):
        self.server = server
        self.tenant = tenant
        self.keys = list(keys)
        self.last = [0.0] * len(self.keys)
        self.turn = 0
        self.lock = threading.Lock()
        self.key_locks = [threading.Lock() for _ in self.keys]
        self.base = base or server.base(tenant) + "/api/v1/"
        self.doc = openapi(server, tenant)
        self.calls = []         # (method, template, status) of every call, for coverage

    def _next_key(self):
        """The index of the next key, held until its call is answered, once its last
        answer is 1.05 s old (the server counts arrivals: timing from the answer keeps two
        arrivals a second apart even when a request waits in a queue)."""
        with self.lock:
            i = self.turn
            self.turn = (self.turn + 1) % len(self.keys)
        self.key_locks[i].acquire()
        wait = self.last[i] + 1.05 - time.time()
        if wait > 0:
            time.sleep(wait)
        return i

    def request(self, method, path, json=None, headers=None, key=None, data=None,
                content_type=None):
        """The raw response (no checks); key=None takes the next key of the client."""
        i = None if key else self._next_key()
        key = key or self.keys[i]
        h = {"Authorization": "Bearer " + key}
        if json is not None:
            data = jsonlib.dumps(json)
            h["Content-Type"] = "application/json"
        if content_type:
            h["Content-Type"] = content_type
        h.update(headers or {})
        try:
            return requests.request(method, self.base + path.lstrip("/"), data=data,
                                    headers=h, verify=self.server.ca, timeout=60)
        finally:
            self._answered(key, i)

    def _answered(self, key, i):
        """The server counted the call before answering: pace the key from the answer (a
        loaded server may count a call sent at t as late as t + 0.9 s)."""
        with self.lock:
            if key in self.keys:
                self.last[self.keys.index(key)] = time.time()
        if i is not None:
            self.key_locks[i].release()

    def call(self, method, path, json=None, expect=200, headers=None, raw=False, key=None,
             data=None, content_type=None):
        """Call, check the status (int or tuple), validate against the document; the
        response.  The parsed body is response.body (None when empty or not JSON)."""
        template, op = find_operation(self.doc, method, path)
        if op is None:
            raise ApiError("%s %s is not in the OpenAPI document" % (method, path))
        if json is not None and not raw:
            schema = request_schema(self.doc, op)
            if schema is None:
                raise ApiError("%s %s: no documented request body" % (method, template))
            validate(self.doc, schema, json)
        r = self.request(method, path, json=json, headers=headers, key=key, data=data,
                         content_type=content_type)
        self.calls.append((method.upper(), template, r.status_code))
        want = expect if isinstance(expect, (tuple, list)) else (expect,)
        if r.status_code not in want:
            raise ApiError("%s %s: status %d, wanted %s: %s" % (method, path, r.status_code,
                                                               want, r.text[:500]))
        r.body = None
        ctype = r.headers.get("Content-Type", "")
        if r.content and "json" in ctype:
            r.body = r.json()
        schema, documented = response_schema(self.doc, op, r.status_code)
        if not documented:
            raise ApiError("%s %s: status %d is not documented" % (method, template,
                                                                 r.status_code))
        if schema is not None and method.upper() != "HEAD":
            validate(self.doc, schema, r.body)
        return r

    def all_items(self, path, limit=50):
        """Every item of a paged list, following next_cursor."""
        items, cursor = [], None
        while True:
            sep = "&" if "?" in path else "?"
            p = "%s%slimit=%d" % (path, sep, limit) + ("&cursor=" + cursor if cursor else "")
            body = self.call("GET", p).body
            items += body["items"]
            cursor = body.get("next_cursor")
            if not cursor:
                return items
