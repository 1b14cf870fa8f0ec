"""What every Gather handler shares: storage calls off the IOLoop, errors as messages a person
understands (an HTML page, or JSON for the API), form input, and the signed-in admin."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import tornado.web
from tornado.ioloop import IOLoop

from node.context import NodeContext
from signups import wording
from storage.admin_sessions import SESSION_S
from storage.errors import (
    CassandraUnavailable,
    ClosedError,
    Conflict,
    FullError,
    NotConnected,
    NotFound,
    StorageError,
    Throttled,
    ValidationError,
)
from storage.flow import Flow
from storage.store import Store
from web.proxies import Origin, TrustedProxies, client_network

T = TypeVar("T")

MAX_UPLOAD = 8 * 1024 * 1024
"""Largest asset upload, in bytes."""
MAX_FORM = 64 * 1024
"""Largest body of any other request."""
MAX_REQUEST_BODY = MAX_UPLOAD + 64 * 1024
"""What the server reads at all; a larger request is refused before its body is read."""
SESSION_COOKIE = "gather_admin"
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def content_security_policy(*style_sources: str) -> str:
    """The policy of every page: nothing but this site's stylesheet, images and forms (the
    site has no JavaScript), never inside a frame; ``style_sources`` (hashes) add styles."""
    styles = " ".join(("'self'", *style_sources))
    return (
        f"default-src 'none'; style-src {styles}; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


SECURITY_HEADERS = {
    "Content-Security-Policy": content_security_policy(),
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP 2
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Sent with every answer, the early refusals of :mod:`web.bodylimit` too."""


def size_text(size: int) -> str:
    """A byte count for people: ``64 KiB``, ``8.06 MiB``."""
    for unit, factor in (("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


_STATUS_MESSAGES = {
    400: "The request could not be read.",
    403: "You may not do that.",
    404: "There is no such page.",
    405: "That is not something this page does.",
    413: "What was sent is too large.",
}


class Refusal(tornado.web.HTTPError):
    """A request refused with ``message``, shown to the person as it is."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, None)
        self.message = message


def xsrf_refusal() -> Refusal:
    """The answer to a form without the right XSRF token."""
    return Refusal(
        403, "This form was not sent from this site or has expired; reload the page and try again."
    )


class BaseHandler(tornado.web.RequestHandler):
    """A page of the site: renders templates, answers errors with an HTML page."""

    max_body = MAX_FORM

    @property
    def context(self) -> NodeContext:
        return self.application.settings["context"]

    @functools.cached_property
    def origin(self) -> Origin:
        """The client's address and scheme, through trusted proxies (:mod:`web.proxies`)."""
        proxies: TrustedProxies = self.application.settings["proxies"]
        return proxies.origin(self.request)

    @functools.cached_property
    def client_network(self) -> str:
        """What this client's failed guesses are counted against
        (:func:`web.proxies.client_network`)."""
        return client_network(self.origin.address)

    def prepare(self) -> Awaitable[None] | None:
        if len(self.request.body) > self.max_body:
            raise Refusal(413, f"What was sent is too large (at most {size_text(self.max_body)}).")
        return None

    async def storage(self, work: Callable[[Store], T]) -> T:
        """``work(store)`` on the storage thread pool, storage errors turned into refusals."""
        try:
            return await self.blocking(work, self.context.require_store())
        except StorageError as exc:
            raise refusal(exc) from exc

    async def flow(self, make: Callable[[Store], Flow[T]]) -> T:
        """The :mod:`storage.flow` ``make(store)`` run on this IOLoop (no thread per request),
        storage errors turned into refusals. For the hot paths: sign-ups."""
        try:
            store = self.context.require_store()
            return await store.db.run_async(make(store))
        except StorageError as exc:
            raise refusal(exc) from exc

    async def blocking(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` on the storage thread pool (for anything else that blocks)."""
        executor: ThreadPoolExecutor = self.application.settings["executor"]
        return await IOLoop.current().run_in_executor(executor, work, *args)

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise Refusal(400, f"The field {name or ''} is not valid UTF-8 text.") from None

    @property
    def xsrf_token(self) -> bytes:
        """The token every form carries. For a browser with a session it is bound to that
        session (an HMAC of its id), so a token got anonymously is no good with an admin's
        cookie; otherwise it is Tornado's, bound to the ``_xsrf`` cookie."""
        session_id = self.session_id()
        if session_id is None:
            return super().xsrf_token
        secret = str(self.application.settings["cookie_secret"]).encode()
        return hmac.new(secret, b"xsrf:" + session_id.encode(), hashlib.sha256).hexdigest().encode()

    def check_xsrf_cookie(self) -> None:
        if self.session_id() is None:
            try:
                super().check_xsrf_cookie()
            except tornado.web.HTTPError:
                raise xsrf_refusal() from None
            return
        sent = (
            self.get_argument("_xsrf", None)
            or self.request.headers.get("X-Xsrftoken")
            or self.request.headers.get("X-Csrftoken")
            or ""
        )
        if not hmac.compare_digest(sent.encode(), self.xsrf_token):
            raise xsrf_refusal()

    def text(self, name: str, default: str = "") -> str:
        """A form field as text (empty when absent)."""
        return self.get_body_argument(name, default) or ""

    def number(self, name: str, label: str, default: int | None = None) -> int:
        """A form field as a whole number written with the digits 0-9 (not ``1_0``, nor
        Arabic-Indic or full-width digits, which Python's ``int`` would take)."""
        raw = self.text(name).strip()
        if not raw and default is not None:
            return default
        if not _WHOLE_NUMBER.fullmatch(raw):
            raise Refusal(400, f"{label} must be a whole number.")
        return int(raw)

    def session_id(self) -> str | None:
        """The admin session id in the signed session cookie, if there is one."""
        raw = self.get_signed_cookie(SESSION_COOKIE, max_age_days=SESSION_S / 86400)
        return None if raw is None else raw.decode("utf-8", "replace")

    async def resolve_current_user(self) -> str | None:
        """Set ``current_user`` to the admin the session cookie signs in (looked up in
        Cassandra: a session ends at logout on every node), or None; return it."""
        session_id = self.session_id()
        user = None
        if session_id is not None:
            user = await self.storage(lambda s: s.admin_sessions.user(session_id))
        self.current_user = user
        return user

    async def end_session(self) -> None:
        """End the session this browser's cookie names, if any, on every node."""
        session_id = self.session_id()
        if session_id is not None:
            await self.storage(lambda s: s.admin_sessions.end(session_id))

    async def start_session(self, user: str) -> None:
        """Sign ``user`` in: a new session in Cassandra, its id in a signed, HTTP-only cookie."""
        session_id = await self.storage(lambda s: s.admin_sessions.start(user))
        self.set_signed_cookie(
            SESSION_COOKIE,
            session_id,
            expires_days=None,
            httponly=True,
            samesite="Strict",
            secure=self.origin.scheme == "https",
        )

    def set_default_headers(self) -> None:
        """Every answer: :data:`SECURITY_HEADERS`, no ``Server`` (which would name Tornado's
        version), and ``Cache-Control: no-store``, since pages, CSV and JSON may carry names
        and contacts; only assets and static files say they may be cached."""
        self.clear_header("Server")
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-store")

    def get_template_namespace(self) -> dict[str, Any]:
        """What every template sees besides Tornado's own: ``site``, the site's settings
        (its name, public URL, time zone, contact) from cluster.yaml; ``seats(n)``, a count of
        seats in words (:func:`signups.wording.seats`); ``event_cancelled``, what a cancelled
        event says (:data:`signups.wording.EVENT_CANCELLED`)."""
        return {
            **super().get_template_namespace(),
            "site": self.context.config.site,
            "seats": wording.seats,
            "event_cancelled": wording.EVENT_CANCELLED,
        }

    def render_embed_css(self, css_embed: Iterable[bytes]) -> bytes:
        """The page's one ``<style>`` element, of its UI modules' CSS (such as
        :class:`web.assets.Background`), allowed by its hash in this answer's policy: the
        policy never has ``'unsafe-inline'``."""
        css = b"\n".join(css_embed)
        digest = base64.b64encode(hashlib.sha256(css).digest()).decode()
        self.set_header("Content-Security-Policy", content_security_policy(f"'sha256-{digest}'"))
        return b"<style>" + css + b"</style>"

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.render("error.html", status=status_code, message=error_message(status_code, kwargs))


def error_message(status_code: int, kwargs: dict[str, Any]) -> str:
    """What to tell the person about an error response."""
    error = kwargs.get("exc_info", (None, None))[1]
    if isinstance(error, Refusal):
        return error.message
    if status_code >= 500:
        return "Something went wrong on our side; please try again."
    return _STATUS_MESSAGES.get(status_code, "The request was refused.")


def refusal(error: StorageError) -> Refusal:
    """The refusal a storage error means for the person who asked: its HTTP status, and the
    sentence every frontend shows for it (:func:`signups.wording.explain`)."""
    return Refusal(_status(error), wording.explain(error))


def _status(error: StorageError) -> int:
    if isinstance(error, ValidationError):
        return 400
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, FullError | ClosedError | Conflict):
        return 409
    if isinstance(error, Throttled):
        return 429
    if isinstance(error, NotConnected | CassandraUnavailable):
        return 503
    return 500


class AdminHandler(BaseHandler):
    """A page of the management UI: only for a signed-in admin."""

    async def prepare(self) -> None:
        super().prepare()
        if await self.resolve_current_user() is None:
            if self.request.method in ("GET", "HEAD"):
                self.redirect(
                    self.get_login_url()
                    + "?next="
                    + tornado.escape.url_escape(self.request.uri or "/admin")
                )
                return
            raise Refusal(403, "Your session has ended; sign in again.")
