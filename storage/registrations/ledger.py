"""The ``signup_ledger`` and ``option_refs`` tables: every statement sign-ups run, the ledger's
entry keys, and its rows read as :mod:`~storage.registrations.models`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from storage import times
from storage.registrations.models import Registration, Seats
from storage.registrations.refs import make_ref
from storage.session import Row

Statement = tuple[str, tuple[Any, ...]]

_STATICS = "event_id, ref_prefix, capacity, waitlist, is_open, taken, waiting, seq, version"
_REGISTRATION_COLUMNS = (
    "option_id, entry, number, name, contact, party_size, channel, node, idempotency_key, "
    "status, created_at, updated_at, code"
)
_SIGN_UP = (
    "BEGIN UNLOGGED BATCH "
    "UPDATE signup_ledger SET taken = ?, waiting = ?, seq = ?, version = ? "
    "WHERE option_id = ? IF version = ?; "
    "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, ?, ?) IF NOT EXISTS; "
    "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, ?, ?) IF NOT EXISTS; "
    "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, ?, ?) IF NOT EXISTS; "
    f"INSERT INTO signup_ledger ({_REGISTRATION_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?); "
)
SIGN_UP_CONFIRMED = _SIGN_UP + "APPLY BATCH"
SIGN_UP_WAITLISTED = (
    _SIGN_UP
    + "INSERT INTO signup_ledger (option_id, entry, number, party_size) VALUES (?, ?, ?, ?); "
    + "APPLY BATCH"
)
OPEN_LEDGER = (
    f"INSERT INTO signup_ledger (option_id, {_STATICS}) "
    "VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0) IF NOT EXISTS"
)
SELECT_SEATS = f"SELECT {_STATICS} FROM signup_ledger WHERE option_id = ? LIMIT 1"
SELECT_ENTRY = "SELECT * FROM signup_ledger WHERE option_id = ? AND entry = ?"
SELECT_CLAIMS = (
    f"SELECT entry, number, {_STATICS} FROM signup_ledger WHERE option_id = ? AND entry IN (?, ?)"
)
SELECT_WAITLIST = (
    "SELECT number, party_size FROM signup_ledger "
    "WHERE option_id = ? AND entry > 'w:' AND entry < 'w;'"
)
SELECT_REGISTRATIONS = (
    "SELECT * FROM signup_ledger WHERE option_id = ? AND entry > 'r:' AND entry < 'r;'"
)
SELECT_LEDGER = "SELECT * FROM signup_ledger WHERE option_id = ?"
DELETE_LEDGER = "DELETE FROM signup_ledger WHERE option_id = ?"
SELECT_PREFIX = "SELECT option_id FROM option_refs WHERE ref_prefix = ?"
CLAIM_PREFIX = "INSERT INTO option_refs (ref_prefix, option_id) VALUES (?, ?) IF NOT EXISTS"
_RESTORE_SEATS = (
    f"INSERT INTO signup_ledger (option_id, {_STATICS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS"
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
_STATIC_COLUMNS = tuple(column.strip() for column in _STATICS.split(","))
_ROW_COLUMNS = (*(column.strip() for column in _REGISTRATION_COLUMNS.split(",")[2:]), "promoted")


def registration_entry(number: int) -> str:
    """The entry of registration ``number``."""
    return f"r:{number:09d}"


def waitlist_entry(number: int) -> str:
    """The entry that puts registration ``number`` on the waitlist."""
    return f"w:{number:09d}"


def contact_entry(contact: str) -> str:
    """The entry that claims a normalised contact."""
    return f"c:{contact}"


def key_entry(key: str) -> str:
    """The entry that claims an idempotency key."""
    return f"k:{key}"


def code_entry(code: str) -> str:
    """The entry that claims a registration's random reference code within its option."""
    return f"x:{code}"


def sign_up(seats: Seats, after: Seats, registration: Registration, code: str) -> Statement:
    """The conditional batch that writes ``registration`` with its reference ``code`` (and
    the claims of its key, contact and code, and its waitlist entry when it is waitlisted)
    if the option is still at ``seats``, moving it to ``after``."""
    option_id, number = registration.option_id, registration.number
    params: tuple[Any, ...] = (
        after.taken,
        after.waiting,
        after.seq,
        after.version,
        option_id,
        seats.version,
        option_id,
        key_entry(registration.idempotency_key),
        number,
        option_id,
        contact_entry(registration.contact),
        number,
        option_id,
        code_entry(code),
        number,
        option_id,
        registration_entry(number),
        number,
        registration.name,
        registration.contact,
        registration.party_size,
        registration.channel,
        registration.node,
        registration.idempotency_key,
        registration.status,
        registration.created_at,
        registration.updated_at,
        code,
    )
    if registration.status == "confirmed":
        return SIGN_UP_CONFIRMED, params
    waiting = (option_id, waitlist_entry(number), number, registration.party_size)
    return SIGN_UP_WAITLISTED, params + waiting


def set_state(seats: Seats, expected_version: int) -> Statement:
    """Set the option's seat state to ``seats`` if its version is still ``expected_version``."""
    return _SET_STATE, (
        seats.capacity,
        seats.waitlist,
        seats.is_open,
        seats.taken,
        seats.waiting,
        seats.version,
        seats.option_id,
        expected_version,
    )


def set_status(option_id: UUID, number: int, status: str, now: datetime) -> Statement:
    """Give registration ``number`` the status ``status``, updated ``now``."""
    return _SET_STATUS, (status, now, option_id, registration_entry(number))


def set_promoted(option_id: UUID, number: int, promoted: list[int]) -> Statement:
    """Record on registration ``number`` whom its cancellation promoted."""
    return _SET_PROMOTED, (promoted, option_id, registration_entry(number))


def delete_entry(option_id: UUID, entry: str) -> Statement:
    """Delete one entry (a claim, a waitlist place) of the option's ledger."""
    return _DELETE_ENTRY, (option_id, entry)


def deleted_entries(statements: Iterable[Statement]) -> set[str]:
    """The entries that these statements delete."""
    return {params[-1] for cql, params in statements if cql == _DELETE_ENTRY}


def restore_seats(option_id: UUID, row: Row) -> Statement:
    """Write the seat state of an archived ledger row, closed, unless the option has one."""
    statics = {column: row[column] for column in _STATIC_COLUMNS} | {"is_open": False}
    return _RESTORE_SEATS, (option_id, *statics.values())


def restore_entry(option_id: UUID, row: Row) -> Statement:
    """Write back an archived ledger row's entry with the columns it has."""
    columns = [column for column in _ROW_COLUMNS if row.get(column) is not None]
    return (
        f"INSERT INTO signup_ledger (option_id, entry, {', '.join(columns)}) "
        f"VALUES (?, ?, {', '.join('?' for _ in columns)})",
        (option_id, row["entry"], *(row[column] for column in columns)),
    )


def claim_of(rows: Iterable[Row], key: str, contact: str) -> Row | None:
    """Among ledger rows, the claim of idempotency ``key``, else the claim of ``contact``."""
    claims = {row["entry"]: row for row in rows if row.get("entry")}
    return claims.get(key_entry(key)) or claims.get(contact_entry(contact))


def seats_from(option_id: UUID, row: Row) -> Seats:
    """The seat state in a row with the ledger's static columns."""
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


def registration_from(seats: Seats, row: Row) -> Registration:
    """The registration in a ledger row of the option at ``seats``."""
    return Registration(
        ref=make_ref(seats.ref_prefix, row.get("code"), row["number"]),
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
