"""What the console's test files share: the test clock, signing in, the console's URLs,
and finding and submitting its forms (with the session's CSRF token in them)."""
import re
import struct
import urllib.parse
import zlib

import sekisho_test as st


class Clock:
    """sekishod's clock through libfaketime: an offset from the real time."""

    def __init__(self, path):
        self.path = path
        self.offset = 0

    def forward(self, seconds):
        self.offset += seconds
        with open(self.path, "w") as f:
            f.write("%+d\n" % self.offset)


def login(srv, user, password):
    b = st.Browser(verify=srv.ca)
    b.submit_login(b.get(srv.base() + "/login"), user, password)
    return b


def console(srv, page=""):
    return srv.base() + "/admin" + ("/" + page if page else "")


def form(r, action_end, **match):
    """The form on page r whose action ends with action_end (and whose fields match)."""
    for f in st.parse_forms(r.text):
        if f["action"].endswith(action_end) and all(
                f["fields"].get(k) == v for k, v in match.items()):
            return f
    raise RuntimeError("no form %s %r on %s (%d): %s" % (action_end, match, r.url,
                                                         r.status_code, r.text[:800]))


def has_form(r, action_end):
    return any(f["action"].endswith(action_end) for f in st.parse_forms(r.text))


def submit(b, r, action_end, fields, match=None, drop=()):
    """Submit the form with fields, leaving out the fields named in drop."""
    f = form(r, action_end, **(match or {}))
    data = {k: v for k, v in f["fields"].items() if k not in drop}
    data.update(fields)
    return b.post(urllib.parse.urljoin(r.url, f["action"]), data)


def csrf_of(b, srv, user):
    """A valid console CSRF token of b's session (from user's page)."""
    return re.search(r'name="csrf" value="([^"]+)"',
                     b.get(console(srv, "user") + "?name=" + user).text).group(1)


# An SVG icon (%s: more of it) and a PNG, for the uploads of logos and icons.
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">%s'
       '<circle cx="8" cy="8" r="7" fill="#0a0"/></svg>')


def png(w=16, h=16):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    raw = b"".join(b"\0" + b"\x00\x80\xff\xff" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
