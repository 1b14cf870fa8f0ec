"""The Tornado application: every route of the site, the management UI and the API.

``make_app(context)`` serves the node described by ``context``: storage, link and tree come
from it as their actors bring them up. Cookies are signed with a key derived from the cluster
cookie, so a session is valid on every web node of the cluster.
"""

from __future__ import annotations

import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tornado.web

from node.context import NodeContext
from web import admin, api, public
from web.admin.cluster import ClusterScreenAdmin
from web.assets import AssetHandler, Background, StaticHandler
from web.auth import LoginHandler, LogoutHandler
from web.base import BaseHandler, Refusal
from web.bodylimit import BodyLimitedApplication
from web.proxies import TrustedProxies
from web.turnstile import Turnstile

HERE = Path(__file__).resolve().parent
STORAGE_THREADS = 32
"""Storage calls in flight at once per web server (each blocks a thread of the pool)."""
_UUID = r"([0-9a-fA-F-]{36})"
_REF = r"([A-Za-z0-9 -]{1,20})"
_NAME = r"([a-z][a-z0-9_-]{0,47})"
"""A node's or kiosk's name, as cluster.yaml and the kiosks' settings allow it."""
_REPORT = r"([a-z][a-z0-9_-]{0,63})"
"""A report's name (``reports.catalog``)."""


def cookie_secret(cookie: bytes) -> str:
    """The key that signs session cookies, derived from the cluster cookie."""
    return hmac.new(cookie, b"gather web session cookies", hashlib.sha256).hexdigest()


class Redirect(BaseHandler, tornado.web.RedirectHandler):
    """A redirect, with the headers of every answer."""


class ApiNotFound(api.ApiHandler):
    """Any other address under ``/api/``: a 404 in JSON, as every API error."""

    def prepare(self) -> None:
        raise Refusal(404, "There is no such API endpoint.")


def make_app(
    context: NodeContext, storage_threads: int = STORAGE_THREADS
) -> tornado.web.Application:
    """The application serving ``context``'s node."""
    # Tornado tries the rules in order (after its static files'): the sign-ups, the hot path,
    # come first; the API's catch-all only takes what the API's own rules left under /api/.
    routes: list[tuple[Any, ...]] = [
        (r"/api/v1/signups", api.SignupsApi),
        (r"/api/v1/openapi\.json", api.OpenApiHandler),
        (r"/api/v1/events", api.EventsApi),
        (rf"/api/v1/events/{_UUID}", api.EventApi),
        (rf"/api/v1/events/{_UUID}/registrations", api.EventRegistrationsApi),
        (r"/api/v1/cancellations", api.CancellationsApi),
        (rf"/api/v1/registrations/{_REF}", api.RegistrationApi),
        (r"/api/.*", ApiNotFound),
        (rf"/events/{_UUID}/signup", public.SignupHandler),
        (rf"/events/{_UUID}/resend", public.ResendHandler),
        (r"/", public.HomeHandler),
        (rf"/events/{_UUID}", public.EventHandler),
        (rf"/registrations/{_REF}", public.RegistrationHandler),
        (r"/cancel", public.CancelHandler),
        (rf"/assets/{_UUID}", AssetHandler),
        (r"/admin/login", LoginHandler),
        (r"/admin/logout", LogoutHandler),
        (r"/admin/?", Redirect, {"url": "/admin/events"}),
        (r"/admin/events", admin.EventsAdmin),
        (rf"/admin/events/{_UUID}", admin.EventAdmin),
        (rf"/admin/events/{_UUID}/open", admin.EventOpenAdmin),
        (rf"/admin/events/{_UUID}/cancel", admin.EventCancelAdmin),
        (rf"/admin/events/{_UUID}/delete", admin.EventDeleteAdmin),
        (rf"/admin/events/{_UUID}/options", admin.OptionsAdmin),
        (rf"/admin/events/{_UUID}/options/{_UUID}", admin.OptionsAdmin),
        (rf"/admin/events/{_UUID}/registrations", admin.RegistrationsAdmin),
        (rf"/admin/events/{_UUID}/registrations\.csv", admin.RegistrationsCsv),
        (rf"/admin/registrations/{_REF}/(cancel|promote)", admin.RegistrationActionAdmin),
        (r"/admin/assets", admin.AssetsAdmin),
        (rf"/admin/assets/{_UUID}", admin.AssetAdmin),
        (rf"/admin/assets/{_UUID}/(delete)", admin.AssetAdmin),
        (r"/admin/kiosks", admin.KiosksAdmin),
        (rf"/admin/kiosks/{_NAME}/delete", admin.KioskDeleteAdmin),
        (r"/admin/cluster", admin.ClusterAdmin),
        (rf"/admin/cluster/screens/{_NAME}", ClusterScreenAdmin),
        (r"/admin/sms", admin.SmsLogAdmin),
        (r"/admin/sms/numbers/([^/]{1,64})", admin.SmsNumberAdmin),
        (r"/admin/sms/attention", admin.SmsAttentionAdmin),
        (rf"/admin/sms/messages/{_UUID}/handled", admin.SmsHandledAdmin),
        (r"/admin/sms/optouts", admin.SmsOptOutsAdmin),
        (r"/admin/sms/notices", admin.NoticesAdmin),
        (r"/admin/mail", admin.MailPageAdmin),
        (r"/admin/mail/send", admin.MailSendAdmin),
        (r"/admin/mail/preview", admin.MailPreviewAdmin),
        (r"/admin/mail/preview\.html", admin.MailPreviewHtmlAdmin),
        (r"/admin/reports", admin.ReportListAdmin),
        (rf"/admin/reports/{_REPORT}/run", admin.ReportStartAdmin),
        (rf"/admin/reports/{_REPORT}/{_UUID}", admin.ReportRunAdmin),
        (rf"/admin/reports/{_REPORT}/{_UUID}/csv", admin.ReportCsvAdmin),
    ]
    return BodyLimitedApplication(
        routes,
        context=context,
        proxies=TrustedProxies(context.node.trusted_proxies),
        executor=ThreadPoolExecutor(storage_threads, thread_name_prefix="web-storage"),
        login_turnstile=Turnstile(),
        screens={},  # the kiosk pictures the cluster page last showed, by node (IOLoop only)
        template_path=str(HERE / "templates"),
        static_path=str(HERE / "static"),
        static_handler_class=StaticHandler,
        ui_modules={"Background": Background},
        cookie_secret=cookie_secret(context.cookie),
        login_url="/admin/login",
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"httponly": True, "samesite": "Strict"},
        default_handler_class=public.NotFoundHandler,
    )
