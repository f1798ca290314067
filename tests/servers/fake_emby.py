"""A local Emby: the Media Browser routes the client uses, authenticated by ``X-Emby-Token``.

Emby publishes no OpenAPI file here, so this fake checks methods, paths, the header and
the body shape by hand; it reuses FakeJellyfin's item store and behaviour.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

try:
    from fake_jellyfin import FakeJellyfin
except ImportError:  # imported as tests.servers.fake_emby from another test folder
    from tests.servers.fake_jellyfin import FakeJellyfin

_ROUTES = [
    ("GET", re.compile(r"^/System/Info/Public$"), "/System/Info/Public", False),
    ("GET", re.compile(r"^/System/Info$"), "/System/Info", True),
    ("GET", re.compile(r"^/Items$"), "/Items", True),
    ("POST", re.compile(r"^/Library/Media/Updated$"), "/Library/Media/Updated", True),
    ("POST", re.compile(r"^/Items/(?P<itemId>\d+)/Refresh$"), "/Items/{itemId}/Refresh", True),
]


class FakeEmby(FakeJellyfin):
    def handle(self, method, raw_path, headers, body):
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query))
        self.requests.append({"method": method, "path": parts.path, "query": list(query.items()),
                              "headers": dict(headers), "body": body})
        for verb, pattern, template, secured in _ROUTES:
            found = pattern.match(parts.path)
            if found and verb == method:
                if secured and headers.get("X-Emby-Token") != self.api_key:
                    self.rejections.append(f"{method} {raw_path}: bad X-Emby-Token")
                    return 401, {"error": "Access token is invalid or expired."}
                data = None
                if template == "/Library/Media/Updated":
                    import json

                    data = json.loads(body)
                    if set(data) != {"Updates"}:
                        return 400, {"error": "bad body"}
                return self.behave(method, template, query, found.groupdict(), data)
        self.rejections.append(f"{method} {raw_path}: no route")
        return 404, {"error": "not found"}
