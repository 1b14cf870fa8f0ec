"""``GET /assets/{id}``: assets streamed from Cassandra chunk by chunk, with HTTP caching.

Strong ETags (the version's SHA-256), Last-Modified, conditional GET (If-None-Match, then
If-Modified-Since) and single byte ranges (``Range: bytes=a-b``, honoured under If-Range only
when it names the current version). ``?v=N`` asks for one version, cacheable for ever.

An asset is never a page of this site: every answer forbids scripts and sniffing, and any file
that is not one of the recognised image formats (an HTML or SVG file uploaded as "any file",
say) is sent as a download.

Also here: the site's own files under ``/static/`` (:class:`StaticHandler`), and the
``Background`` UI module that shows an asset as an element's background image.
"""

from __future__ import annotations

import email.utils
import re
import urllib.parse
from collections.abc import Iterator
from datetime import UTC
from uuid import UUID

import tornado.web

from storage import times
from storage.assets import AssetInfo
from web.base import BaseHandler, Refusal
from web.images import IMAGE_TYPES

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
LATEST_MAX_AGE_S = 60
VERSION_MAX_AGE_S = 365 * 24 * 3600


def etag(info: AssetInfo) -> str:
    """The version's strong entity tag."""
    return f'"{info.sha256}"'


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (end exclusive) of a single-range ``Range`` header; None when the
    header is not one range this server serves (the whole file is sent); ``(size, size)``
    when it cannot be satisfied."""
    match = _RANGE.match(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        length = int(last)
        return (size, size) if length == 0 else (max(0, size - length), size)
    start = int(first)
    end = size if last == "" else min(size, int(last) + 1)
    if start >= size or end <= start:
        return (size, size)
    return start, end


def download_disposition(name: str) -> str:
    """A ``Content-Disposition`` that saves the file as ``name`` (RFC 6266, any characters)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(name)}"


class AssetHandler(BaseHandler):
    """Serves one asset's latest (or given) version."""

    def compute_etag(self) -> None:
        return None

    async def head(self, raw_id: str) -> None:
        await self.get(raw_id)

    async def get(self, raw_id: str) -> None:
        try:
            asset_id = UUID(raw_id)
            version = (
                int(self.get_query_argument("v")) if self.get_query_argument("v", "") else None
            )
        except ValueError:
            raise Refusal(404, "There is no such file.") from None
        info = await self.storage(lambda s: s.assets.info(asset_id, version))
        self.set_header("Content-Type", info.content_type)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
        if info.content_type not in IMAGE_TYPES:
            self.set_header("Content-Disposition", download_disposition(info.name))
        self.set_header("ETag", etag(info))
        self.set_header("Last-Modified", email.utils.format_datetime(info.created_at, usegmt=True))
        self.set_header("Accept-Ranges", "bytes")
        max_age = VERSION_MAX_AGE_S if version is not None else LATEST_MAX_AGE_S
        self.set_header("Cache-Control", f"public, max-age={max_age}")
        if self._not_modified(info):
            self.set_status(304)
            self.clear_header("Content-Type")
            self.finish()
            return
        start, end = 0, info.size
        requested = self._range(info)
        if requested is not None:
            start, end = requested
            if start == end:
                self.set_status(416)
                self.set_header("Content-Range", f"bytes */{info.size}")
                self.clear_header("Content-Type")
                self.finish()
                return
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {start}-{end - 1}/{info.size}")
        self.set_header("Content-Length", str(end - start))
        if self.request.method == "HEAD":
            self.finish()
            return
        chunks: Iterator[bytes] = await self.storage(lambda s: s.assets.read(info, start, end))
        while chunk := await self.blocking(next, chunks, b""):
            self.write(chunk)
            await self.flush()
        self.finish()

    def _not_modified(self, info: AssetInfo) -> bool:
        match = self.request.headers.get("If-None-Match")
        if match is not None:
            tags = [tag.strip().removeprefix("W/") for tag in match.split(",")]
            return "*" in tags or etag(info) in tags
        since = self.request.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            stamp = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        if stamp.tzinfo is None:  # asctime dates and "-0000": HTTP dates are all GMT
            stamp = stamp.replace(tzinfo=UTC)
        if stamp > times.now():  # a date from the future is invalid (RFC 9110 13.1.3)
            return False
        return int(info.created_at.timestamp()) <= stamp.timestamp()

    def _range(self, info: AssetInfo) -> tuple[int, int] | None:
        header = self.request.headers.get("Range")
        if header is None:
            return None
        condition = self.request.headers.get("If-Range")
        if condition is not None and condition.strip() != etag(info):
            return None
        return byte_range(header, info.size)


class StaticHandler(BaseHandler, tornado.web.StaticFileHandler):
    """``/static/...``: the site's stylesheet, with the headers (and error pages) of every
    answer; a path no file can have (a NUL in it) is not found."""

    def parse_url_path(self, url_path: str) -> str:
        if "\x00" in url_path:
            raise Refusal(404, "There is no such file.")
        return super().parse_url_path(url_path)


class Background(tornado.web.UIModule):
    """``class="... {% module Background(asset_id) %}"``: the class that shows the asset as
    the element's background image (nothing for None). The rules go to the page's one
    ``<style>``, which its Content-Security-Policy allows by its hash (``web.base``): the
    policy forbids ``style=`` attributes."""

    def __init__(self, handler: tornado.web.RequestHandler) -> None:
        super().__init__(handler)
        self.rules: dict[str, str] = {}

    def render(self, asset_id: UUID | None) -> str:
        if asset_id is None:
            return ""
        asset = UUID(str(asset_id))  # only ever a UUID in the style sheet
        name = f"bg-{asset}"
        self.rules[name] = f'.{name} {{ background-image: url("/assets/{asset}"); }}'
        return name

    def embedded_css(self) -> str | None:
        return "\n".join(self.rules.values()) or None
