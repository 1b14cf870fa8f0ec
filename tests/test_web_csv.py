"""The registrations CSV: formula-safe cells, written in pieces (formatted off the IOLoop)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

from storage.events import SignupOption
from storage.registrations import Registration, Seats
from web.admin.registrations import CSV_PIECE_ROWS, csv_cell, csv_lines


def _registration(number: int, name: str) -> Registration:
    moment = datetime(2031, 5, 1, tzinfo=UTC)
    return Registration(
        ref=f"ABCD-{number}",
        event_id=uuid.uuid4(),
        option_id=uuid.uuid4(),
        number=number,
        name=name,
        contact="+15550100000",
        party_size=1,
        channel="web",
        node="n",
        idempotency_key=str(number),
        status="confirmed",
        created_at=moment,
        updated_at=moment,
    )


def _option(label: str) -> SignupOption:
    option_id, event_id = uuid.uuid4(), uuid.uuid4()
    seats = Seats(option_id, event_id, "ABCD", 10, True, True, 0, 0, 0, 0)
    return SignupOption(option_id, event_id, label, 0, seats)


def test_a_long_export_comes_in_pieces_and_reads_back_whole() -> None:
    count = CSV_PIECE_ROWS * 2 + 5
    per_option = [
        (_option("Morning"), [_registration(n, f"M{n}") for n in range(count - 5)]),
        (_option("=Evening"), [_registration(n, "@sum") for n in range(5)]),
    ]
    pieces = list(csv_lines(per_option))
    assert len(pieces) == 3
    rows = list(csv.reader(io.StringIO("".join(pieces))))
    assert rows[0][:4] == ["ref", "option", "status", "name"] and len(rows) == count + 1
    assert rows[-1][1:4] == ["'=Evening", "confirmed", "'@sum"]


def test_a_formula_behind_format_characters_is_still_no_formula() -> None:
    assert csv_cell("\u202e=HYPERLINK(1)") == "'\u202e=HYPERLINK(1)"
    assert csv_cell("\tx") == "'\tx"
    assert csv_cell("Ada") == "Ada"
