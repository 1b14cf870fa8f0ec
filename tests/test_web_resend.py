"""'Send my code again' on the website, on a real web server against the real Cassandra
cluster: offered to a contact already signed up, owing an ``again`` notice, never showing the
code, and answering alike whether or not the contact is signed up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from storage import times
from storage.events import Event, SignupOption
from storage.store import Store
from tests.helpers import Browser, make_event, new_phone, web_server

SENT = "we have sent its reference code to it."


@pytest.fixture(scope="module")
def base(web_context: Any) -> Iterator[str]:
    with web_server(web_context) as address:
        yield address


@pytest.fixture
def event(store: Store, short_code: str) -> tuple[Event, SignupOption]:
    return make_event(store, short_code)


def sign_up(
    browser: Browser, event: Event, option: SignupOption, contact: str
) -> tuple[int, Any, str]:
    """Fill in and send the event page's sign-up form as a member would."""
    page = f"/events/{event.event_id}"
    key = re.search(r'name="key" value="([^"]+)"', browser.get(page)[2].decode())
    assert key, "no idempotency key on the event page"
    fields = {
        "_xsrf": browser.xsrf(page),
        "key": key[1],
        "option": str(option.option_id),
        "name": "Rhea",
        "contact": contact,
    }
    status, headers, body = browser.get(f"{page}/signup", fields)
    return status, headers, body.decode()


def resend_fields(page: str) -> dict[str, str]:
    """The fields of the page's 'send my code' form."""
    form = page[page.index('id="resend"') :].split("</form>")[0]
    return dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))


def owed_again(store: Store, ref: str) -> list[str]:
    today = times.now().date()
    return [n.kind for n in store.notices.unsettled("sms", today) if n.ref == ref]


def test_a_phone_already_signed_up_can_have_its_code_sent_again(
    base: str, store: Store, event: tuple[Event, SignupOption]
) -> None:
    the_event, option = event
    browser, phone = Browser(base), new_phone()
    status, headers, _ = sign_up(browser, the_event, option, phone)
    assert status == 303
    ref = urlsplit(headers["Location"]).path.rsplit("/", 1)[1]
    status, _, again = sign_up(browser, the_event, option, phone)
    assert status == 409 and "already signed up for this option" in again
    assert "Send my code to this phone" in again and ref not in again
    fields = resend_fields(again)
    assert fields["option"] == str(option.option_id) and fields["contact"] == phone
    assert "again" not in owed_again(store, ref)
    status, _, body = browser.get(f"/events/{the_event.event_id}/resend", fields)
    answer = body.decode()
    assert status == 200 and f"If that phone is signed up for this option, {SENT}" in answer
    assert ref not in answer
    assert "again" in owed_again(store, ref)


def test_the_answer_is_the_same_for_a_contact_not_signed_up(
    base: str, event: tuple[Event, SignupOption]
) -> None:
    the_event, option = event
    browser = Browser(base)
    fields = {
        "_xsrf": browser.xsrf(f"/events/{the_event.event_id}"),
        "option": str(option.option_id),
        "contact": "nobody.here@example.org",
    }
    status, _, body = browser.get(f"/events/{the_event.event_id}/resend", fields)
    assert status == 200 and f"If that e-mail is signed up for this option, {SENT}" in body.decode()


def test_a_malformed_contact_or_option_gets_the_form_with_the_message(
    base: str, store: Store, event: tuple[Event, SignupOption], short_code: str
) -> None:
    the_event, option = event
    browser = Browser(base)
    path = f"/events/{the_event.event_id}/resend"
    token = browser.xsrf(f"/events/{the_event.event_id}")
    status, _, body = browser.get(
        path, {"_xsrf": token, "option": str(option.option_id), "contact": "555"}
    )
    page = body.decode()
    assert status == 400 and 'id="form-error"' in page and "Contact " in page
    assert f'action="/events/{the_event.event_id}/signup"' in page and SENT not in page
    _, elsewhere = make_event(store, short_code + "X")
    fields = {"_xsrf": token, "option": str(elsewhere.option_id), "contact": new_phone()}
    status, _, body = browser.get(path, fields)
    assert status == 400 and "Choose one of the options." in body.decode()
    status, _, _ = browser.get(path, {"option": str(option.option_id), "contact": new_phone()})
    assert status == 403  # no XSRF token
