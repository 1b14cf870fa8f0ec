"""The upcoming events and their options as the SMS conversation reads them, cached briefly.

Every sign-up text names an event by its code; reading the events and their options from
Cassandra for each one would double what a text costs. The catalog keeps them for
:data:`FRESH_S` seconds (what a change made in the management UI takes to reach a text); the
seats themselves are always the ledger's, read by the sign-up, so a stale catalog never lets a
sign-up through that the ledger refuses.

Thread-safe: the webhook's worker threads share one; a refresh is made by one of them while
the others go on with the list it replaces.
"""

from __future__ import annotations

import logging
import threading
import time
from uuid import UUID

from signups import upcoming_with_options
from storage import times
from storage.errors import NotFound, ValidationError
from storage.events import Event, SignupOption
from storage.store import Store
from storage.validate import SMS_KEYWORDS

log = logging.getLogger("gather.sms")

FRESH_S = 5.0


class Catalog:
    """Upcoming open events by code, refreshed when older than :data:`FRESH_S`."""

    def __init__(self) -> None:
        self._refreshing = threading.Lock()
        self._events: list[tuple[Event, list[SignupOption]]] | None = None
        self._loaded_at = -FRESH_S
        self._read_at = times.now()
        self._warned: set[UUID] = set()

    def upcoming(
        self, store: Store, fresh_s: float = FRESH_S
    ) -> list[tuple[Event, list[SignupOption]]]:
        """The upcoming open events by start time, each with its options, read again when
        older than ``fresh_s``. While one thread reads them, the others go on with the list
        it replaces (a text does not wait for a refresh); only with no list yet, or a forced
        refresh (``fresh_s`` below :data:`FRESH_S`), do they wait for it."""
        events = self._events
        if events is not None and time.monotonic() - self._loaded_at < fresh_s:
            return events
        waits = events is None or fresh_s < FRESH_S
        if not self._refreshing.acquire(blocking=waits):
            assert events is not None  # only a thread with a list to serve does not wait
            return events
        try:
            if self._events is not events and time.monotonic() - self._loaded_at < fresh_s:
                return self._events or []  # another thread refreshed it meanwhile
            read_at = times.now()
            loaded = upcoming_with_options(store)
            self._events, self._loaded_at, self._read_at = loaded, time.monotonic(), read_at
            self._warn_of_keywords(loaded)
            return loaded
        finally:
            self._refreshing.release()

    def by_code(self, store: Store, code: str) -> tuple[Event, list[SignupOption]] | Event | None:
        """The upcoming event with short code ``code`` and its options; the event alone when
        it is not upcoming (closed, or over); None when no event has the code."""
        found = next(((e, o) for e, o in self.upcoming(store) if e.short_code == code), None)
        if found is not None:
            return found
        try:
            event = store.events.by_code(code)
        except (NotFound, ValidationError):  # no such code, or none could be one
            return None
        if event.updated_at < self._read_at:  # not changed since: closed, or over
            return event
        upcoming = self.upcoming(store, fresh_s=0)  # new since the catalog was read
        return next(((e, o) for e, o in upcoming if e.short_code == code), event)

    def by_id(self, store: Store, event_id: UUID) -> tuple[Event, list[SignupOption]] | None:
        """The upcoming event ``event_id`` and its options, if it still is one."""
        return next(((e, o) for e, o in self.upcoming(store) if e.event_id == event_id), None)

    def _warn_of_keywords(self, events: list[tuple[Event, list[SignupOption]]]) -> None:
        """Log once each event whose code is an SMS keyword (made before codes were checked):
        a text of it is read as the keyword, so members cannot sign up for it by text."""
        for event, _ in events:
            if event.short_code in SMS_KEYWORDS and event.event_id not in self._warned:
                self._warned.add(event.event_id)
                log.warning(
                    "event %s has the short code %s, an SMS keyword: members cannot text it; "
                    "give it another code in the management UI",
                    event.event_id,
                    event.short_code,
                )
