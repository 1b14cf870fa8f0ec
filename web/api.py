"""The JSON API under ``/api/v1``: events, sign-ups, cancellations and registrations.

Described by the OpenAPI 3 document at ``/api/v1/openapi.json`` (:mod:`web.openapi`). Errors
are ``{"error": {"status": ..., "message": ...}}``. Requests with a body must send
``Content-Type: application/json`` (which also keeps other sites' forms out, so no XSRF token
is needed). An event's registrations with names and contacts need an admin session.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import signups
from storage.events import Event, SignupOption
from storage.registrations import Registration
from storage.store import Store
from web.base import BaseHandler, Refusal, error_message
from web.openapi import DOCUMENT
from web.public import event_id


def option_data(option: SignupOption) -> dict[str, Any]:
    """An option and its seats as the API shows it."""
    seats = option.seats
    return {
        "option_id": str(option.option_id),
        "label": option.label,
        "position": option.position,
        "capacity": seats.capacity,
        "taken": seats.taken,
        "free": seats.free,
        "waitlist": seats.waitlist,
        "waiting": seats.waiting,
        "is_open": seats.is_open,
    }


def event_data(event: Event, options: list[SignupOption]) -> dict[str, Any]:
    """An event and its options as the API shows it."""
    return {
        "event_id": str(event.event_id),
        "title": event.title,
        "description": event.description,
        "location": event.location,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "time_zone": event.time_zone,
        "short_code": event.short_code,
        "is_open": event.is_open,
        "cancelled": event.cancelled,
        "cancelled_at": None if event.cancelled_at is None else event.cancelled_at.isoformat(),
        "icon_url": f"/assets/{event.icon_asset}" if event.icon_asset else None,
        "background_url": f"/assets/{event.background_asset}" if event.background_asset else None,
        "options": [option_data(option) for option in options],
    }


def registration_data(registration: Registration, private: bool = False) -> dict[str, Any]:
    """A registration as the API shows it: to anyone with its code, what its holder needs;
    to an admin (``private``), also when it was made, the name, contact and channel."""
    data: dict[str, Any] = {
        "ref": registration.ref,
        "event_id": str(registration.event_id),
        "option_id": str(registration.option_id),
        "party_size": registration.party_size,
        "status": registration.status,
    }
    if private:
        data |= {
            "created_at": registration.created_at.isoformat(),
            "name": registration.name,
            "contact": registration.contact,
            "channel": registration.channel,
        }
    return data


class ApiHandler(BaseHandler):
    """A JSON endpoint."""

    def check_xsrf_cookie(self) -> None:
        """Bodies must be JSON, which a form on another site cannot send."""

    def prepare(self) -> None:
        super().prepare()
        if self.request.method == "POST":
            media_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if media_type != "application/json":
                raise Refusal(415, "Send the body as application/json.")

    def json_body(self) -> dict[str, Any]:
        """The request's JSON object."""
        try:
            body = json.loads(self.request.body.decode("utf-8"))
        except UnicodeDecodeError:
            raise Refusal(400, "The body is not valid UTF-8.") from None
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            raise Refusal(400, "The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise Refusal(400, "The body must be a JSON object.")
        return body

    def send(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = error_message(status_code, kwargs)
        self.send({"error": {"status": status_code, "message": message}}, status_code)


class OpenApiHandler(ApiHandler):
    """``GET /api/v1/openapi.json``."""

    def get(self) -> None:
        self.send(DOCUMENT)


class EventsApi(ApiHandler):
    """``GET /api/v1/events``: the open, upcoming events."""

    async def get(self) -> None:
        listing = await self.storage(signups.upcoming_with_options)
        self.send({"events": [event_data(event, options) for event, options in listing]})


class EventApi(ApiHandler):
    """``GET /api/v1/events/{event_id}``."""

    async def get(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        event, options = await self.storage(lambda s: signups.event_with_options(s, the_event))
        self.send(event_data(event, options))


class SignupsApi(ApiHandler):
    """``POST /api/v1/signups``: sign up (201; 200 when the registration existed)."""

    async def post(self) -> None:
        body = self.json_body()
        try:
            option = UUID(str(body.get("option_id")))
        except ValueError:
            raise Refusal(400, "Option id must be a UUID.") from None
        key = body.get("idempotency_key")
        client = signups.Client.web(self.client_network)
        # any JSON value: the sign-up rules validate them, for every frontend alike
        name: Any = body.get("name")
        contact: Any = body.get("contact")
        party: Any = body.get("party_size", 1)
        result = await self.flow(
            lambda s: signups.signing_up(s, client, option, name, contact, party, key)
        )
        self.send(registration_data(result.registration), 201 if result.created else 200)


class CancellationsApi(ApiHandler):
    """``POST /api/v1/cancellations``: cancel with the reference and the contact."""

    async def post(self) -> None:
        body = self.json_body()
        ref, contact = body.get("ref"), body.get("contact")
        if not isinstance(ref, str) or not isinstance(contact, str):
            raise Refusal(400, "Send the registration's ref and its phone or e-mail as text.")
        client = signups.Client.web(self.client_network)
        registration = await self.storage(lambda s: signups.cancel(s, client, ref, contact))
        self.send(registration_data(registration))


class RegistrationApi(ApiHandler):
    """``GET /api/v1/registrations/{ref}``: a registration's status."""

    async def get(self, ref: str) -> None:
        client = signups.Client.web(self.client_network)
        registration = await self.storage(lambda s: signups.look_up(s, client, ref))
        self.send(registration_data(registration))


class EventRegistrationsApi(ApiHandler):
    """``GET /api/v1/events/{event_id}/registrations``: for a signed-in admin."""

    async def get(self, raw_id: str) -> None:
        if await self.resolve_current_user() is None:
            raise Refusal(401, "Sign in as an admin to see registrations.")
        the_event = event_id(raw_id)

        def listing(store: Store) -> list[dict[str, Any]]:
            options = store.events.options(store.events.get(the_event).event_id)
            return [
                registration_data(r, private=True)
                for option in options
                for r in store.registrations.registrations(option.option_id)
            ]

        self.send({"registrations": await self.storage(listing)})
