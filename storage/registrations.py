"""Sign-ups: each option's seats and the registrations in them, never overbooked.

Everything about one sign-up option lives in one ``signup_ledger`` partition: the seat state in
static columns (capacity, waitlist on/off, open, seats taken, waitlist length, last registration
number, version) and rows for registrations (``r:``), the waitlist (``w:``), and claims by
normalised contact (``c:``) and idempotency key (``k:``). A sign-up is ONE conditional batch on
that partition (a lightweight transaction at the ``signup`` class's serial consistency): it
bumps the version it read, inserts both claims ``IF NOT EXISTS`` and writes the registration, so
it applies entirely or not at all. A batch that does not apply returns the partition's current
state, from which the next attempt is computed; a claim it returns is the registration to give
back. Cancelling and changing capacity are batches of the same kind that also promote the
waitlist in order. docs/data-model.md explains the algorithm.
"""

from __future__ import annotations

import functools
import random
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID, uuid4

from storage import times, validate
from storage.errors import (
    CassandraUnavailable,
    ClosedError,
    Conflict,
    FullError,
    NotFound,
    ValidationError,
    WriteUncertain,
)
from storage.flow import Flow, Pause, Query
from storage.session import Database, Row

CHANNELS = ("kiosk", "web", "sms")
STATUSES = ("confirmed", "waitlisted", "cancelled")
MAX_PARTY_SIZE = 20
MAX_CAPACITY = 100_000
MAX_NAME = 100
MAX_KEY = 128
REF_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_REF = re.compile(r"^([A-HJ-NP-Z]{4})[-\s]?0*([1-9][0-9]{0,8})$")
_STATICS = "event_id, ref_prefix, capacity, waitlist, is_open, taken, waiting, seq, version"
_REGISTRATION_COLUMNS = (
    "option_id, entry, number, name, contact, party_size, channel, node, idempotency_key, "
    "status, created_at, updated_at"
)
_SIGN_UP = (
    "BEGIN UNLOGGED BATCH "
    "UPDATE signup_ledger SET taken = ?, waiting = ?, seq = ?, version = ? "
    "WHERE option_id = ? IF version = ?; "
    "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, ?, ?) IF NOT EXISTS; "
    "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, ?, ?) IF NOT EXISTS; "
    f"INSERT INTO signup_ledger ({_REGISTRATION_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?); "
)
SIGN_UP_CONFIRMED = _SIGN_UP + "APPLY BATCH"
SIGN_UP_WAITLISTED = (
    _SIGN_UP
    + "INSERT INTO signup_ledger (option_id, entry, number, party_size) VALUES (?, ?, ?, ?); "
    + "APPLY BATCH"
)
_SET_STATE = (
    "UPDATE signup_ledger SET capacity = ?, waitlist = ?, is_open = ?, taken = ?, waiting = ?, "
    "version = ? WHERE option_id = ? IF version = ?"
)
_SET_STATUS = (
    "UPDATE signup_ledger SET status = ?, updated_at = ? WHERE option_id = ? AND entry = ?"
)
_DELETE_ENTRY = "DELETE FROM signup_ledger WHERE option_id = ? AND entry = ?"
_SET_PROMOTED = "UPDATE signup_ledger SET promoted = ? WHERE option_id = ? AND entry = ?"
Statement = tuple[str, tuple[Any, ...]]
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Seats:
    """The seat state of one sign-up option."""

    option_id: UUID
    event_id: UUID
    ref_prefix: str
    capacity: int
    waitlist: bool
    is_open: bool
    taken: int
    waiting: int
    seq: int
    version: int

    @property
    def free(self) -> int:
        """Seats not held by confirmed registrations."""
        return max(0, self.capacity - self.taken)


@dataclass(frozen=True)
class Registration:
    """One person's (and their party's) sign-up for one option."""

    ref: str
    event_id: UUID
    option_id: UUID
    number: int
    name: str
    contact: str
    party_size: int
    channel: str
    node: str
    idempotency_key: str
    status: str
    created_at: datetime
    updated_at: datetime

    @property
    def contact_kind(self) -> str:
        """``phone`` (E.164) or ``email``."""
        return "phone" if self.contact.startswith("+") else "email"


@dataclass(frozen=True)
class SignupResult:
    """What a sign-up got: ``created`` is False when an existing registration came back
    (a retry with the same idempotency key, or the same person signing up again); True also
    when this call's own earlier, timed-out attempt turned out to have applied."""

    registration: Registration
    created: bool
    same_key: bool = True
    """The registration was made with this call's idempotency key (always so when
    ``created``): it is the caller's own. False: found by the contact alone, so possibly
    somebody else's doing."""


@dataclass(frozen=True)
class CancelResult:
    """The cancelled registration and the waitlisted ones it promoted, in order."""

    registration: Registration
    promoted: tuple[Registration, ...]


Change = Callable[[Seats, datetime], tuple[Seats, list[Statement]]]
"""What a cancel or a configuration does to an option: its new seats and extra statements."""


def _blocking(
    make_flow: Callable[Concatenate[Registrations, P], Flow[T]],
) -> Callable[Concatenate[Registrations, P], T]:
    """A method that runs the flow ``make_flow`` makes to its end on the calling thread."""

    @functools.wraps(make_flow)
    def run(self: Registrations, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._db.run(make_flow(self, *args, **kwargs))

    return run


class Registrations:
    """Sign-up, cancel and look up registrations; open and configure options' seats.

    ``node`` is the Gather node this process is (recorded on every registration);
    ``default_country`` the calling code for phone numbers written the national way.
    """

    def __init__(
        self, db: Database, node: str, default_country: str = validate.DEFAULT_COUNTRY
    ) -> None:
        self._db = db
        self._node = validate.text("node", node, max_len=48)
        self._country = validate.country_code(default_country)
        self._deadline_s = db.profile("signup").request_timeout
        self._known: dict[UUID, Seats] = {}
        self._prefixes: dict[str, UUID] = {}

    def open_option(
        self, option_id: UUID, event_id: UUID, capacity: int, waitlist: bool, is_open: bool
    ) -> Seats:
        """Create the seat state of a new option (and its registration reference prefix)."""
        capacity = validate.integer("capacity", capacity, 0, MAX_CAPACITY)
        prefix = self._claim_prefix(option_id)
        self._db.execute(
            f"INSERT INTO signup_ledger (option_id, {_STATICS}) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0) IF NOT EXISTS",
            (option_id, event_id, prefix, capacity, bool(waitlist), bool(is_open)),
            op="signup",
        )
        return self.seats(option_id)

    def seats(self, option_id: UUID) -> Seats:
        """The option's current seat state (raises :class:`NotFound`)."""
        seats = self._db.run(self._reading_seats(option_id))
        if seats is None:
            raise NotFound("sign-up option", option_id)
        return seats

    def seats_of(self, option_ids: Iterable[UUID]) -> dict[UUID, Seats]:
        """Seat states of several options at once (missing ones are left out)."""
        pending = [
            (option_id, self._db.submit(_SELECT_SEATS, (option_id,))) for option_id in option_ids
        ]
        found = {}
        for option_id, request in pending:
            rows = request.result()
            if rows and rows[0]["event_id"] is not None:
                found[option_id] = self._remember(option_id, rows[0])
        return found

    def configure(
        self,
        option_id: UUID,
        *,
        capacity: int | None = None,
        waitlist: bool | None = None,
        is_open: bool | None = None,
    ) -> tuple[Seats, tuple[Registration, ...]]:
        """Change capacity, waitlist or open state; returns the new seats and whom that
        promoted from the waitlist (more capacity lets waitlisted parties in, in order)."""
        if capacity is not None:
            capacity = validate.integer("capacity", capacity, 0, MAX_CAPACITY)

        def change(seats: Seats, now: datetime) -> tuple[Seats, list[Statement]]:
            return (
                replace(
                    seats,
                    capacity=seats.capacity if capacity is None else capacity,
                    waitlist=seats.waitlist if waitlist is None else bool(waitlist),
                    is_open=seats.is_open if is_open is None else bool(is_open),
                ),
                [],
            )

        return self._settle(option_id, change)

    def signing_up(
        self,
        option_id: UUID,
        name: str,
        contact: str,
        party_size: int = 1,
        channel: str = "web",
        idempotency_key: str | None = None,
        event_id: UUID | None = None,
    ) -> Flow[SignupResult]:
        """Sign ``name`` (and party) up for an option: confirmed if the party fits and nobody
        is waiting, else waitlisted if the option has a waitlist, else :class:`FullError`.
        With ``event_id``, an option of another event is a :class:`ValidationError` (checked
        before anything is written).

        A retry with the same ``idempotency_key``, or the same contact signing up again while
        registered, returns the existing registration. Raises :class:`ValidationError` (bad
        input, unknown option), :class:`ClosedError`, :class:`FullError`, and
        :class:`WriteUncertain` / :class:`CassandraUnavailable` when Cassandra cannot answer
        in time (retry with the same idempotency key).

        ``signing_up`` is the :mod:`storage.flow` (``await db.run_async(...)`` on a loop);
        ``sign_up`` runs it blocking and returns the :class:`SignupResult`.
        """
        name = validate.text("name", name, max_len=MAX_NAME)
        contact = validate.contact(contact, self._country)
        party_size = validate.integer("party_size", party_size, 1, MAX_PARTY_SIZE)
        channel = validate.choice("channel", channel, CHANNELS)
        key = (
            uuid4().hex
            if idempotency_key is None
            else validate.text("idempotency_key", idempotency_key, max_len=MAX_KEY)
        )
        if not isinstance(option_id, UUID):
            raise ValidationError("option_id", "must be a UUID")
        seats = self._known.get(option_id)
        fresh = False
        deadline = time.monotonic() + self._deadline_s
        sent: list[Registration] = []  # what each attempt tried to write
        uncertain: list[Registration] = []  # attempts that may have applied
        while True:
            try:
                if seats is None:
                    seats, fresh = (yield from self._reading_seats(option_id)), True
                    if seats is None:
                        raise ValidationError("option_id", "no such sign-up option")
                if event_id is not None and seats.event_id != event_id:
                    raise ValidationError("option_id", "belongs to another event")
                fits = seats.waiting == 0 and seats.taken + party_size <= seats.capacity
                refusal = _refusal(seats, party_size, fits)
                if refusal is not None and not fresh:
                    seats = None  # a cached state is only a guess: refuse on a fresh one
                    continue
                if refusal is not None:
                    existing = yield from self._finding_claim(option_id, contact, key)
                    if existing is None:
                        raise refusal
                    return _result(existing, _written_by(existing, uncertain), key)
                outcome = yield from self._attempting(
                    seats, name, contact, party_size, channel, key, fits, sent
                )
            except CassandraUnavailable as exc:
                if exc.may_have_applied and sent:
                    uncertain.append(sent[-1])
                if time.monotonic() >= deadline:
                    raise _gave_up(f"sign-up failed: {exc}", bool(uncertain)) from exc
                seats = None
                yield Pause(random.uniform(0.05, 0.2))
                continue
            if isinstance(outcome, SignupResult):
                created = outcome.created or _written_by(outcome.registration, uncertain)
                return _result(outcome.registration, created, key)
            seats, fresh = outcome, True
            if time.monotonic() >= deadline:
                message = f"sign-up still contended after {len(sent)} attempts"
                raise _gave_up(message, bool(uncertain))
            if len(sent) > 2:
                yield Pause(random.uniform(0, min(0.002 * len(sent), 0.05)))

    sign_up = _blocking(signing_up)

    def cancel(self, ref: str) -> CancelResult:
        """Cancel a registration; frees its seats and promotes the waitlist in order, as many
        parties as now fit. Cancelling a cancelled registration changes nothing."""
        option_id, number = self._locate(ref)
        entry = _registration_entry(number)
        found: list[Registration] = []
        earlier: list[int] = []  # whom this cancellation promoted, if it had already happened

        def change(seats: Seats, now: datetime) -> tuple[Seats, list[Statement]]:
            rows = self._db.execute(_SELECT_ENTRY, (option_id, entry), op="signup")
            if not rows or rows[0]["number"] is None:
                raise NotFound("registration", ref)
            registration = _registration(seats, rows[0])
            if registration.status == "cancelled":
                found[:] = [registration]
                earlier[:] = rows[0]["promoted"] or []
                return seats, []
            found[:] = [replace(registration, status="cancelled", updated_at=now)]
            statements: list[Statement] = [
                (_SET_STATUS, ("cancelled", now, option_id, entry)),
                (_DELETE_ENTRY, (option_id, _contact_entry(registration.contact))),
            ]
            if registration.status == "confirmed":
                return replace(seats, taken=seats.taken - registration.party_size), statements
            statements.append((_DELETE_ENTRY, (option_id, _waitlist_entry(number))))
            return replace(seats, waiting=seats.waiting - 1), statements

        seats, promoted = self._settle(option_id, change, record_promotions_in=entry)
        if earlier:
            promoted = tuple(self.get(_ref(seats.ref_prefix, n)) for n in earlier)
        return CancelResult(found[0], promoted)

    def get(self, ref: str) -> Registration:
        """The registration with reference ``ref`` (such as ``KQMT-17``)."""
        option_id, number = self._locate(ref)
        rows = self._db.execute(_SELECT_ENTRY, (option_id, _registration_entry(number)))
        if not rows or rows[0]["number"] is None:
            raise NotFound("registration", ref)
        return _registration(_seats(option_id, rows[0]), rows[0])

    def registrations(self, option_id: UUID, status: str | None = None) -> list[Registration]:
        """The option's registrations in sign-up order, optionally only those in ``status``."""
        if status is not None:
            validate.choice("status", status, STATUSES)
        found = []
        for row in self._db.stream(
            "SELECT * FROM signup_ledger WHERE option_id = ? AND entry > 'r:' AND entry < 'r;'",
            (option_id,),
            op="read",
        ):
            registration = _registration(_seats(option_id, row), row)
            if status is None or registration.status == status:
                found.append(registration)
        return found

    def export(self, option_id: UUID) -> Iterator[Row]:
        """Every row of the option's ledger partition, for archiving."""
        return self._db.stream(
            "SELECT * FROM signup_ledger WHERE option_id = ?", (option_id,), op="read"
        )

    def purge(self, option_id: UUID) -> None:
        """Delete the option's whole ledger (only after it was archived)."""
        self._db.execute("DELETE FROM signup_ledger WHERE option_id = ?", (option_id,), op="write")
        self._known.pop(option_id, None)

    def restore(self, option_id: UUID, rows: Iterable[Row]) -> None:
        """Write back an archived ledger, closed; :meth:`configure` opens it again."""
        seeded = False
        for row in rows:
            if not seeded:
                self._seed(option_id, row)
                seeded = True
            if row["entry"] is not None:
                columns = [column for column in _ROW_COLUMNS if row.get(column) is not None]
                self._db.execute(
                    f"INSERT INTO signup_ledger (option_id, entry, {', '.join(columns)}) "
                    f"VALUES (?, ?, {', '.join('?' for _ in columns)})",
                    (option_id, row["entry"], *(row[column] for column in columns)),
                    op="write",
                )

    def _seed(self, option_id: UUID, row: Row) -> None:
        """Reclaim the archived reference prefix and write the archived seat state, closed."""
        claim = self._db.execute(
            "INSERT INTO option_refs (ref_prefix, option_id) VALUES (?, ?) IF NOT EXISTS",
            (row["ref_prefix"], option_id),
            op="signup",
        )[0]
        if not claim["[applied]"] and claim["option_id"] != option_id:
            raise Conflict(f"reference prefix {row['ref_prefix']} belongs to another option")
        statics = {column: row[column] for column in _STATIC_COLUMNS} | {"is_open": False}
        self._db.execute(
            f"INSERT INTO signup_ledger (option_id, {_STATICS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
            (option_id, *statics.values()),
            op="signup",
        )

    def _attempting(
        self,
        seats: Seats,
        name: str,
        contact: str,
        party_size: int,
        channel: str,
        key: str,
        fits: bool,
        sent: list[Registration],
    ) -> Flow[SignupResult | Seats]:
        """One conditional batch (recorded in ``sent``): the result, or the current seats to
        try again with."""
        option_id = seats.option_id
        number = seats.seq + 1
        now = times.now()
        registration = Registration(
            ref=_ref(seats.ref_prefix, number),
            event_id=seats.event_id,
            option_id=option_id,
            number=number,
            name=name,
            contact=contact,
            party_size=party_size,
            channel=channel,
            node=self._node,
            idempotency_key=key,
            status="confirmed" if fits else "waitlisted",
            created_at=now,
            updated_at=now,
        )
        sent.append(registration)
        after = replace(
            seats,
            taken=seats.taken + party_size if fits else seats.taken,
            waiting=seats.waiting if fits else seats.waiting + 1,
            seq=number,
            version=seats.version + 1,
        )
        params: tuple[Any, ...] = (
            after.taken,
            after.waiting,
            after.seq,
            after.version,
            option_id,
            seats.version,
            option_id,
            _key_entry(key),
            number,
            option_id,
            _contact_entry(contact),
            number,
            option_id,
            _registration_entry(number),
            number,
            name,
            contact,
            party_size,
            channel,
            self._node,
            key,
            registration.status,
            registration.created_at,
            registration.updated_at,
        )
        if fits:
            rows = yield Query(SIGN_UP_CONFIRMED, params, "signup")
        else:
            params += (option_id, _waitlist_entry(number), number, party_size)
            rows = yield Query(SIGN_UP_WAITLISTED, params, "signup")
        if rows[0]["[applied]"]:
            self._known[option_id] = after
            return SignupResult(registration, created=True)
        if rows[0]["event_id"] is None:
            raise ValidationError("option_id", "no such sign-up option")
        current = self._remember(option_id, rows[0])
        claims = {row["entry"]: row["number"] for row in rows if row.get("entry")}
        claimed = claims.get(_key_entry(key)) or claims.get(_contact_entry(contact))
        if claimed is None:
            return current
        existing = yield from self._fetching_existing(current, claimed, contact, key)
        return SignupResult(existing, created=False)

    def _finding_claim(self, option_id: UUID, contact: str, key: str) -> Flow[Registration | None]:
        """The registration this key or contact already holds, if any."""
        rows = yield Query(
            f"SELECT entry, number, {_STATICS} FROM signup_ledger "
            "WHERE option_id = ? AND entry IN (?, ?)",
            (option_id, _key_entry(key), _contact_entry(contact)),
            "signup",
        )
        claims = {row["entry"]: row for row in rows}
        row = claims.get(_key_entry(key)) or claims.get(_contact_entry(contact))
        if row is None:
            return None
        return (
            yield from self._fetching_existing(_seats(option_id, row), row["number"], contact, key)
        )

    def _fetching_existing(
        self, seats: Seats, number: int, contact: str, key: str
    ) -> Flow[Registration]:
        rows = yield Query(_SELECT_ENTRY, (seats.option_id, _registration_entry(number)), "signup")
        registration = _registration(seats, rows[0])
        if registration.idempotency_key == key and registration.contact != contact:
            raise Conflict(
                "idempotency_key: already used for another person's sign-up to this option"
            )
        return registration

    def _settle(
        self, option_id: UUID, change: Change, record_promotions_in: str | None = None
    ) -> tuple[Seats, tuple[Registration, ...]]:
        """Apply ``change`` and promote the waitlist as one conditional batch, retried on
        contention and on Cassandra failures until the signup class's timeout; returns the
        new seats and the promoted registrations (whose numbers are also written to the row
        ``record_promotions_in``, so that a retried cancellation can report them)."""
        deadline = time.monotonic() + self._deadline_s
        uncertain = False
        while True:
            try:
                outcome = self._settle_once(option_id, change, record_promotions_in)
            except CassandraUnavailable as exc:
                uncertain = uncertain or exc.may_have_applied
                if time.monotonic() >= deadline:
                    raise _gave_up(f"option {option_id} not changed: {exc}", uncertain) from exc
                time.sleep(random.uniform(0.05, 0.2))
                continue
            if outcome is not None:
                target, promoted = outcome
                return target, tuple(self.get(_ref(target.ref_prefix, n)) for n in promoted)
            if time.monotonic() >= deadline:
                raise _gave_up(
                    f"option {option_id} contended for {self._deadline_s:g} s", uncertain
                )
            time.sleep(random.uniform(0, 0.02))

    def _settle_once(
        self, option_id: UUID, change: Change, record_promotions_in: str | None
    ) -> tuple[Seats, list[int]] | None:
        """One attempt of :meth:`_settle`: the new seats and promoted numbers, or None when
        another change got in first."""
        seats = self.seats(option_id)
        now = times.now()
        target, statements = change(seats, now)
        leaving = {params[-1] for cql, params in statements if cql == _DELETE_ENTRY}
        taken, promoted = target.taken, []
        for row in self._db.execute(_SELECT_WAITLIST, (option_id,), op="signup"):
            if _waitlist_entry(row["number"]) in leaving:
                continue
            if taken + row["party_size"] > target.capacity:
                break
            taken += row["party_size"]
            promoted.append(row["number"])
            statements += [
                (
                    _SET_STATUS,
                    ("confirmed", now, option_id, _registration_entry(row["number"])),
                ),
                (_DELETE_ENTRY, (option_id, _waitlist_entry(row["number"]))),
            ]
        target = replace(target, taken=taken, waiting=target.waiting - len(promoted))
        if target == seats and not statements:
            return seats, []
        if record_promotions_in is not None:
            statements.append((_SET_PROMOTED, (promoted, option_id, record_promotions_in)))
        target = replace(target, version=seats.version + 1)
        head: Statement = (
            _SET_STATE,
            (
                target.capacity,
                target.waitlist,
                target.is_open,
                target.taken,
                target.waiting,
                target.version,
                option_id,
                seats.version,
            ),
        )
        rows = self._db.batch([head, *statements], op="signup")
        if not rows[0]["[applied]"]:
            return None
        self._known[option_id] = target
        return target, promoted

    def _reading_seats(self, option_id: UUID) -> Flow[Seats | None]:
        rows = yield Query(_SELECT_SEATS, (option_id,), "signup")
        if not rows or rows[0]["event_id"] is None:
            return None
        return self._remember(option_id, rows[0])

    def _remember(self, option_id: UUID, row: Row) -> Seats:
        seats = _seats(option_id, row)
        self._known[option_id] = seats
        return seats

    def _locate(self, ref: str) -> tuple[UUID, int]:
        """The option and number a reference code points at."""
        prefix, number = parse_ref(ref)
        option_id = self._prefixes.get(prefix)
        if option_id is None:
            rows = self._db.execute(
                "SELECT option_id FROM option_refs WHERE ref_prefix = ?", (prefix,)
            )
            if not rows:
                raise NotFound("registration", ref)
            option_id = self._prefixes[prefix] = rows[0]["option_id"]
        return option_id, number

    def _claim_prefix(self, option_id: UUID) -> str:
        while True:
            prefix = "".join(secrets.choice(REF_LETTERS) for _ in range(4))
            row = self._db.execute(
                "INSERT INTO option_refs (ref_prefix, option_id) VALUES (?, ?) IF NOT EXISTS",
                (prefix, option_id),
                op="signup",
            )[0]
            if row["[applied]"]:
                self._prefixes[prefix] = option_id
                return prefix


_SELECT_SEATS = f"SELECT {_STATICS} FROM signup_ledger WHERE option_id = ? LIMIT 1"
_SELECT_ENTRY = "SELECT * FROM signup_ledger WHERE option_id = ? AND entry = ?"
_SELECT_WAITLIST = (
    "SELECT number, party_size FROM signup_ledger "
    "WHERE option_id = ? AND entry > 'w:' AND entry < 'w;'"
)
_STATIC_COLUMNS = tuple(column.strip() for column in _STATICS.split(","))
_ROW_COLUMNS = (*(column.strip() for column in _REGISTRATION_COLUMNS.split(",")[2:]), "promoted")


def parse_ref(ref: str) -> tuple[str, int]:
    """Split a reference such as ``kqmt 17`` or ``KQMT-17`` into prefix and number."""
    match = _REF.match(ref.strip().upper()) if isinstance(ref, str) else None
    if match is None:
        raise ValidationError("ref", "is not a registration reference such as KQMT-17")
    return match.group(1), int(match.group(2))


def _refusal(seats: Seats, party_size: int, fits: bool) -> Exception | None:
    """Why this party cannot sign up now (before looking for an existing registration)."""
    if not seats.is_open:
        return ClosedError("this event is not taking sign-ups")
    if party_size > seats.capacity:
        return FullError(
            f"a party of {party_size} is larger than the option's {seats.capacity} seats"
        )
    if not fits and not seats.waitlist:
        return FullError(f"only {seats.free} seat(s) left and there is no waitlist")
    return None


def _result(registration: Registration, created: bool, key: str) -> SignupResult:
    return SignupResult(registration, created, same_key=registration.idempotency_key == key)


def _written_by(registration: Registration, attempts: list[Registration]) -> bool:
    """Whether ``registration`` is what one of these (uncertain) attempts wrote."""
    return any(
        (registration.number, registration.created_at) == (attempt.number, attempt.created_at)
        for attempt in attempts
    )


def _gave_up(message: str, uncertain: bool) -> CassandraUnavailable:
    if uncertain:
        return WriteUncertain(f"{message}; an earlier attempt may have applied")
    return CassandraUnavailable(f"{message}; nothing was written")


def _ref(prefix: str, number: int) -> str:
    return f"{prefix}-{number}"


def _registration_entry(number: int) -> str:
    return f"r:{number:09d}"


def _waitlist_entry(number: int) -> str:
    return f"w:{number:09d}"


def _contact_entry(contact: str) -> str:
    return f"c:{contact}"


def _key_entry(key: str) -> str:
    return f"k:{key}"


def _seats(option_id: UUID, row: Row) -> Seats:
    return Seats(
        option_id=option_id,
        event_id=row["event_id"],
        ref_prefix=row["ref_prefix"],
        capacity=row["capacity"],
        waitlist=bool(row["waitlist"]),
        is_open=bool(row["is_open"]),
        taken=row["taken"],
        waiting=row["waiting"],
        seq=row["seq"],
        version=row["version"],
    )


def _registration(seats: Seats, row: Row) -> Registration:
    return Registration(
        ref=_ref(seats.ref_prefix, row["number"]),
        event_id=seats.event_id,
        option_id=seats.option_id,
        number=row["number"],
        name=row["name"],
        contact=row["contact"],
        party_size=row["party_size"],
        channel=row["channel"],
        node=row["node"],
        idempotency_key=row["idempotency_key"],
        status=row["status"],
        created_at=times.utc(row["created_at"]),
        updated_at=times.utc(row["updated_at"]),
    )
