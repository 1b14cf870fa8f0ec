"""Storage flows on the real cluster: the same generator run blocking and on an asyncio loop."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import pytest
from cassandra import InvalidRequest

from config.cluster import ClusterConfig
from storage.flow import Flow, Pause, Query
from storage.session import Database
from storage.store import Store
from tests.helpers import make_event


def _two_reads_and_a_pause(short_code: str) -> Flow[tuple[int, float]]:
    started = time.monotonic()
    first = yield Query("SELECT event_id FROM event_codes WHERE short_code = ?", (short_code,))
    yield Pause(0.05)
    second = yield Query("SELECT release_version FROM system.local")
    return len(first) + len(second), time.monotonic() - started


def test_a_flow_gives_the_same_answer_blocking_and_on_a_loop(store: Store, short_code: str) -> None:
    make_event(store, short_code)
    found, waited = store.db.run(_two_reads_and_a_pause(short_code))
    found_async, waited_async = asyncio.run(store.db.run_async(_two_reads_and_a_pause(short_code)))
    assert found == found_async == 2
    assert waited >= 0.05 and waited_async >= 0.05


def test_a_sign_up_on_a_loop_is_the_same_sign_up(store: Store, short_code: str) -> None:
    _, option = make_event(store, short_code, capacity=1, waitlist=True)

    async def both() -> list:
        return [
            await store.db.run_async(
                store.registrations.signing_up(option.option_id, "Ada", "ada@example.org")
            ),
            await store.db.run_async(
                store.registrations.signing_up(option.option_id, "Bo", "bo@example.org")
            ),
        ]

    ada, bo = asyncio.run(both())
    assert ada.created and ada.registration.status == "confirmed"
    assert bo.created and bo.registration.status == "waitlisted"
    again = store.registrations.sign_up(option.option_id, "Ada", "ada@example.org")
    assert not again.created and again.registration == ada.registration
    assert store.registrations.seats(option.option_id).waiting == 1


def test_a_result_of_many_pages_arrives_whole_on_a_loop(
    store: Store, config: ClusterConfig
) -> None:
    option_id = uuid4()
    rows = 25
    for number in range(rows):
        store.db.execute(
            "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, ?, ?)",
            (option_id, f"r:{number:09d}", number),
            op="write",
        )
    with Database(config, store.db.keyspace, page_size=4) as paged:  # 25 rows in 7 pages
        found = asyncio.run(
            paged.execute_async(
                "SELECT number FROM signup_ledger WHERE option_id = ?", (option_id,)
            )
        )
    assert [row["number"] for row in found] == list(range(rows))


def test_a_malformed_statement_is_raised_as_it_is_not_as_an_outage(store: Store) -> None:
    def bad() -> Flow[None]:
        yield Query("SELECT no_such_column FROM system.local")

    with pytest.raises(InvalidRequest):
        store.db.run(bad())
    with pytest.raises(InvalidRequest):
        asyncio.run(store.db.run_async(bad()))


def test_a_statement_without_rows_answers_an_empty_list_on_a_loop(store: Store) -> None:
    insert = "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, ?, ?)"
    params = (uuid4(), "r:000000001", 1)
    assert asyncio.run(store.db.execute_async(insert, params, op="write")) == []
    assert store.db.execute(insert, params, op="write") == []


def test_a_flow_yielding_something_else_is_a_type_error(store: Store) -> None:
    closed = []

    def wrong() -> Flow[None]:
        try:
            yield "SELECT now() FROM system.local"  # type: ignore[misc]
        finally:
            closed.append(True)

    with pytest.raises(TypeError, match="not a Query or a Pause"):
        store.db.run(wrong())
    with pytest.raises(TypeError, match="not a Query or a Pause"):
        asyncio.run(store.db.run_async(wrong()))
    assert closed == [True, True]
