"""The website's handlers with Tornado's test tools, against the real Cassandra cluster."""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import ipaddress
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import tornado.web
from tornado.httpclient import HTTPResponse
from tornado.testing import AsyncHTTPTestCase

from node.link import LinkSettings, NodeLink
from node.notices import KIOSK_CACHE, AssetChanged, KioskChanged
from storage.errors import NotFound
from storage.registrations import new_code
from storage.store import Store
from tests.helpers import PNG, Inbox, free_port, make_event, wait_until
from web.app import make_app
from web.base import SESSION_COOKIE
from web.images import image_type


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data request."""
    boundary = secrets.token_hex(8)
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    return f"multipart/form-data; boundary={boundary}", b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode()


def registration_ref(signed_up: HTTPResponse) -> str:
    """The reference code in the confirmation link a sign-up was sent to."""
    return urlsplit(signed_up.headers["Location"]).path.rsplit("/", 1)[1]


def client_address() -> str:
    """An address in a /64 no other test (or earlier run) signs in from: failed logins are
    counted per IPv6 /64 in Cassandra for 5 minutes."""
    return "2001:db8:" + ":".join(secrets.token_hex(2) for _ in range(2)) + "::1"


def unique_contact(name: str) -> str:
    """An e-mail address no other test (or earlier run) uses: wrong cancellation guesses are
    counted per contact in Cassandra for 5 minutes."""
    return f"{name}.{secrets.token_hex(4)}@example.org"


class WebCase(AsyncHTTPTestCase):
    """A web app on the test keyspace, a cookie jar with the XSRF token, and a client address
    of the test's own (forwarded as by a reverse proxy: the test node trusts loopback ones)."""

    context: Any

    @pytest.fixture(autouse=True)
    def _parts(self, web_context: Any, store: Store, admin_login: tuple[str, str]) -> None:
        self.context = web_context
        self.store = store
        self.admin = admin_login

    def get_app(self) -> tornado.web.Application:
        self.app = make_app(self.context, storage_threads=4)
        self.cookies: dict[str, str] = {}
        self.address = client_address()
        return self.app

    def tearDown(self) -> None:
        super().tearDown()
        self.app.settings["executor"].shutdown(wait=False)

    def request(self, path: str, method: str = "GET", **kwargs: Any) -> HTTPResponse:
        headers = {"X-Forwarded-For": self.address, **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.fetch(
            path, method=method, headers=headers, follow_redirects=False, **kwargs
        )
        for header in response.headers.get_list("Set-Cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";")[0]
            if value in ("", '""'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def post(self, path: str, fields: dict[str, str], xsrf: bool = True) -> HTTPResponse:
        if xsrf:
            fields = {**fields, "_xsrf": self.xsrf()}
        return self.request(path, "POST", body=urlencode(fields))

    def xsrf(self) -> str:
        """The XSRF token a form of this browser carries now (bound to its session, once
        signed in), read off a page as a browser does."""
        found = re.search(rb'name="_xsrf" value="([^"]+)"', self.request("/admin/login").body)
        assert found, "no XSRF token on the login page"
        return found.group(1).decode()

    def upload(
        self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]]
    ) -> HTTPResponse:
        content_type, body = multipart({**fields, "_xsrf": self.xsrf()}, files)
        return self.request(path, "POST", body=body, headers={"Content-Type": content_type})

    def login(self) -> None:
        response = self.post("/admin/login", {"username": self.admin[0], "password": self.admin[1]})
        assert response.code == 303, response.body
        assert SESSION_COOKIE in self.cookies


class TestPublicSite(WebCase):
    def test_sign_up_confirmation_waitlist_and_cancel(self) -> None:
        event, option = make_event(self.store, "W" + secrets.token_hex(4).upper(), capacity=1)
        page = self.request(f"/events/{event.event_id}")
        assert (
            page.code == 200 and b"1 seat left" in page.body and b'<label for="name">' in page.body
        )
        fields = {
            "option": str(option.option_id),
            "name": "<b>Ann</b>",
            "contact": "ann@example.org",
        }
        first = self.post(f"/events/{event.event_id}/signup", {**fields, "party_size": "1"})
        assert first.code == 303
        ref = registration_ref(first)
        confirmation = self.request(first.headers["Location"])
        assert ref.encode() in confirmation.body and b"You are signed up" in confirmation.body
        second = self.post(
            f"/events/{event.event_id}/signup",
            {**fields, "name": "Bob", "contact": "bob@example.org", "party_size": "1"},
        )
        waiting = self.request(second.headers["Location"])
        assert b"You are on the waitlist" in waiting.body
        assert b"full: join the waitlist" in self.request(f"/events/{event.event_id}").body
        wrong = self.post("/cancel", {"ref": ref, "contact": unique_contact("someone")})
        assert wrong.code == 404 and b"no registration" in wrong.body
        assert self.post("/cancel", {"ref": ref, "contact": "ANN@example.org"}).code == 200
        assert self.store.registrations.get(ref).status == "cancelled"
        assert self.store.registrations.registrations(option.option_id)[0].name == "<b>Ann</b>"

    def test_a_member_sees_their_confirmation_while_their_network_is_throttled(self) -> None:
        event, option = make_event(self.store, "P" + secrets.token_hex(4).upper())
        fields = {"option": str(option.option_id), "name": "Pat", "contact": unique_contact("pat")}
        signed_up = self.post(f"/events/{event.event_id}/signup", fields)
        ref = registration_ref(signed_up)
        prefix = ref.split("-")[0]
        for _ in range(5):  # someone else on the same network guesses codes
            guess = self.request(f"/registrations/{prefix}-{new_code()}")
            assert guess.code == 404
        assert self.request(f"/registrations/{ref}").code == 429  # a bare code may be a guess
        handed_out = self.request(signed_up.headers["Location"])  # the link with its proof
        assert handed_out.code == 200 and ref.encode() in handed_out.body
        forged = self.request(f"/registrations/{ref}?proof={'0' * 32}")
        assert forged.code == 429

    def test_guessing_codes_to_cancel_is_throttled_per_client(self) -> None:
        _event, option = make_event(self.store, "G" + secrets.token_hex(4).upper())
        gil = unique_contact("gil")
        ref = self.store.registrations.sign_up(option.option_id, "Gil", gil).registration.ref
        prefix = ref.split("-")[0]
        for number in range(2, 7):  # the numbers next to one's own, with a contact one knows
            guess = self.post("/cancel", {"ref": f"{prefix}-{number}", "contact": gil})
            assert guess.code == 404
        refused = self.post("/cancel", {"ref": ref, "contact": gil})
        assert refused.code == 429 and b"Too many failed attempts" in refused.body
        assert self.store.registrations.get(ref).status == "confirmed"

    def test_a_malformed_code_is_a_typo_not_a_guess(self) -> None:
        _event, option = make_event(self.store, "H" + secrets.token_hex(4).upper())
        hal = unique_contact("hal")
        ref = self.store.registrations.sign_up(option.option_id, "Hal", hal).registration.ref
        for typo in ("ABC0-1", "", "ABCD", "ABCD-x"):  # 0 is not in the code alphabet
            for _ in range(2):
                assert self.post("/cancel", {"ref": typo, "contact": hal}).code == 404
        assert self.post("/cancel", {"ref": ref, "contact": hal}).code == 200

    def test_a_repeated_form_gets_its_code_but_another_with_the_same_contact_does_not(
        self,
    ) -> None:
        event, option = make_event(self.store, "R" + secrets.token_hex(4).upper())
        signup = f"/events/{event.event_id}/signup"
        fields = {"option": str(option.option_id), "name": "Cy", "contact": "cy@example.org"}
        first = self.post(signup, {**fields, "key": "form-1"})
        again = self.post(signup, {**fields, "key": "form-1"})  # the same form sent twice
        assert first.code == again.code == 303
        assert first.headers["Location"] == again.headers["Location"]
        ref = registration_ref(first)
        other = self.post(signup, {**fields, "name": "Not Cy", "key": "form-2"})
        assert other.code == 409 and b"already signed up for this option" in other.body
        assert ref.encode() not in other.body
        assert b'value="form-2"' not in other.body  # a fresh key for the next attempt
        assert len(self.store.registrations.registrations(option.option_id)) == 1

    def test_an_option_of_another_event_is_refused_before_anything_is_written(self) -> None:
        event, _option = make_event(self.store, "E" + secrets.token_hex(4).upper())
        _other, elsewhere = make_event(self.store, "X" + secrets.token_hex(4).upper())
        fields = {"option": str(elsewhere.option_id), "name": "Di", "contact": "di@example.org"}
        response = self.post(f"/events/{event.event_id}/signup", fields)
        assert response.code == 400 and b"belongs to another event" in response.body
        assert self.store.registrations.registrations(elsewhere.option_id) == []

    def test_full_option_without_waitlist_is_refused_with_the_form_again(self) -> None:
        event, option = make_event(self.store, "F" + secrets.token_hex(4).upper(), 1, False)
        self.store.registrations.sign_up(option.option_id, "First", "first@example.org")
        response = self.post(
            f"/events/{event.event_id}/signup",
            {"option": str(option.option_id), "name": "Late", "contact": "late@example.org"},
        )
        assert response.code == 409 and b"That option is full" in response.body
        assert b'value="Late"' in response.body

    def test_bad_input_is_refused_and_nothing_is_written(self) -> None:
        event, option = make_event(self.store, "B" + secrets.token_hex(4).upper())
        signup = f"/events/{event.event_id}/signup"
        fields = {"option": str(option.option_id), "name": "X", "contact": "x@example.org"}
        no_token = self.post(signup, fields, xsrf=False)
        assert no_token.code == 403 and b"reload the page" in no_token.body
        token = self.xsrf()
        bad_utf8 = b"_xsrf=" + token.encode() + b"&option=" + str(option.option_id).encode()
        bad_utf8 += b"&name=%FF%FE&contact=x%40example.org"
        response = self.request(signup, "POST", body=bad_utf8)
        assert response.code == 400 and b"not valid UTF-8" in response.body
        huge = self.request(
            signup, "POST", body=urlencode({**fields, "_xsrf": token, "name": "a" * 70000})
        )
        assert huge.code == 413 and b"too large" in huge.body
        bad_contact = self.post(signup, {**fields, "contact": "not a phone"})
        assert bad_contact.code == 400 and b"Contact" in bad_contact.body
        assert self.store.registrations.registrations(option.option_id) == []
        assert self.request("/events/not-an-id").code == 404

    def test_a_party_size_is_written_with_the_digits_0_to_9(self) -> None:
        event, option = make_event(self.store, "D" + secrets.token_hex(4).upper())
        for written in ("1_0", "\u0663", "\uff15", "2.0", "-1"):
            fields = {
                "option": str(option.option_id),
                "name": "Num",
                "contact": f"num{secrets.token_hex(4)}@example.org",
                "party_size": written,
            }
            refused = self.post(f"/events/{event.event_id}/signup", fields)
            assert refused.code == 400 and b"Party size must be a whole number" in refused.body
        assert self.store.registrations.registrations(option.option_id) == []

    def test_pages_name_the_site_and_error_pages_its_contact(self) -> None:
        site = self.context.config.site
        home = self.request("/")
        assert f"<title>{site.name}</title>".encode() in home.body
        missing = self.request("/no/such/page")
        assert missing.code == 404 and site.contact.encode() in missing.body

    def test_markup_is_escaped_on_every_page(self) -> None:
        event, _option = make_event(self.store, "M" + secrets.token_hex(4).upper())
        self.store.events.update(event.event_id, description="<script>alert(1)</script>")
        body = self.request(f"/events/{event.event_id}").body
        assert b"<script>alert(1)</script>" not in body and b"&lt;script&gt;" in body

    def test_a_body_over_its_page_limit_gets_a_readable_413_without_being_read(self) -> None:
        page = self._declare("/cancel", "Content-Length: 999999999")
        assert page.startswith(b"HTTP/1.1 413") and b"too large (at most 64 KiB)" in page
        form = self._declare("/cancel?ref=X", f"Content-Length: {64 * 1024 + 1}")
        assert form.startswith(b"HTTP/1.1 413") and b"too large (at most 64 KiB)" in form
        for absurd in ("9" * 5000, "\u00b2"):  # too long for int(); a digit to str.isdigit
            assert self._declare("/cancel", f"Content-Length: {absurd}").startswith(b"HTTP/1.1 4")
        upload = self._declare("/admin/assets", "Content-Length: 999999999")
        assert upload.startswith(b"HTTP/1.1 413") and b"too large (at most 8.06 MiB)" in upload
        api = self._declare("/api/v1/signups", "Content-Length: 999999999")
        body = json.loads(api.partition(b"\r\n\r\n")[2])
        assert body["error"]["status"] == 413

    def test_a_chunked_body_gets_a_readable_411_without_being_read(self) -> None:
        page = self._declare("/cancel", "Transfer-Encoding: chunked")
        assert page.startswith(b"HTTP/1.1 411") and b"Content-Length" in page
        api = self._declare("/api/v1/signups", "Transfer-Encoding: chunked")
        body = json.loads(api.partition(b"\r\n\r\n")[2])
        assert body["error"] == {
            "status": 411,
            "message": "Send the body with its length (Content-Length).",
        }

    def _declare(self, path: str, header: str) -> bytes:
        """What the server answers to a POST's headers alone (the body never follows)."""

        async def declare() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.get_http_port())
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: gather\r\nContent-Type: application/json\r\n"
                f"{header}\r\n\r\n".encode()
            )
            answer = await reader.read()
            writer.close()
            return answer

        return self.io_loop.run_sync(declare, timeout=10)


class TestAssets(WebCase):
    def test_caching_conditional_get_and_ranges(self) -> None:
        data = bytes(range(256)) * 1500  # 384000 bytes: two chunks
        info = self.store.assets.put([data], "application/octet-stream", "blob.bin")
        path = f"/assets/{info.asset_id}"
        whole = self.request(path)
        assert whole.code == 200 and whole.body == data
        tag, modified = whole.headers["ETag"], whole.headers["Last-Modified"]
        assert self.request(path, headers={"If-None-Match": tag}).code == 304
        assert self.request(path, headers={"If-Modified-Since": modified}).code == 304
        part = self.request(path, headers={"Range": "bytes=262000-262199"})
        assert part.code == 206 and part.body == data[262000:262200]
        assert part.headers["Content-Range"] == f"bytes 262000-262199/{len(data)}"
        assert self.request(path, headers={"Range": "bytes=-10"}).body == data[-10:]
        stale = self.request(path, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
        assert stale.code == 200 and len(stale.body) == len(data)
        assert self.request(path, headers={"Range": "bytes=999999-"}).code == 416
        versioned = self.request(f"{path}?v={info.version}")
        assert "max-age=31536000" in versioned.headers["Cache-Control"]
        assert self.request(f"/assets/{uuid.uuid4()}").code == 404

    def test_if_modified_since_in_every_http_date_form_and_never_from_the_future(self) -> None:
        info = self.store.assets.put([b"x"], "text/plain", "x.txt")
        path = f"/assets/{info.asset_id}"
        asctime = info.created_at.strftime("%a %b %d %H:%M:%S %Y")  # no zone: read as GMT
        assert self.request(path, headers={"If-Modified-Since": asctime}).code == 304
        future = email.utils.format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
        assert self.request(path, headers={"If-Modified-Since": future}).code == 200

    def test_a_file_that_is_not_a_recognised_image_is_only_ever_a_download(self) -> None:
        page = b"<script>fetch('/admin/events')</script>"
        html = self.store.assets.put([page], "text/html", "menu été.html")
        served = self.request(f"/assets/{html.asset_id}")
        assert served.code == 200 and served.body == page
        assert served.headers["Content-Disposition"] == (
            "attachment; filename=\"menu__t_.html\"; filename*=UTF-8''menu%20%C3%A9t%C3%A9.html"
        )
        assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        icon = self.store.assets.put([PNG], "image/png", "icon.png")
        shown = self.request(f"/assets/{icon.asset_id}")
        assert "Content-Disposition" not in shown.headers
        assert shown.headers["X-Content-Type-Options"] == "nosniff"

    def test_image_sniffing(self) -> None:
        assert image_type(PNG) == "image/png"
        assert image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
        assert image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
        assert image_type(b"<svg xmlns=...") is None


class TestAdmin(WebCase):
    def test_pages_need_a_session_and_a_wrong_password_is_refused(self) -> None:
        assert self.request("/admin/events").headers["Location"].startswith("/admin/login")
        assert self.post("/admin/kiosks", {"kiosk_id": "k"}).code == 403
        wrong = self.post("/admin/login", {"username": self.admin[0], "password": "wrong"})
        assert wrong.code == 403 and b"Wrong username or password" in wrong.body
        self.login()
        assert self.request("/admin/events").code == 200
        assert self.post("/admin/logout", {}).code == 303
        assert self.request("/admin/events").code == 302

    def test_a_password_is_checked_exactly_as_set_and_next_stays_a_page_of_the_ui(self) -> None:
        name, password = "s" + secrets.token_hex(5), "  spaced out  "
        self.store.admins.create(name, password)
        trimmed = self.post("/admin/login", {"username": name, "password": password.strip()})
        assert trimmed.code == 403
        for target, lands in (
            ("/admin%0aSet-Cookie:x=1", "/admin/events"),
            ("https://elsewhere.example/admin", "/admin/events"),
            ("/admin/kiosks", "/admin/kiosks"),
        ):
            signed_in = self.post(
                f"/admin/login?next={target}", {"username": name, "password": password}
            )
            assert signed_in.code == 303 and signed_in.headers["Location"] == lands

    def test_failed_logins_refuse_the_network_but_never_lock_the_admin_out(self) -> None:
        victim = "v" + secrets.token_hex(5)
        self.store.admins.create(victim, "a right password")
        for _ in range(5):
            wrong = self.post("/admin/login", {"username": victim, "password": "guess"})
            assert wrong.code == 403 and b"Wrong username or password" in wrong.body
        blocked = self.post("/admin/login", {"username": victim, "password": "a right password"})
        assert (
            blocked.code == 429 and b"Too many failed attempts; try again in 5 min." in blocked.body
        )
        self.address = self.address.replace("::1", "::beef")  # the same /64: refused too
        assert self.post("/admin/login", {"username": victim, "password": "x"}).code == 429
        self.address = client_address()  # the admin, elsewhere: slowed down, never refused
        admin = self.post("/admin/login", {"username": victim, "password": "a right password"})
        assert admin.code == 303
        for _ in range(5):  # other (unknown) users from one address: the address is refused
            nobody = "nobody" + secrets.token_hex(5)
            assert self.post("/admin/login", {"username": nobody, "password": "guess"}).code == 403
        other = self.post("/admin/login", {"username": self.admin[0], "password": self.admin[1]})
        assert other.code == 429
        self.address = client_address()
        self.login()

    def test_an_anonymous_xsrf_token_is_refused_with_an_admins_session(self) -> None:
        anonymous = self.xsrf()  # with its _xsrf cookie, from a page seen signed out
        self.login()
        fields = {"_xsrf": anonymous, "label": "Stolen", "capacity": "1"}
        event, _ = make_event(self.store, "X" + secrets.token_hex(4).upper())
        path = f"/admin/events/{event.event_id}/options"
        forged = self.request(path, "POST", body=urlencode(fields))
        assert forged.code == 403 and b"reload the page" in forged.body
        assert [o.label for o in self.store.events.options(event.event_id)] == ["Main"]
        assert self.post(path, {"label": "Mine", "capacity": "1"}).code == 303

    def test_the_admins_own_network_goes_first_while_another_is_guessing(self) -> None:
        admin = "h" + secrets.token_hex(5)
        self.store.admins.create(admin, "the admin's password")
        home = client_address()
        self.address = home
        fields = {"username": admin, "password": "the admin's password"}
        assert self.post("/admin/login", fields).code == 303
        network = str(ipaddress.ip_network(f"{home}/64", strict=False))
        assert self.store.admin_sessions.knows_network(admin, network)
        self.cookies.clear()
        self.address = client_address()
        for _ in range(5):
            wrong = self.post("/admin/login", {"username": admin, "password": "guess"})
            assert wrong.code == 403
        self.address = home
        assert self.post("/admin/login", fields).code == 303

    def test_signing_in_again_ends_the_session_the_browser_had(self) -> None:
        self.login()
        before = self.cookies[SESSION_COOKIE]
        self.login()
        assert self.cookies[SESSION_COOKIE] != before
        self.cookies[SESSION_COOKIE] = before
        assert self.request("/admin/events").code == 302

    def test_the_session_cookie_is_secure_when_a_trusted_proxy_forwards_https(self) -> None:
        fields = {"username": self.admin[0], "password": self.admin[1]}
        for proto, secure in (("https", True), ("http", False)):
            fields["_xsrf"] = self.xsrf()  # once signed in, bound to the session
            response = self.request(
                "/admin/login",
                "POST",
                body=urlencode(fields),
                headers={"X-Forwarded-Proto": proto},
            )
            cookie = next(
                c for c in response.headers.get_list("Set-Cookie") if c.startswith(SESSION_COOKIE)
            )
            assert response.code == 303 and ("; Secure" in cookie) is secure, cookie

    def test_logging_out_ends_the_session_for_a_copied_cookie_too(self) -> None:
        self.login()
        copied = self.cookies[SESSION_COOKIE]
        assert self.request("/admin/events").code == 200
        assert self.post("/admin/logout", {}).code == 303
        assert SESSION_COOKIE not in self.cookies
        self.cookies[SESSION_COOKIE] = copied
        replayed = self.request("/admin/events")
        assert replayed.code == 302 and replayed.headers["Location"].startswith("/admin/login")
        assert self.post("/admin/kiosks", {"kiosk_id": "k"}).code == 403
        api = self.request(f"/api/v1/events/{uuid.uuid4()}/registrations")
        assert api.code == 401
        assert self.post("/admin/logout", {}).code == 303  # an ended session: just forgotten
        assert SESSION_COOKIE not in self.cookies

    def test_a_session_id_not_in_cassandra_signs_nobody_in(self) -> None:
        old_format = json.dumps({"user": self.admin[0], "at": time.time()})
        for value in (secrets.token_urlsafe(32), old_format):
            signed = tornado.web.create_signed_value(
                self.app.settings["cookie_secret"], SESSION_COOKIE, value
            )
            self.cookies[SESSION_COOKIE] = signed.decode()
            assert self.request("/admin/events").code == 302
            assert self.post("/admin/kiosks", {"kiosk_id": "k"}).code == 403

    def test_event_with_uploaded_image_option_registrations_and_csv(self) -> None:
        self.login()
        code = "A" + secrets.token_hex(4).upper()
        fields = {
            "title": "Garden <i>day</i>",
            "short_code": code,
            "time_zone": "Europe/Paris",
            "starts_at": "2031-05-01T10:00",
            "ends_at": "2031-05-01T12:00",
            "description": "Bring gloves",
        }
        fake = self.upload("/admin/events", fields, {"icon_file": ("icon.png", b"<html>no</html>")})
        assert fake.code == 415 and b"is not a PNG, JPEG, GIF or WebP image" in fake.body
        with pytest.raises(NotFound):
            self.store.events.by_code(code)
        created = self.upload("/admin/events", fields, {"icon_file": ("icon.png", PNG)})
        assert created.code == 303, created.body
        event = self.store.events.by_code(code)
        assert event.starts_at == datetime(2031, 5, 1, 8, 0, tzinfo=UTC)
        assert event.icon_asset is not None
        assert self.store.assets.info(event.icon_asset).content_type == "image/png"
        base = f"/admin/events/{event.event_id}"
        assert (
            self.post(
                f"{base}/options", {"label": "Morning", "capacity": "1", "waitlist": "1"}
            ).code
            == 303
        )
        option = self.store.events.options(event.event_id)[0]
        first = self.store.registrations.sign_up(
            option.option_id, "=cmd()", "+15552345678"
        ).registration
        second = self.store.registrations.sign_up(
            option.option_id, "Zoe", "zoe@example.org"
        ).registration
        page = self.request(f"{base}/registrations?q=zoe")
        assert second.ref.encode() in page.body and first.ref.encode() not in page.body
        csv_text = self.request(f"{base}/registrations.csv").body.decode()
        assert csv_text.splitlines()[0].startswith("ref,option,status,name")
        assert f"{first.ref},Morning,confirmed,'=cmd()" in csv_text
        promote = self.post(f"/admin/registrations/{second.ref}/promote", {})
        assert promote.code == 303
        assert self.store.registrations.get(second.ref).status == "confirmed"
        assert self.post(f"/admin/registrations/{first.ref}/cancel", {}).code == 303
        assert self.store.registrations.get(first.ref).status == "cancelled"
        assert self.post(f"{base}/open", {"is_open": "0"}).code == 303
        assert not self.store.events.get(event.event_id).is_open
        assert self.post(f"{base}/delete", {}).code == 303
        with pytest.raises(NotFound):
            self.store.events.get(event.event_id)

    def test_a_refused_event_form_leaves_neither_the_event_nor_its_images(self) -> None:
        self.login()
        taken = make_event(self.store, "T" + secrets.token_hex(4).upper())[0].short_code
        title = "Second event " + secrets.token_hex(4)
        fields = {
            "title": title,
            "short_code": taken,
            "time_zone": "UTC",
            "starts_at": "2031-06-01T10:00",
            "ends_at": "2031-06-01T12:00",
        }
        before = {info.asset_id for info in self.store.assets.list()}
        long_name = "photo of the whole congregation " * 10 + ".png"
        refused = self.upload("/admin/events", fields, {"icon_file": (long_name, PNG)})
        assert refused.code == 409 and b"belongs to another event" in refused.body
        assert {info.asset_id for info in self.store.assets.list()} == before
        assert title not in [event.title for event in self.store.events.list()]
        fields["short_code"] = "S" + secrets.token_hex(4).upper()
        assert self.upload("/admin/events", fields, {"icon_file": (long_name, PNG)}).code == 303
        icon_asset = self.store.events.by_code(fields["short_code"]).icon_asset
        assert icon_asset is not None
        icon = self.store.assets.info(icon_asset)
        assert len(icon.name) == 200 and icon.name.endswith("phot.png")

    def test_a_kiosk_form_with_an_empty_event_choice_keeps_the_others(self) -> None:
        self.login()
        token = self.xsrf()
        kiosk = "k" + secrets.token_hex(4)
        event, _ = make_event(self.store, "K" + secrets.token_hex(4).upper())
        fields = [
            ("_xsrf", token),
            ("kiosk_id", kiosk),
            ("event", ""),
            ("event", str(event.event_id)),
            (f"order_{event.event_id}", "1"),
        ]
        assert self.request("/admin/kiosks", "POST", body=urlencode(fields)).code == 303
        assert self.store.kiosks.get(kiosk).event_ids == (event.event_id,)

    def test_an_uploaded_files_type_comes_from_its_content_never_the_client(self) -> None:
        self.login()
        name = f"menu-{secrets.token_hex(4)}.html"  # sent as image/png (multipart() says so)
        page = b"<html><script>alert(document.cookie)</script></html>"
        assert self.upload("/admin/assets", {"kind": "file"}, {"file": (name, page)}).code == 303
        stored = next(info for info in self.store.assets.list() if info.name == name)
        assert stored.content_type == "application/octet-stream"
        events_page = self.request("/admin/events").body
        assert str(stored.asset_id).encode() not in events_page  # not offered as an image
        pdf_name = f"notes-{secrets.token_hex(4)}.pdf"
        self.upload("/admin/assets", {"kind": "file"}, {"file": (pdf_name, b"%PDF-1.7 ...")})
        pdf = next(info for info in self.store.assets.list() if info.name == pdf_name)
        assert pdf.content_type == "application/pdf"

    def test_cluster_page(self) -> None:
        self.login()
        page = self.request("/admin/cluster")
        assert page.code == 200 and b"web-test" in page.body


class TestChangeNotices(WebCase):
    """Asset and kiosk changes are broadcast over a real node link to every node."""

    @pytest.fixture(autouse=True)
    def _link(self, web_context: Any, _parts: None) -> Any:
        settings = LinkSettings(heartbeat_s=0.1, down_after_s=0.5)
        addresses = {"web-test": ("127.0.0.1", free_port()), "peer": ("127.0.0.1", free_port())}
        self.here, self.peer = Inbox(), Inbox()
        links = [
            NodeLink("web-test", *addresses["web-test"], addresses, b"c", self.here, settings),
            NodeLink("peer", *addresses["peer"], addresses, b"c", self.peer, settings),
        ]
        for link in links:
            link.start()
        wait_until(lambda: all(p.up for p in links[0].peers()))
        self.context = dataclasses.replace(web_context, link=links[0])
        yield
        for link in links:
            link.stop()

    def test_asset_and_kiosk_changes_reach_every_node(self) -> None:
        self.login()
        kiosk = "k" + secrets.token_hex(4)
        event, _ = make_event(self.store, "K" + secrets.token_hex(4).upper())
        response = self.post(
            "/admin/kiosks",
            {
                "kiosk_id": kiosk,
                "event": str(event.event_id),
                f"order_{event.event_id}": "1",
                "welcome": "Hi <there>",
                "idle_timeout_s": "30",
            },
        )
        assert response.code == 303, response.body
        assert self.store.kiosks.get(kiosk).event_ids == (event.event_id,)
        upload = self.upload("/admin/assets", {"kind": "image"}, {"file": ("a.png", PNG)})
        assert upload.code == 303
        for inbox in (self.here, self.peer):
            told = inbox.wait_for(2)
            assert (KIOSK_CACHE, KioskChanged(kiosk)) in told
            assert any(isinstance(m, AssetChanged) and m.version == 1 for _, m in told)
        not_image = self.upload("/admin/assets", {"kind": "image"}, {"file": ("b.png", b"GIF")})
        assert not_image.code == 415


class TestWithoutCassandra(WebCase):
    @pytest.fixture(autouse=True)
    def _no_store(self, web_context: Any, _parts: None) -> None:
        self.context = dataclasses.replace(web_context, store=None)

    def test_a_signed_in_admin_gets_a_readable_503(self) -> None:
        signed = tornado.web.create_signed_value(
            self.app.settings["cookie_secret"], SESSION_COOKIE, secrets.token_urlsafe(32)
        )
        self.cookies[SESSION_COOKIE] = signed.decode()
        page = self.request("/admin/events")
        assert page.code == 503 and b"The database is out of reach" in page.body
        login = self.post("/admin/login", {"username": self.admin[0], "password": "guess"})
        assert login.code == 503
