"""``events``: registrations and seats per event and option (confirmed, waitlisted,
cancelled), by channel and by kiosk node, and sign-ups per day.

The workers read only the registration rows of each option's ledger (the ``r:`` slice) and
count, per range, into keys such as ``("option", event, option)`` six counters: confirmed
registrations and seats, waitlisted registrations and seats, cancelled registrations and
seats. Sign-ups are counted per UTC hour; the coordinator turns hours into the site's days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from reports.builtin.names import Names
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
)

REGISTRATIONS = "entry > 'r:' AND entry < 'r;'"
"""The registration rows of each option's ledger (docs/data-model.md)."""
_SLOT = {"confirmed": 0, "waitlisted": 2, "cancelled": 4}
_EPOCH_HOURS = datetime(1970, 1, 1).toordinal() * 24
_COUNTS = ("Confirmed", "Seats", "Waitlisted", "Waiting seats", "Cancelled", "Cancelled seats")


def count_signups(acc: Partial, rows: list[tuple[Any, ...]], _: MapContext) -> None:
    """Fold registration rows into the counters by option, channel, kiosk and hour."""
    get = acc.get
    for option_id, event_id, status, party_size, channel, node, created_at in rows:
        slot = _SLOT.get(status)
        if slot is None:
            continue
        seats = party_size or 0
        keys = [("option", event_id, option_id), ("channel", event_id, option_id, channel)]
        if channel == "kiosk":
            keys.append(("kiosk", event_id, option_id, node))
        for key in keys:
            counts = get(key)
            if counts is None:
                counts = acc[key] = [0, 0, 0, 0, 0, 0]
            counts[slot] += 1
            counts[slot + 1] += seats
        if created_at is not None:
            hour = ("hour", event_id, created_at.toordinal() * 24 + created_at.hour - _EPOCH_HOURS)
            counts = get(hour)
            if counts is None:
                acc[hour] = [1]
            else:
                counts[0] += 1


def present_signups(total: Partial, context: PresentContext) -> ReportResult:
    """The tables and charts of the ``events`` report."""
    names = Names.read(context.store)
    zone = ZoneInfo(context.time_zone)
    by_kind: dict[str, list[tuple[tuple[Any, ...], list[int]]]] = defaultdict(list)
    for key, counts in total.items():
        by_kind[key[0]].append((key[1:], counts))

    def ordered(entries: list[tuple[tuple[Any, ...], list[int]]]) -> list[Any]:
        return sorted(
            entries,
            key=lambda e: (names.order(e[0][0]), names.option(e[0][1]), *map(str, e[0][2:])),
        )

    options = ordered(by_kind["option"])
    sums = [sum(counts[i] for _, counts in options) for i in range(6)]
    per_day: dict[str, int] = defaultdict(int)
    per_event_day: dict[tuple[str, str], int] = defaultdict(int)
    for (event_id, hour), (count,) in by_kind["hour"]:
        day = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=hour)).astimezone(zone)
        per_day[day.date().isoformat()] += count
        per_event_day[(day.date().isoformat(), str(event_id))] += count
    channel_seats: dict[str, int] = defaultdict(int)
    for (_, _, channel), counts in by_kind["channel"]:
        channel_seats[str(channel)] += counts[1]
    return ReportResult(
        summary=(
            ("Registrations", sums[0] + sums[2] + sums[4]),
            ("Confirmed", sums[0]),
            ("Confirmed seats", sums[1]),
            ("Waitlisted", sums[2]),
            ("Cancelled", sums[4]),
            ("Events", len({str(key[0]) for key, _ in options})),
            ("Options", len(options)),
        ),
        tables=(
            Table(
                "By event and option",
                ("Event", "Option", *_COUNTS),
                tuple((names.event(k[0]), names.option(k[1]), *c) for k, c in options),
            ),
            Table(
                "By channel",
                ("Event", "Option", "Channel", *_COUNTS),
                tuple(
                    (names.event(k[0]), names.option(k[1]), k[2], *c)
                    for k, c in ordered(by_kind["channel"])
                ),
            ),
            Table(
                "By kiosk",
                ("Event", "Option", "Kiosk", *_COUNTS),
                tuple(
                    (names.event(k[0]), names.option(k[1]), k[2], *c)
                    for k, c in ordered(by_kind["kiosk"])
                ),
                note="Sign-ups taken at each kiosk node.",
            ),
            Table(
                "Sign-ups per day",
                ("Day", "Event", "Sign-ups"),
                tuple(
                    (day, names.event(event_id), count)
                    for (day, event_id), count in sorted(
                        per_event_day.items(), key=lambda e: (e[0][0], names.order(e[0][1]))
                    )
                ),
                note=f"Days on the site's clock ({context.time_zone}); every registration made.",
            ),
        ),
        charts=(
            Chart("Sign-ups per day", tuple(sorted(per_day.items()))),
            Chart("Confirmed seats by channel", tuple(sorted(channel_seats.items()))),
        ),
    )


REPORT = register(
    Report(
        name="events",
        title="Sign-ups by event and option",
        description=(
            "Confirmed, waitlisted and cancelled registrations and seats of every option, by "
            "channel and by kiosk, and sign-ups per day."
        ),
        scans=(
            Scan(
                "signup_ledger",
                "option_id",
                ("option_id", "event_id", "status", "party_size", "channel", "node", "created_at"),
                "reports.builtin.signups:count_signups",
                where=REGISTRATIONS,
            ),
        ),
        present="reports.builtin.signups:present_signups",
    )
)
