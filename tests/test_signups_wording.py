"""The words every frontend shows for a refusal, an outage or a count of seats
(signups.wording)."""

from __future__ import annotations

import uuid

import pytest

from signups import explain, seats
from storage.errors import (
    AlreadySignedUp,
    CassandraUnavailable,
    ClosedError,
    Conflict,
    CorruptData,
    FullError,
    NotConnected,
    NotFound,
    StorageError,
    Throttled,
    ValidationError,
    WriteUncertain,
)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ValidationError("party_size", "must be from 1 to 20"), "Party size must be from 1 to 20."),
        (FullError("only 0 seat(s) left"), "That option is full."),
        (ClosedError("not taking sign-ups"), "Sign-ups for this event are closed."),
        (AlreadySignedUp(uuid.uuid4()), "already signed up for this option"),
        (Conflict("KQMT-7KQ2MX is not first on the waitlist"), "KQMT-7KQ2MX is not first on"),
        (Throttled(299), "try again in 5 min."),
        (NotConnected("storage is starting"), "out of reach; please try again shortly."),
        (WriteUncertain("timed out"), "did not answer in time; please try again."),
        (CassandraUnavailable("no node"), "did not answer in time"),
        (CorruptData("bad row"), "Something went wrong on our side"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, StorageError) else "",
)
def test_every_outcome_has_a_sentence_for_the_member(error: StorageError, words: str) -> None:
    said = explain(error)
    assert words in said and said.endswith(".") and said[0].isupper()


def test_a_registration_not_found_is_named() -> None:
    assert explain(NotFound("registration", "KQMT-7KQ2MX")).startswith("There is no registration")


def test_a_count_of_seats_is_singular_for_one() -> None:
    assert [seats(n) for n in (0, 1, 2)] == ["0 seats", "1 seat", "2 seats"]
