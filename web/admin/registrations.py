"""The management pages of registrations: per option, searchable, as CSV; cancel, promote."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from uuid import UUID

import signups
from storage import validate
from storage.events import Event, SignupOption
from storage.registrations import Registration
from storage.store import Store
from web.admin.base import Admin
from web.public import event_id

CSV_PIECE_ROWS = 1000
"""Lines of CSV formatted (off the IOLoop) and sent at a time."""
_CSV_COLUMNS = ("ref", "option", "status", "name", "contact", "party_size", "channel", "created_at")

PerOption = list[tuple[SignupOption, list[Registration]]]


def csv_cell(value: object) -> str:
    """A value for a spreadsheet cell, never read as a formula (also when invisible format
    characters, stored before they were refused, stand before the ``=``). A whole number is
    written as it is: it is no formula, and ``-3`` must stay a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    starts = {text[:1], validate.normalised(text)[:1]}
    return "'" + text if starts & {"=", "+", "-", "@", "\t", "\r"} else text


def matches(registration: Registration, query: str) -> bool:
    """Whether the search ``query`` is in the registration's reference, name or contact."""
    query = query.strip().lower()
    fields = (registration.ref, registration.name, registration.contact)
    return not query or any(query in field.lower() for field in fields)


def event_registrations(store: Store, the_event: UUID) -> tuple[Event, PerOption]:
    """The event and each option with its registrations."""
    event = store.events.get(the_event)
    options = store.events.options(the_event)
    return event, [(o, store.registrations.registrations(o.option_id)) for o in options]


def csv_pieces(header: Iterable[object], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """CSV text of ``header`` and then ``rows``, every cell through :func:`csv_cell`, in
    pieces of at most :data:`CSV_PIECE_ROWS` lines (pull them off the IOLoop: formatting is
    CPU work). Any export of the management UI goes through here."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_cell(v) for v in header)
    for number, row in enumerate(rows, start=1):
        writer.writerow(csv_cell(v) for v in row)
        if number % CSV_PIECE_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_lines(per_option: PerOption) -> Iterator[str]:
    """The CSV text, a header and then one line per registration, in pieces of at most
    :data:`CSV_PIECE_ROWS` lines."""
    rows = ((option, r) for option, registrations in per_option for r in registrations)
    return csv_pieces(
        _CSV_COLUMNS,
        (
            (
                r.ref,
                option.label,
                r.status,
                r.name,
                r.contact,
                r.party_size,
                r.channel,
                r.created_at.isoformat(),
            )
            for option, r in rows
        ),
    )


class RegistrationsAdmin(Admin):
    """``GET /admin/events/{id}/registrations?q=``: registrations per option, searchable."""

    async def get(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        query = self.get_query_argument("q", "")
        event, per_option = await self.storage(lambda s: event_registrations(s, the_event))
        found = [(o, [r for r in regs if matches(r, query)]) for o, regs in per_option]
        heads = {
            next((r.ref for r in regs if r.status == "waitlisted"), None) for _, regs in per_option
        }
        self.render(
            "admin/registrations.html", event=event, per_option=found, query=query, heads=heads
        )


class RegistrationsCsv(Admin):
    """``GET /admin/events/{id}/registrations.csv``: every registration of the event."""

    async def get(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        event, per_option = await self.storage(lambda s: event_registrations(s, the_event))
        await self.send_csv(f"registrations-{event.short_code}.csv", csv_lines(per_option))


class RegistrationActionAdmin(Admin):
    """``POST /admin/registrations/{ref}/cancel`` and ``.../promote``."""

    async def post(self, ref: str, action: str) -> None:
        def act(store: Store) -> Registration:
            if action == "cancel":
                return store.registrations.cancel(ref).registration
            return signups.promote(store, ref)

        registration = await self.storage(act)
        self.redirect(f"/admin/events/{registration.event_id}/registrations", status=303)
