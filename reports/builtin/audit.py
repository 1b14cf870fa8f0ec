"""``audit``: every option's seat counters against its registrations, and every claim row
without its registration (Gather's counterpart of the original system's check for Riak
siblings).

An option's ledger partition lies in one token range, so a worker sees all of it: ``map``
keeps each option's counters, registrations and claims, and ``combine`` (on the worker, at
the range's end) reduces them to the option's sums and its mismatches, which are all that
cross the link. Claim rows name contacts and keys; a mismatch names only the kind of row and
the registration number.

Checked for each option: ``taken`` equals the confirmed registrations' party sizes summed,
``waiting`` the number of waitlisted registrations; every ``c:``, ``k:``, ``x:`` and ``w:``
row points at a registration that exists; a ``c:`` row's registration is not cancelled and a
``w:`` row's is waitlisted; every confirmed or waitlisted registration has its ``c:`` row,
and every waitlisted one its ``w:`` row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reports.builtin.names import Names
from reports.catalog import register
from reports.definition import (
    MapContext,
    Partial,
    PresentContext,
    Report,
    ReportResult,
    Scan,
    Table,
)

_CLAIMS = {"c": "contact claim", "k": "key claim", "x": "code claim", "w": "waitlist row"}


class _Ledger:
    """One option's ledger as the rows of a range showed it."""

    __slots__ = ("claims", "event_id", "registrations", "taken", "waiting")

    def __init__(self, event_id: Any, taken: int | None, waiting: int | None) -> None:
        self.event_id = event_id
        self.taken = taken or 0
        self.waiting = waiting or 0
        self.registrations: dict[int, tuple[str, int]] = {}
        self.claims: list[tuple[str, int]] = []


def read_ledgers(acc: dict[Any, _Ledger], rows: list[tuple[Any, ...]], _: MapContext) -> None:
    """Keep each option's counters, registrations (status, seats) and claims."""
    for option_id, entry, event_id, taken, waiting, number, status, party_size in rows:
        ledger = acc.get(option_id)
        if ledger is None:
            ledger = acc[option_id] = _Ledger(event_id, taken, waiting)
        if not entry:
            continue
        kind = entry[0]
        if kind == "r":
            ledger.registrations[number] = (status, party_size or 0)
        elif kind in _CLAIMS:
            ledger.claims.append((kind, number))


def check_ledgers(acc: dict[Any, _Ledger]) -> Partial:
    """Each option's ``[taken, confirmed seats, waiting, waitlisted, registrations]`` and a
    key per mismatch: ``("mismatch", event, option, what, number)``."""
    partial: Partial = {}
    for option_id, ledger in acc.items():
        registrations = ledger.registrations
        confirmed = sum(seats for status, seats in registrations.values() if status == "confirmed")
        waitlisted = sum(1 for status, _ in registrations.values() if status == "waitlisted")
        partial[("option", ledger.event_id, option_id)] = [
            ledger.taken,
            confirmed,
            ledger.waiting,
            waitlisted,
            len(registrations),
        ]
        claimed: dict[str, set[int]] = defaultdict(set)
        for kind, number in ledger.claims:
            claimed[kind].add(number)
            found = registrations.get(number)
            problem = None
            if found is None:
                problem = f"{_CLAIMS[kind]} without its registration"
            elif kind == "c" and found[0] == "cancelled":
                problem = "contact claim of a cancelled registration"
            elif kind == "w" and found[0] != "waitlisted":
                problem = f"waitlist row of a {found[0]} registration"
            if problem:
                partial[("mismatch", ledger.event_id, option_id, problem, number)] = [1]
        for number, (status, _) in registrations.items():
            if status in ("confirmed", "waitlisted") and number not in claimed["c"]:
                partial[
                    (
                        "mismatch",
                        ledger.event_id,
                        option_id,
                        f"{status} registration without its contact claim",
                        number,
                    )
                ] = [1]
            if status == "waitlisted" and number not in claimed["w"]:
                partial[
                    (
                        "mismatch",
                        ledger.event_id,
                        option_id,
                        "waitlisted registration without its waitlist row",
                        number,
                    )
                ] = [1]
    return partial


def present_audit(total: Partial, context: PresentContext) -> ReportResult:
    """Every mismatch, and the options whose counters disagree."""
    names = Names.read(context.store)
    counters = []
    options = 0
    registrations = 0
    for key, (taken, confirmed, waiting, waitlisted, held) in (
        (key, counts) for key, counts in total.items() if key[0] == "option"
    ):
        options += 1
        registrations += held
        if taken != confirmed or waiting != waitlisted:
            counters.append(
                (
                    names.event(key[1]),
                    names.option(key[2]),
                    str(key[2]),
                    taken,
                    confirmed,
                    waiting,
                    waitlisted,
                )
            )
    rows = sorted(
        (names.event(key[1]), names.option(key[2]), str(key[2]), key[3], key[4])
        for key in total
        if key[0] == "mismatch"
    )
    return ReportResult(
        summary=(
            ("Options checked", options),
            ("Registrations checked", registrations),
            ("Seat counters that disagree", len(counters)),
            ("Rows without their match", len(rows)),
        ),
        tables=(
            Table(
                "Seat counters against registrations",
                (
                    "Event",
                    "Option",
                    "Option id",
                    "taken",
                    "Confirmed seats",
                    "waiting",
                    "Waitlisted",
                ),
                tuple(sorted(counters)),
                note="Every option whose counters differ from the sum of its registrations.",
            ),
            Table(
                "Rows without their match",
                ("Event", "Option", "Option id", "Problem", "Registration number"),
                tuple(rows),
            ),
        ),
    )


REPORT = register(
    Report(
        name="audit",
        title="Ledger audit",
        description=(
            "Each option's seat counters against the sum of its registrations, and every claim "
            "row without its registration."
        ),
        scans=(
            Scan(
                "signup_ledger",
                "option_id",
                (
                    "option_id",
                    "entry",
                    "event_id",
                    "taken",
                    "waiting",
                    "number",
                    "status",
                    "party_size",
                ),
                "reports.builtin.audit:read_ledgers",
            ),
        ),
        present="reports.builtin.audit:present_audit",
        combine="reports.builtin.audit:check_ledgers",
    )
)
