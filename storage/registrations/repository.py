"""The :class:`Registrations` repository: sign-ups, cancellations and changes of an option's
seats, each one conditional batch on the option's ledger retried until it applies."""

from __future__ import annotations

import functools
import itertools
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar
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
from storage.flow import Flow, OpClass, Pause, Query
from storage.notices import Notices
from storage.registrations import ledger
from storage.registrations.ledger import Statement
from storage.registrations.models import (
    CHANNELS,
    MAX_CAPACITY,
    MAX_KEY,
    MAX_NAME,
    MAX_PARTY_SIZE,
    STATUSES,
    CancelResult,
    Registration,
    Seats,
    SignupResult,
)
from storage.registrations.refs import Ref, make_ref, new_code, new_prefix, parse_ref
from storage.session import Database, Row

P = ParamSpec("P")
T = TypeVar("T")

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
    ``phone_region`` the region of phone numbers written the national way. Every party a
    change promotes off the waitlist is owed a notice (:mod:`storage.notices`).
    """

    def __init__(
        self, db: Database, node: str, phone_region: str = validate.DEFAULT_REGION
    ) -> None:
        self._db = db
        self._notices = Notices(db)
        self._node = validate.text("node", node, max_len=48)
        self._region = validate.phone_region(phone_region)
        self._deadline_s = db.profile("signup").request_timeout
        self._known: dict[UUID, tuple[int, Seats]] = {}
        """Each option's seat state from the latest-sent request that answered one, with that
        request's stamp (:meth:`_keep`): a sign-up's first guess."""
        self._stamps = itertools.count()
        """Stamps requests in the order they are sent."""
        self._prefixes: dict[str, UUID] = {}

    def contact(self, value: object) -> str:
        """``value`` as registrations store a contact: an E.164 phone number (national ones
        of this site's region) or a lower-case e-mail address."""
        return validate.contact(value, self._region)

    def open_option(
        self, option_id: UUID, event_id: UUID, capacity: int, waitlist: bool, is_open: bool
    ) -> Seats:
        """Create the seat state of a new option (and its registration reference prefix)."""
        capacity = validate.integer("capacity", capacity, 0, MAX_CAPACITY)
        prefix = self._claim_prefix(option_id)
        self._db.execute(
            ledger.OPEN_LEDGER,
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
        stamp = next(self._stamps)
        pending = [
            (option_id, self._db.submit(ledger.SELECT_SEATS, (option_id,)))
            for option_id in option_ids
        ]
        found = {}
        for option_id, request in pending:
            rows = request.result()
            if rows and rows[0]["event_id"] is not None:
                found[option_id] = self._remember(option_id, rows[0], stamp)
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
        contact = self.contact(contact)
        party_size = validate.integer("party_size", party_size, 1, MAX_PARTY_SIZE)
        channel = validate.choice("channel", channel, CHANNELS)
        key = (
            uuid4().hex
            if idempotency_key is None
            else validate.text("idempotency_key", idempotency_key, max_len=MAX_KEY)
        )
        if not isinstance(option_id, UUID):
            raise ValidationError("option_id", "must be a UUID")
        seats = self._guess(option_id)
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
        option_id, number, parsed = self._locate(ref, op="signup")
        found: list[Registration] = []
        earlier: list[int] = []  # whom this cancellation promoted, if it had already happened

        def change(seats: Seats, now: datetime) -> tuple[Seats, list[Statement]]:
            row = self._entry(option_id, number, parsed, op="signup")
            registration = ledger.registration_from(seats, row)
            if registration.status == "cancelled":
                found[:] = [registration]
                earlier[:] = row["promoted"] or []
                return seats, []
            found[:] = [replace(registration, status="cancelled", updated_at=now)]
            statements = [
                ledger.set_status(option_id, number, "cancelled", now),
                ledger.delete_entry(option_id, ledger.contact_entry(registration.contact)),
            ]
            if registration.status == "confirmed":
                return replace(seats, taken=seats.taken - registration.party_size), statements
            statements.append(ledger.delete_entry(option_id, ledger.waitlist_entry(number)))
            return replace(seats, waiting=seats.waiting - 1), statements

        seats, promoted = self._settle(option_id, change, record_promotions_in=number)
        if earlier:
            promoted = tuple(self._numbered(seats, n) for n in earlier)
        return CancelResult(found[0], promoted)

    def get(self, ref: str) -> Registration:
        """The registration with reference ``ref`` (such as ``KQMT-7KQ2MX``)."""
        option_id, number, parsed = self._locate(ref)
        row = self._entry(option_id, number, parsed)
        return ledger.registration_from(ledger.seats_from(option_id, row), row)

    def numbered(self, option_id: UUID, number: int) -> Registration:
        """Registration ``number`` of an option, as a notice names it (never look up what a
        member typed this way: numbers can be guessed; :meth:`get` takes references)."""
        rows = self._db.execute(ledger.SELECT_ENTRY, (option_id, ledger.registration_entry(number)))
        if not rows or rows[0]["number"] is None:
            raise NotFound("registration", f"{option_id}/{number}")
        return ledger.registration_from(ledger.seats_from(option_id, rows[0]), rows[0])

    def held_by(self, contact: str, option_ids: Iterable[UUID]) -> list[Registration]:
        """The registrations ``contact`` holds (confirmed or waitlisted) in these options:
        each option's claim of the contact, read concurrently, then the registrations it
        points at (an SMS ``STATUS``; no table by contact to keep beside each sign-up)."""
        contact = self.contact(contact)
        claims = [
            (
                option_id,
                self._db.submit(ledger.SELECT_ENTRY, (option_id, ledger.contact_entry(contact))),
            )
            for option_id in option_ids
        ]
        entries = [
            (
                option_id,
                self._db.submit(
                    ledger.SELECT_ENTRY, (option_id, ledger.registration_entry(rows[0]["number"]))
                ),
            )
            for option_id, claim in claims
            if (rows := claim.result()) and rows[0]["number"] is not None
        ]
        held = []
        for option_id, entry in entries:
            rows = entry.result()
            if rows and rows[0]["number"] is not None:
                held.append(
                    ledger.registration_from(ledger.seats_from(option_id, rows[0]), rows[0])
                )
        return [registration for registration in held if registration.status != "cancelled"]

    def registrations(self, option_id: UUID, status: str | None = None) -> list[Registration]:
        """The option's registrations in sign-up order, optionally only those in ``status``."""
        if status is not None:
            validate.choice("status", status, STATUSES)
        found = []
        for row in self._db.stream(ledger.SELECT_REGISTRATIONS, (option_id,), op="read"):
            registration = ledger.registration_from(ledger.seats_from(option_id, row), row)
            if status is None or registration.status == status:
                found.append(registration)
        return found

    def export(self, option_id: UUID) -> Iterator[Row]:
        """Every row of the option's ledger partition, for archiving."""
        return self._db.stream(ledger.SELECT_LEDGER, (option_id,), op="read")

    def purge(self, option_id: UUID) -> None:
        """Delete the option's whole ledger (only after it was archived)."""
        self._db.execute(ledger.DELETE_LEDGER, (option_id,), op="write")
        self._known.pop(option_id, None)

    def restore(self, option_id: UUID, rows: Iterable[Row]) -> None:
        """Write back an archived ledger, closed; :meth:`configure` opens it again."""
        seeded = False
        for row in rows:
            if not seeded:
                self._seed(option_id, row)
                seeded = True
            if row["entry"] is not None:
                self._db.execute(*ledger.restore_entry(option_id, row), op="write")

    def _seed(self, option_id: UUID, row: Row) -> None:
        """Reclaim the archived reference prefix and write the archived seat state, closed."""
        rows = self._db.execute(ledger.CLAIM_PREFIX, (row["ref_prefix"], option_id), op="signup")
        claim = rows[0]
        if not claim["[applied]"] and claim["option_id"] != option_id:
            raise Conflict(f"reference prefix {row['ref_prefix']} belongs to another option")
        self._db.execute(*ledger.restore_seats(option_id, row), op="signup")

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
        code = new_code()
        now = times.now()
        registration = Registration(
            ref=make_ref(seats.ref_prefix, code, number),
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
        cql, params = ledger.sign_up(seats, after, registration, code)
        stamp = next(self._stamps)
        rows = yield Query(cql, params, "signup")
        if rows[0]["[applied]"]:
            self._keep(after, stamp)
            return SignupResult(registration, created=True)
        if rows[0]["event_id"] is None:
            raise ValidationError("option_id", "no such sign-up option")
        current = self._remember(option_id, rows[0], stamp)
        claim = ledger.claim_of(rows, key, contact)
        if claim is None:
            return current
        existing = yield from self._fetching_existing(current, claim["number"], contact, key)
        return SignupResult(existing, created=False)

    def _finding_claim(self, option_id: UUID, contact: str, key: str) -> Flow[Registration | None]:
        """The registration this key or contact already holds, if any."""
        rows = yield Query(
            ledger.SELECT_CLAIMS,
            (option_id, ledger.key_entry(key), ledger.contact_entry(contact)),
            "signup",
        )
        row = ledger.claim_of(rows, key, contact)
        if row is None:
            return None
        seats = ledger.seats_from(option_id, row)
        return (yield from self._fetching_existing(seats, row["number"], contact, key))

    def _fetching_existing(
        self, seats: Seats, number: int, contact: str, key: str
    ) -> Flow[Registration]:
        rows = yield Query(
            ledger.SELECT_ENTRY, (seats.option_id, ledger.registration_entry(number)), "signup"
        )
        registration = ledger.registration_from(seats, rows[0])
        if registration.idempotency_key == key and registration.contact != contact:
            raise Conflict(
                "idempotency_key: already used for another person's sign-up to this option"
            )
        return registration

    def _settle(
        self, option_id: UUID, change: Change, record_promotions_in: int | None = None
    ) -> tuple[Seats, tuple[Registration, ...]]:
        """Apply ``change`` and promote the waitlist as one conditional batch, retried on
        contention and on Cassandra failures until the signup class's timeout; returns the
        new seats and the promoted registrations (whose numbers are also written to the
        registration numbered ``record_promotions_in``, so that a retried cancellation can
        report them)."""
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
                return target, tuple(self._numbered(target, n) for n in promoted)
            if time.monotonic() >= deadline:
                raise _gave_up(
                    f"option {option_id} contended for {self._deadline_s:g} s", uncertain
                )
            time.sleep(random.uniform(0, 0.02))

    def _settle_once(
        self, option_id: UUID, change: Change, record_promotions_in: int | None
    ) -> tuple[Seats, list[int]] | None:
        """One attempt of :meth:`_settle`: the new seats and promoted numbers, or None when
        another change got in first."""
        seats = self.seats(option_id)
        now = times.now()
        target, statements = change(seats, now)
        leaving = ledger.deleted_entries(statements)
        taken, promoted = target.taken, []
        for row in self._db.execute(ledger.SELECT_WAITLIST, (option_id,), op="signup"):
            if ledger.waitlist_entry(row["number"]) in leaving:
                continue
            if taken + row["party_size"] > target.capacity:
                break
            taken += row["party_size"]
            promoted.append(row["number"])
            statements += [
                ledger.set_status(option_id, row["number"], "confirmed", now),
                ledger.delete_entry(option_id, ledger.waitlist_entry(row["number"])),
            ]
        target = replace(target, taken=taken, waiting=target.waiting - len(promoted))
        if target == seats and not statements:
            return seats, []
        self._owe_promotions(seats, promoted, now)
        if record_promotions_in is not None:
            statements.append(ledger.set_promoted(option_id, record_promotions_in, promoted))
        target = replace(target, version=seats.version + 1)
        head = ledger.set_state(target, expected_version=seats.version)
        stamp = next(self._stamps)
        rows = self._db.batch([head, *statements], op="signup")
        if not rows[0]["[applied]"]:
            return None
        self._keep(target, stamp)
        return target, promoted

    def _owe_promotions(self, seats: Seats, numbers: list[int], now: datetime) -> None:
        """Owe each party about to be promoted its notice, before the batch that promotes
        it (and marks it updated ``now``): a crash between the two loses none. Each attempt
        owes its own notice, at its own time; the sender sends the one whose time the
        registration has, and drops the others (:mod:`storage.notices`)."""
        for number in numbers:
            registration = self._numbered(seats, number)
            self._notices.owe(
                "promoted",
                f"promoted:{seats.option_id}:{number}:{int(now.timestamp() * 1000)}",
                registration.contact,
                ref=registration.ref,
                option_id=seats.option_id,
                number=number,
                now=now,
            )

    def _reading_seats(self, option_id: UUID) -> Flow[Seats | None]:
        stamp = next(self._stamps)
        rows = yield Query(ledger.SELECT_SEATS, (option_id,), "signup")
        if not rows or rows[0]["event_id"] is None:
            return None
        return self._remember(option_id, rows[0], stamp)

    def _remember(self, option_id: UUID, row: Row, stamp: int) -> Seats:
        seats = ledger.seats_from(option_id, row)
        self._keep(seats, stamp)
        return seats

    def _guess(self, option_id: UUID) -> Seats | None:
        known = self._known.get(option_id)
        return None if known is None else known[1]

    def _keep(self, seats: Seats, stamp: int) -> None:
        """Remember ``seats``, which the request stamped ``stamp`` answered, unless a request
        sent after it answered first: a read that a sign-up overtook (the SMS catalog's
        refresh, say) must not set the next sign-up's compare-and-set back to a version
        already gone. Stamps, not versions, decide: a ledger restored from an archive may
        have gone back to an older version, and what a later request saw of it stands."""
        known = self._known.get(seats.option_id)
        if known is None or known[0] <= stamp:
            self._known[seats.option_id] = (stamp, seats)

    def _locate(self, ref: str, op: OpClass = "read") -> tuple[UUID, int, Ref]:
        """The option and number a reference points at, and the reference as parsed."""
        parsed = parse_ref(ref)
        option_id = self._prefixes.get(parsed.prefix)
        if option_id is None:
            rows = self._db.execute(ledger.SELECT_PREFIX, (parsed.prefix,))
            if not rows:
                raise NotFound("registration", ref)
            option_id = self._prefixes[parsed.prefix] = rows[0]["option_id"]
        if parsed.number is not None:
            return option_id, parsed.number, parsed
        assert parsed.code is not None  # a Ref has one or the other
        rows = self._db.execute(
            ledger.SELECT_ENTRY, (option_id, ledger.code_entry(parsed.code)), op=op
        )
        if not rows or rows[0]["number"] is None:
            raise NotFound("registration", ref)
        return option_id, rows[0]["number"], parsed

    def _entry(self, option_id: UUID, number: int, ref: Ref, op: OpClass = "read") -> Row:
        """The ledger row of registration ``number``, which ``ref`` located. A registration
        with a random code does not answer to its number: numbers can be guessed."""
        rows = self._db.execute(
            ledger.SELECT_ENTRY, (option_id, ledger.registration_entry(number)), op=op
        )
        if not rows or rows[0]["number"] is None or (ref.number is not None and rows[0]["code"]):
            raise NotFound("registration", str(ref))
        return rows[0]

    def _numbered(self, seats: Seats, number: int) -> Registration:
        """Registration ``number`` of the option at ``seats``."""
        rows = self._db.execute(
            ledger.SELECT_ENTRY, (seats.option_id, ledger.registration_entry(number))
        )
        return ledger.registration_from(seats, rows[0])

    def _claim_prefix(self, option_id: UUID) -> str:
        while True:
            prefix = new_prefix()
            row = self._db.execute(ledger.CLAIM_PREFIX, (prefix, option_id), op="signup")[0]
            if row["[applied]"]:
                self._prefixes[prefix] = option_id
                return prefix


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
