"""Events and options: fields validated, short codes unique, archive and restore with
registrations."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster
from cassandra.query import SimpleStatement

from config.cluster import ClusterConfig
from storage.errors import Conflict, NotFound, ValidationError
from storage.events import Event
from storage.session import PROTOCOL_VERSION
from storage.store import Store
from tests.helpers import STORAGE_TEST_KEYSPACE, wait_until

START = datetime(2030, 9, 12, 9, tzinfo=UTC)


def _event(store: Store, code: str, **changes: Any) -> Event:
    fields: dict[str, Any] = {
        "title": "Harvest fair",
        "starts_at": START,
        "ends_at": START + timedelta(hours=8),
        "time_zone": "America/Denver",
        "short_code": code,
        "description": "Bring a dish.\nAll welcome.",
        "location": "Town green",
    } | changes
    return store.events.create(**fields)


def test_create_read_list_and_update(store: Store, short_code: str) -> None:
    icon = uuid.uuid4()
    event = _event(store, short_code.lower(), icon_asset=icon)
    assert event.short_code == short_code
    assert store.events.get(event.event_id) == event
    assert store.events.by_code(short_code.lower()) == event
    assert event in store.events.list()

    renamed = store.events.update(
        event.event_id, title="Harvest fair 2030", short_code=short_code + "X"
    )
    assert renamed.title == "Harvest fair 2030" and renamed.icon_asset == icon
    assert store.events.by_code(short_code + "X").event_id == event.event_id
    with pytest.raises(NotFound):
        store.events.by_code(short_code)  # the old code is free again
    _event(store, short_code)


def _after_the_next_read(
    store: Store, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[uuid.UUID], object]
) -> None:
    """Run ``meanwhile`` (another admin's change) right after the next read of an event."""
    read = store.events.get

    def read_then_changed(event_id: uuid.UUID) -> Event:
        found = read(event_id)
        monkeypatch.undo()
        meanwhile(event_id)
        return found

    monkeypatch.setattr(store.events, "get", read_then_changed)


def test_an_edit_never_reopens_an_event_closed_while_it_was_made(
    store: Store, short_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = _event(store, short_code)
    _after_the_next_read(store, monkeypatch, lambda e: store.events.set_open(e, False))
    store.events.update(event.event_id, title="Harvest fair, edited")
    after = store.events.get(event.event_id)
    assert after.title == "Harvest fair, edited" and not after.is_open


def test_an_edit_of_an_event_deleted_while_it_was_made_is_not_found_and_writes_nothing(
    store: Store, short_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = _event(store, short_code)
    _after_the_next_read(store, monkeypatch, store.events.delete)
    with pytest.raises(NotFound):
        store.events.update(event.event_id, title="Too late", short_code=short_code + "Y")
    with pytest.raises(NotFound):
        store.events.get(event.event_id)
    with pytest.raises(NotFound):
        store.events.by_code(short_code + "Y")


def test_short_codes_belong_to_one_event(store: Store, short_code: str) -> None:
    _event(store, short_code)
    with pytest.raises(Conflict):
        _event(store, short_code)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"short_code": "P"}, "short_code"),
        ({"time_zone": "Nowhere/Land"}, "time_zone"),
        ({"starts_at": datetime(2030, 1, 1)}, "starts_at"),
        ({"ends_at": START - timedelta(minutes=1)}, "ends_at"),
        ({"icon_asset": "logo.png"}, "icon_asset"),
        ({"location": "x" * 301}, "location"),
    ],
)
def test_invalid_events_name_the_field_and_write_nothing(
    store: Store, short_code: str, changes: dict, field: str
) -> None:
    before = len(store.events.list())
    with pytest.raises(ValidationError) as failure:
        _event(store, short_code, **changes)
    assert failure.value.field == field
    assert len(store.events.list()) == before


def test_options_validate_and_list_in_order(store: Store, short_code: str) -> None:
    event = _event(store, short_code)
    setup = store.events.add_option(event.event_id, "Volunteer: setup", 4)
    lunch = store.events.add_option(event.event_id, "Saturday lunch", 40, waitlist=True, position=0)
    assert [o.label for o in store.events.options(event.event_id)] == [
        "Saturday lunch",
        "Volunteer: setup",
    ]
    assert lunch.seats.capacity == 40 and lunch.seats.waitlist and setup.seats.free == 4
    with pytest.raises(ValidationError) as failure:
        store.events.add_option(event.event_id, "Too many", -1)
    assert failure.value.field == "capacity"
    with pytest.raises(ValidationError):
        store.events.add_option(event.event_id, "", 3)
    with pytest.raises(NotFound):
        store.events.add_option(uuid.uuid4(), "Nobody's", 3)
    assert len(store.events.options(event.event_id)) == 2


def test_delete_archives_the_event_with_its_registrations_and_restore_brings_it_back(
    store: Store, short_code: str
) -> None:
    event = _event(store, short_code)
    lunch = store.events.add_option(event.event_id, "Lunch", 2, waitlist=True)
    setup = store.events.add_option(event.event_id, "Setup", 5)
    sign_up = store.registrations.sign_up
    ada = sign_up(lunch.option_id, "Ada", "+15554010001", 2, "kiosk", "a").registration
    bo = sign_up(lunch.option_id, "Bo", "bo@example.org", 1, "sms", "b").registration
    cy = sign_up(setup.option_id, "Cy", "+15554010003", 1, "web", "c").registration
    event = store.events.get(event.event_id)  # as its options left it (they touch it)

    entry = store.events.delete(event.event_id)
    assert entry.path.exists() and entry.kind == "event" and entry.label == "Harvest fair"
    assert entry in store.archive.entries("event")
    with pytest.raises(NotFound):
        store.events.get(event.event_id)
    with pytest.raises(NotFound):
        store.events.by_code(short_code)
    with pytest.raises(NotFound):
        store.registrations.get(ada.ref)
    assert store.registrations.registrations(lunch.option_id) == []

    restored = store.events.restore(entry)
    assert restored == event
    assert store.events.by_code(short_code) == event
    assert [o.label for o in store.events.options(event.event_id)] == ["Lunch", "Setup"]
    for registration in (ada, bo, cy):
        assert store.registrations.get(registration.ref) == registration
    seats = store.registrations.seats(lunch.option_id)
    assert (seats.taken, seats.waiting, seats.is_open) == (2, 1, True)
    # the restored ledger goes on where it stopped: same person, same key, waitlist order
    assert sign_up(lunch.option_id, "Ada", "+15554010001", idempotency_key="a").registration == ada
    promoted = store.registrations.cancel(ada.ref).promoted
    assert [r.ref for r in promoted] == [bo.ref]
    with pytest.raises(Conflict):
        store.events.restore(entry)


def test_a_new_events_empty_fields_leave_no_tombstones(
    config: ClusterConfig, store: Store, short_code: str
) -> None:
    """Every catalog scans the events table: a null written for an empty field would be a
    tombstone each scan reads (Cassandra warns past 1,000 and fails a read past 100,000)."""
    event = _event(store, short_code)  # no icon, no background, not cancelled
    assert (event.icon_asset, event.background_asset, event.cancelled_at) == (None, None, None)
    cassandra = config.cassandra
    cluster = Cluster(
        list(cassandra.contact_points), port=cassandra.port, protocol_version=PROTOCOL_VERSION
    )
    try:
        session = cluster.connect(STORAGE_TEST_KEYSPACE)
        read = SimpleStatement(
            "SELECT * FROM events WHERE event_id = %s", consistency_level=ConsistencyLevel.ALL
        )
        trace = session.execute(read, (event.event_id,), trace=True).get_query_trace()

        def counts() -> list[str]:  # each replica's events reach the trace in their own time
            trace.populate(max_wait=10)
            return [e.description for e in trace.events if " tombstone cells" in e.description]

        wait_until(
            lambda: len(counts()) == cassandra.replication_factor, what="every replica's read"
        )
        found = counts()
    finally:
        cluster.shutdown()
    assert all(count == "Read 1 live rows and 0 tombstone cells" for count in found), found
