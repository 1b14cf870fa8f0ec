"""A synthetic ledger with known answers, written with plain writes: the data the reports'
tests and benchmark scan.

:func:`generate` makes registrations for given options from a seed (the same seed, the same
registrations); :meth:`Sample.write` writes them into the options' ledger partitions, rows
and seat counters consistent (``taken``, ``waiting``, ``seq``), with the claim rows a real
sign-up writes (``c:``, ``k:``, ``x:``, ``w:``) unless ``claims=False``. Nothing here runs
the sign-up transaction: it is a loader, for data sets far larger than sign-ups could make
in a test's time.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from storage.registrations.ledger import registration_entry
from storage.session import Database

STATUSES = (("confirmed", 70), ("waitlisted", 15), ("cancelled", 15))
CHANNELS = ("kiosk", "web", "sms")
KIOSKS = ("kiosk-1", "kiosk-2")
ROWS_PER_BATCH = 25
"""Rows per unlogged batch (one partition each): under Cassandra's batch size warning."""
_REGISTRATION = (
    "INSERT INTO signup_ledger (option_id, entry, number, name, contact, party_size, channel, "
    "node, idempotency_key, status, created_at, updated_at, code) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CLAIM = "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, ?, ?)"
_WAITING = "INSERT INTO signup_ledger (option_id, entry, number, party_size) VALUES (?, ?, ?, ?)"
_SEATS = (
    "INSERT INTO signup_ledger (option_id, event_id, ref_prefix, capacity, waitlist, is_open, "
    "taken, waiting, seq, version) VALUES (?, ?, ?, ?, true, true, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Registration:
    """One generated registration."""

    event_id: UUID
    option_id: UUID
    number: int
    status: str
    party_size: int
    channel: str
    node: str
    created_at: datetime
    contact: str


@dataclass(frozen=True)
class Sample:
    """Registrations of some options, in option and number order."""

    options: tuple[tuple[UUID, UUID], ...]
    registrations: tuple[Registration, ...]

    def write(self, db: Database, *, claims: bool = True, threads: int = 16) -> None:
        """Write every option's ledger: its registrations (and claims), then its counters."""
        batches: list[list[tuple[str, tuple[Any, ...]]]] = []
        by_option: dict[UUID, list[Registration]] = {option: [] for _, option in self.options}
        for registration in self.registrations:
            by_option[registration.option_id].append(registration)
        for held in by_option.values():
            rows = [row for r in held for row in _rows(r, claims)]
            batches += [rows[i : i + ROWS_PER_BATCH] for i in range(0, len(rows), ROWS_PER_BATCH)]
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda batch: db.batch(batch, "write"), batches))
            list(
                pool.map(lambda item: db.execute(item[0], item[1], "write"), self._seats(by_option))
            )

    def _seats(
        self, by_option: dict[UUID, list[Registration]]
    ) -> list[tuple[str, tuple[Any, ...]]]:
        events = dict((option, event) for event, option in self.options)
        return [
            (
                _SEATS,
                (
                    option_id,
                    events[option_id],
                    f"S{str(option_id)[:3].upper()}",
                    10_000,
                    sum(r.party_size for r in held if r.status == "confirmed"),
                    sum(1 for r in held if r.status == "waitlisted"),
                    len(held),
                    len(held) + 1,
                ),
            )
            for option_id, held in by_option.items()
        ]


def generate(
    options: list[tuple[UUID, UUID]], per_option: int, seed: int, people: int | None = None
) -> Sample:
    """``per_option`` registrations in each of ``options`` ((event id, option id) pairs),
    drawn from ``seed``: statuses 70/15/15 % confirmed/waitlisted/cancelled, parties of 1-4,
    channels and kiosks at random, made over ten days, by ``people`` distinct contacts (by
    default twice the registrations of one option), each at most once per option."""
    rng = random.Random(seed)
    pool = [_contact(i) for i in range(people or max(per_option * 2, 1))]
    statuses = [status for status, weight in STATUSES for _ in range(weight)]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    registrations = []
    for event_id, option_id in options:
        for number, contact in enumerate(rng.sample(pool, per_option), start=1):
            channel = rng.choice(CHANNELS)
            registrations.append(
                Registration(
                    event_id=event_id,
                    option_id=option_id,
                    number=number,
                    status=rng.choice(statuses),
                    party_size=rng.randint(1, 4),
                    channel=channel,
                    node=rng.choice(KIOSKS) if channel == "kiosk" else "hub",
                    created_at=start + timedelta(seconds=rng.randrange(10 * 86_400)),
                    contact=contact,
                )
            )
    return Sample(tuple(options), tuple(registrations))


def _contact(i: int) -> str:
    return f"+1555{2000000 + i:07d}" if i % 2 else f"member{i}@example.org"


def _rows(r: Registration, claims: bool) -> list[tuple[str, tuple[Any, ...]]]:
    at = r.created_at
    code = f"{r.number:06d}"[-6:]
    key = f"sample-{r.option_id}-{r.number}"
    rows: list[tuple[str, tuple[Any, ...]]] = [
        (
            _REGISTRATION,
            (
                r.option_id,
                registration_entry(r.number),
                r.number,
                "Sample",
                r.contact,
                r.party_size,
                r.channel,
                r.node,
                key,
                r.status,
                at,
                at,
                code,
            ),
        )
    ]
    if claims:
        rows += [
            (_CLAIM, (r.option_id, f"k:{key}", r.number)),
            (_CLAIM, (r.option_id, f"x:{code}", r.number)),
        ]
        if r.status != "cancelled":
            rows.append((_CLAIM, (r.option_id, f"c:{r.contact}", r.number)))
        if r.status == "waitlisted":
            rows.append((_WAITING, (r.option_id, f"w:{r.number:09d}", r.number, r.party_size)))
    return rows
