"""A local Plex Media Server answering the endpoints plexapi calls, in Plex's XML shape.

``/identity`` is open; everything else needs the ``X-Plex-Token`` header. Items are kept
as small dicts and rendered as ``<Video>``/``<Directory>`` elements with Media/Part/Stream
and Guid children. Scans (``/library/sections/{id}/refresh``) are recorded with their path,
analyses (``PUT /library/metadata/{ratingKey}/analyze``) with the item's ratingKey.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import quoteattr

MACHINE_ID = "7b64abb13817a3b8c3a0776af127a001ea0b9ec7"


def movie(key: int, title: str, file: str, languages: list[str], year: int = 2021, section: int = 1,
          **ids: str) -> dict:
    return {"ratingKey": key, "type": "movie", "title": title, "year": year, "file": file,
            "languages": languages, "ids": ids, "section": section}


def show(key: int, title: str, section: int = 2, **ids: str) -> dict:
    return {"ratingKey": key, "type": "show", "title": title, "ids": ids, "section": section}


def episode(key: int, title: str, file: str, languages: list[str], show_key: int, show_title: str,
            season: int, index: int, section: int = 2, **ids: str) -> dict:
    return {"ratingKey": key, "type": "episode", "title": title, "year": 2023, "file": file,
            "languages": languages, "ids": ids, "section": section, "show": show_key,
            "grandparentTitle": show_title, "parentIndex": season, "index": index}


class FakePlex:
    """Serve on 127.0.0.1 (random port) while used as a context manager."""

    def __init__(self, token: str = "plex-token", items: list[dict] | None = None,
                 sections: list[dict] | None = None):
        self.token = token
        self.items = {int(i["ratingKey"]): i for i in items or []}
        self.sections = sections if sections is not None else [
            {"key": 1, "type": "movie", "title": "Movies", "locations": ["/data/movies"]},
            {"key": 2, "type": "show", "title": "TV Shows", "locations": ["/data/tv"]},
        ]
        self.requests: list[tuple[str, str]] = []
        self.scans: list[tuple[int, str]] = []
        self.analyzed: list[int] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> "FakePlex":
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, method: str, raw: str, headers) -> tuple[int, str]:
        parts = urlsplit(raw)
        path, query = parts.path.rstrip("/") or "/", {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests.append((method, raw))
        if path == "/identity":
            return 200, f'<MediaContainer size="0" claimed="1" machineIdentifier="{MACHINE_ID}" version="1.41.3.9314"/>'
        if headers.get("X-Plex-Token") != self.token:
            return 401, "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"
        segs = path.strip("/").split("/")
        if segs[:2] == ["library", "metadata"] and len(segs) == 4 and segs[3] == "analyze":
            if method != "PUT" or not segs[2].isdigit():
                return 405 if method != "PUT" else 400, ""
            if int(segs[2]) not in self.items:
                return 404, "<html><body><h1>404 Not Found</h1></body></html>"
            self.analyzed.append(int(segs[2]))
            return 200, ""
        return self.route(path, query)

    def route(self, path: str, query: dict) -> tuple[int, str]:
        segs = path.strip("/").split("/")
        if path == "/":
            return 200, (f'<MediaContainer size="0" friendlyName="Fake Plex" machineIdentifier="{MACHINE_ID}" '
                         'version="1.41.3.9314" platform="Linux" myPlex="0"/>')
        if path == "/library":
            return 200, '<MediaContainer size="1" title1="Plex Library"><Directory key="sections" title="Library Sections"/></MediaContainer>'
        if path == "/library/sections":
            return 200, container("".join(self.section_xml(s) for s in self.sections))
        if segs[:2] == ["library", "sections"] and len(segs) == 4 and segs[3] == "refresh":
            self.scans.append((int(segs[2]), query.get("path", "")))
            return 200, ""
        if segs[:2] == ["library", "sections"] and len(segs) == 4 and segs[3] == "all":
            return 200, self.section_all(int(segs[2]), query)
        if segs[:2] == ["library", "metadata"] and len(segs) >= 3 and segs[2].isdigit():
            item = self.items.get(int(segs[2]))
            if item is None:
                return 404, "<html><body><h1>404 Not Found</h1></body></html>"
            if len(segs) == 4 and segs[3] == "allLeaves":
                leaves = [i for i in self.items.values() if i.get("show") == item["ratingKey"]]
                return 200, container("".join(item_xml(i, full=False) for i in leaves))
            return 200, container(item_xml(item, full=True), section=item["section"])
        return 404, "<html><body><h1>404 Not Found</h1></body></html>"

    def section_all(self, key: int, query: dict) -> str:
        kind = {"1": "movie", "2": "show", "4": "episode"}.get(query.get("type", ""), None)
        found = [i for i in self.items.values() if i["section"] == key and (kind is None or i["type"] == kind)]
        if "year" in query:
            found = [i for i in found if str(i.get("year")) == query["year"]]
        with_guids = query.get("includeGuids") == "1"
        return container("".join(item_xml(i, full=False, guids=with_guids) for i in found), section=key)

    @staticmethod
    def section_xml(s: dict) -> str:
        locations = "".join(f'<Location id="{n}" path={quoteattr(p)}/>' for n, p in enumerate(s["locations"], 1))
        agent = "tv.plex.agents.movie" if s["type"] == "movie" else "tv.plex.agents.series"
        return (f'<Directory key="{s["key"]}" type="{s["type"]}" title={quoteattr(s["title"])} agent="{agent}" '
                f'scanner="Plex Movie" language="en-US" uuid="sec-{s["key"]}">{locations}</Directory>')

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                status, body = fake.answer(self.command, self.path, self.headers)
                out = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml;charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_PUT = do_POST = do_DELETE = _any

            def log_message(self, *args):
                pass

        return Handler


def container(children: str, section: int | None = None) -> str:
    extra = f' librarySectionID="{section}"' if section is not None else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="{children.count("ratingKey=")}"{extra}>{children}</MediaContainer>'


def item_xml(item: dict, full: bool, guids: bool = True) -> str:
    key = item["ratingKey"]
    attrs = (f'ratingKey="{key}" key="/library/metadata/{key}" type="{item["type"]}" '
             f'title={quoteattr(item["title"])} librarySectionID="{item["section"]}" guid="plex://{item["type"]}/{key:024x}"')
    if item.get("year"):
        attrs += f' year="{item["year"]}"'
    if item["type"] == "episode":
        attrs += (f' grandparentRatingKey="{item["show"]}" grandparentTitle={quoteattr(item["grandparentTitle"])}'
                  f' parentIndex="{item["parentIndex"]}" index="{item["index"]}"')
    children = "".join(f'<Guid id="{k}://{v}"/>' for k, v in item["ids"].items()) if guids or full else ""
    if item["type"] == "show":
        return f'<Directory {attrs}>{children}</Directory>'
    streams = '<Stream id="1" streamType="1" codec="h264" index="0"/>' if full else ""
    if full:
        streams += "".join(f'<Stream id="{n + 2}" streamType="2" codec="aac" index="{n + 1}" languageCode="{lang}"/>'
                           for n, lang in enumerate(item["languages"]))
    part = f'<Part id="{key}1" key="/library/parts/{key}1/file.mkv" file={quoteattr(item["file"])} container="mkv">{streams}</Part>'
    return f'<Video {attrs}><Media id="{key}0" container="mkv">{part}</Media>{children}</Video>'
