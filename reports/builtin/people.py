"""``people``: how many distinct people hold a registration (confirmed or waitlisted), and
how many of them signed up for more than one event.

A person is a normalised contact (phone or e-mail). The workers count ``("pair", hash,
event)`` for each registration, ``hash`` being the contact's keyed hash
(:func:`reports.pieces.contact_hasher`): no contact crosses the link, and the coordinator can
still count people exactly, across ranges and workers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reports.builtin.signups import REGISTRATIONS
from reports.catalog import register
from reports.definition import (
    Chart,
    MapContext,
    Partial,
    PresentContext,
    Report,
    ReportResult,
    Scan,
    Table,
    bump,
)

_HOLDING = frozenset({"confirmed", "waitlisted"})


def count_people(acc: Partial, rows: list[tuple[Any, ...]], context: MapContext) -> None:
    """Count each (person, event) pair of the registrations that hold a place."""
    contact_hash = context.contact_hash
    for event_id, status, contact in rows:
        if status in _HOLDING and contact:
            bump(acc, ("pair", contact_hash(contact), event_id), (1,))


def present_people(total: Partial, _: PresentContext) -> ReportResult:
    """Distinct people, and how many events each signed up for."""
    events_per_person = Counter(key[1] for key in total if key[0] == "pair")
    people_by_events = Counter(events_per_person.values())
    more_than_one = sum(people for events, people in people_by_events.items() if events > 1)
    rows = tuple(sorted(people_by_events.items()))
    return ReportResult(
        summary=(
            ("Distinct people", len(events_per_person)),
            ("Signed up for more than one event", more_than_one),
            ("Registrations held", sum(counts[0] for counts in total.values())),
        ),
        tables=(
            Table(
                "People by the number of events they signed up for",
                ("Events", "People"),
                rows,
                note="A person is one phone number or e-mail address; cancelled sign-ups left out.",
            ),
        ),
        charts=(Chart("People by events signed up for", tuple((str(n), p) for n, p in rows)),),
    )


REPORT = register(
    Report(
        name="people",
        title="People",
        description=(
            "Distinct people holding a registration across events, and how many signed up "
            "for more than one."
        ),
        scans=(
            Scan(
                "signup_ledger",
                "option_id",
                ("event_id", "status", "contact"),
                "reports.builtin.people:count_people",
                where=REGISTRATIONS,
            ),
        ),
        present="reports.builtin.people:present_people",
    )
)
