"""A local Jellyfin that routes by the Jellyfin 12 OpenAPI spec and refuses what the spec does not allow.

Every request is checked against tests/fixtures/jellyfin-openapi.json: the path and
method must exist, each query parameter must be declared and fit its schema, required
ones must be there, a JSON body must fit the declared schema (additionalProperties
included), and operations with ``security`` need ``Authorization: MediaBrowser Token="..."``
with the right key. ``X-Emby-Token`` is refused outright, as Jellyfin 12 does.
Behaviour for the few endpoints the client uses is implemented over an in-memory item list.
"""
from __future__ import annotations

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "jellyfin-openapi.json"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_AUTH = re.compile(r'^MediaBrowser\s+(?:.*,\s*)?Token="([^"]*)"')
_SPEC_CACHE: dict = {}


class SpecError(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def load_spec() -> dict:
    if "spec" not in _SPEC_CACHE:
        _SPEC_CACHE["spec"] = json.loads(SPEC_PATH.read_text())
    return _SPEC_CACHE["spec"]


class Spec:
    """Path matching and parameter/body validation against an OpenAPI 3 document."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.routes = []
        for template, item in doc["paths"].items():
            names = re.findall(r"{(\w+)}", template)
            pattern = "^" + re.sub(r"{\w+}", "([^/]+)", template) + "$"
            self.routes.append((len(names), template, re.compile(pattern, re.IGNORECASE), names, item))
        self.routes.sort(key=lambda r: r[0])  # literal paths win over templated ones

    def match(self, method: str, path: str) -> tuple[str, dict, dict]:
        for _, template, pattern, names, item in self.routes:
            found = pattern.match(path)
            if found:
                op = item.get(method.lower())
                if op is None:
                    raise SpecError(405, f"{method} not allowed on {template}")
                return template, op, dict(zip(names, found.groups()))
        raise SpecError(404, f"no such path in the spec: {path}")

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.doc["components"]["schemas"][name]
        if "allOf" in schema and len(schema["allOf"]) == 1 and "type" not in schema and "enum" not in schema:
            return self.resolve(schema["allOf"][0])
        return schema

    def check_params(self, op: dict, query: list[tuple[str, str]], path_params: dict) -> None:
        declared = {(p["in"], p["name"]): p for p in op.get("parameters", [])}
        for name, value in path_params.items():
            self.check_value(declared[("path", name)]["schema"], value, f"path parameter {name}")
        seen = set()
        for name, value in query:
            param = declared.get(("query", name))
            if param is None:
                raise SpecError(400, f"query parameter {name!r} is not declared for this operation")
            seen.add(name)
            self.check_value(param["schema"], value, f"query parameter {name}")
        for (where, name), param in declared.items():
            if where == "query" and param.get("required") and name not in seen:
                raise SpecError(400, f"required query parameter {name!r} missing")

    def check_value(self, schema: dict, raw: str, what: str) -> None:
        schema = self.resolve(schema)
        if schema.get("type") == "array":
            for part in raw.split(","):  # Jellyfin binds comma-delimited arrays
                self.check_value(schema["items"], part, what)
            return
        kind, fmt = schema.get("type"), schema.get("format")
        ok = True
        if "enum" in schema:
            ok = raw in schema["enum"]
        elif kind == "boolean":
            ok = raw in ("true", "false", "True", "False")
        elif kind == "integer":
            ok = re.fullmatch(r"-?\d+", raw) is not None
        elif kind == "number":
            ok = re.fullmatch(r"-?\d+(\.\d+)?", raw) is not None
        elif fmt == "uuid":
            ok = _UUID.match(raw) is not None
        if not ok:
            raise SpecError(400, f"{what}: {raw!r} does not fit {json.dumps(schema)[:120]}")

    def check_body(self, op: dict, content_type: str, body: bytes) -> object:
        declared = op.get("requestBody")
        if declared is None:
            if body:
                raise SpecError(400, "this operation takes no body")
            return None
        media = content_type.split(";")[0].strip()
        content = declared.get("content", {})
        if media not in content:
            raise SpecError(415, f"content type {media!r} not accepted; spec allows {sorted(content)}")
        try:
            data = json.loads(body or b"null")
        except ValueError:
            raise SpecError(400, "body is not JSON") from None
        self.check_json(content[media]["schema"], data, "body")
        return data

    def check_json(self, schema: dict, value, where: str) -> None:
        schema = self.resolve(schema)
        if value is None:
            if schema.get("nullable") or schema.get("type") is None:
                return
            raise SpecError(400, f"{where}: null not allowed")
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                raise SpecError(400, f"{where}: expected an object")
            props = schema.get("properties", {})
            for key, item in value.items():
                if key not in props:
                    if schema.get("additionalProperties") is False:
                        raise SpecError(400, f"{where}: property {key!r} not allowed")
                    continue
                self.check_json(props[key], item, f"{where}.{key}")
        elif kind == "array":
            if not isinstance(value, list):
                raise SpecError(400, f"{where}: expected an array")
            for i, item in enumerate(value):
                self.check_json(schema["items"], item, f"{where}[{i}]")
        elif kind == "string" and not isinstance(value, str):
            raise SpecError(400, f"{where}: expected a string")


class FakeJellyfin:
    """Serve on 127.0.0.1 (random port) while used as a context manager."""

    def __init__(self, api_key: str = "jf-key", items: list[dict] | None = None):
        self.api_key = api_key
        self.items = list(items or [])
        self.spec = Spec(load_spec())
        self.requests: list[dict] = []
        self.rejections: list[str] = []
        self.media_updated: list[list[dict]] = []
        self.refreshed: list[str] = []
        self.fail_media_updated = 0  # status to answer /Library/Media/Updated with, 0 = normal
        self.fail_refresh = 0  # the same for /Items/{id}/Refresh
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> "FakeJellyfin":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- dispatch -------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers, body: bytes) -> tuple[int, object]:
        parts = urlsplit(raw_path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        self.requests.append({"method": method, "path": parts.path, "query": query,
                              "headers": dict(headers), "body": body})
        try:
            template, op, path_params = self.spec.match(method, parts.path)
            self._check_auth(op, headers)
            self.spec.check_params(op, query, path_params)
            data = self.spec.check_body(op, headers.get("Content-Type", ""), body)
        except SpecError as exc:
            self.rejections.append(f"{method} {raw_path}: {exc}")
            return exc.status, {"error": str(exc)}
        return self.behave(method, template, dict(query), path_params, data)

    def _check_auth(self, op: dict, headers) -> None:
        if headers.get("X-Emby-Token") is not None:
            raise SpecError(401, "X-Emby-Token is not accepted by Jellyfin 12")
        if not op.get("security"):
            return
        found = _AUTH.match(headers.get("Authorization", ""))
        if not found or found.group(1) != self.api_key:
            raise SpecError(401, "missing or wrong MediaBrowser Token")

    def behave(self, method: str, template: str, query: dict, params: dict, data) -> tuple[int, object]:
        if template == "/System/Info/Public":
            return 200, {"ServerName": "Fake Jellyfin", "Version": "12.0.0", "ProductName": "Jellyfin Server",
                         "Id": "0123456789abcdef0123456789abcdef"}
        if template == "/System/Info":
            return 200, {"ServerName": "Fake Jellyfin", "Version": "12.0.0", "OperatingSystem": "Linux"}
        if template == "/Items" and method == "GET":
            found = [i for i in self.items if _matches(i, query)]
            return 200, {"Items": found, "TotalRecordCount": len(found), "StartIndex": 0}
        if template == "/Library/Media/Updated":
            if self.fail_media_updated:
                return self.fail_media_updated, {"error": "simulated failure"}
            self.media_updated.append(data["Updates"])
            return 204, None
        if template == "/Items/{itemId}/Refresh":
            if self.fail_refresh:
                return self.fail_refresh, {"error": "simulated failure"}
            if not any(_norm(i["Id"]) == _norm(params["itemId"]) for i in self.items):
                return 404, {"error": "no such item"}
            self.refreshed.append(_norm(params["itemId"]))
            return 204, None
        return 501, {"error": f"{template} is valid but not implemented by the fake"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload = fake.handle(self.command, self.path, self.headers, body)
                out = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_DELETE = do_PUT = _any

            def log_message(self, *args):
                pass

        return Handler


def _norm(item_id: str) -> str:
    return str(item_id).replace("-", "").lower()


def _matches(item: dict, query: dict) -> bool:
    if "ids" in query and _norm(item["Id"]) not in {_norm(i) for i in query["ids"].split(",")}:
        return False
    if "includeItemTypes" in query and item.get("Type") not in query["includeItemTypes"].split(","):
        return False
    if "years" in query and str(item.get("ProductionYear")) not in query["years"].split(","):
        return False
    if "parentId" in query:
        # recursive: an episode lies under its season and its series; not recursive: only direct children
        parents = ("ParentId", "SeasonId", "SeriesId") if query.get("recursive") in ("true", "True") else ("ParentId",)
        if _norm(query["parentId"]) not in {_norm(item.get(k) or "") for k in parents}:
            return False
    for key, field in (("parentIndexNumber", "ParentIndexNumber"), ("indexNumber", "IndexNumber")):
        if key in query and str(item.get(field)) != query[key]:
            return False
    return True


def movie_dto(name: str, path: str, languages: list[str], year: int = 2021, **ids: str) -> dict:
    """A BaseItemDto for a movie as /Items returns it with fields=Path,ProviderIds,MediaSources."""
    return _video_dto("Movie", name, path, languages, year, ids)


def episode_dto(name: str, path: str, languages: list[str], series: str, season: int, episode: int,
                series_id: str, season_id: str | None = None, **ids: str) -> dict:
    dto = _video_dto("Episode", name, path, languages, 2023, ids)
    dto.update(SeriesName=series, ParentIndexNumber=season, IndexNumber=episode, SeriesId=series_id)
    if season_id:
        dto.update(SeasonId=season_id, ParentId=season_id)
    if not ids:
        del dto["ProviderIds"]  # Jellyfin leaves the field out when it knows no id
    return dto


def series_dto(name: str, series_id: str, **ids: str) -> dict:
    return {"Id": series_id, "Name": name, "Type": "Series", "Path": f"/data/tv/{name}",
            "ProviderIds": {k.capitalize(): v for k, v in ids.items()}}


def _video_dto(kind: str, name: str, path: str, languages: list[str], year: int, ids: dict) -> dict:
    streams = [{"Type": "Video", "Codec": "h264", "Index": 0}]
    streams += [{"Type": "Audio", "Codec": "aac", "Index": i + 1, "Language": lang} for i, lang in enumerate(languages)]
    return {"Id": uuid.uuid4().hex, "Name": name, "Type": kind, "ProductionYear": year, "Path": path,
            "ProviderIds": {k.capitalize(): v for k, v in ids.items()},
            "MediaSources": [{"Id": "src", "Path": path, "Protocol": "File", "MediaStreams": streams}]}
