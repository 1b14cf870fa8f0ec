"""The upcoming events and their options as the SMS conversation reads them, cached briefly.

Every sign-up text names an event by its code; reading the events and their options from
Cassandra for each one would double what a text costs. The catalog keeps them for
:data:`FRESH_S` seconds (what a change made in the management UI takes to reach a text); the
seats themselves are always the ledger's, read by the sign-up, so a stale catalog never lets a
sign-up through that the ledger refuses.

A refresh scans the events' states and reads again only the events that changed since (with
their options: an option's change touches its event), keeping the others' options and seats
(``signups.upcoming_with_options``); every :data:`FULL_S` seconds it reads them all again.

Used on the webhook's IOLoop only; the reads run off it (``SmsService.blocking``). A stale
list is refreshed in the background while texts go on with it, so no text waits for a
refresh but the first ones and those that force one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from signups import Upcoming, upcoming_with_options
from storage import times
from storage.errors import NotFound, StorageError, ValidationError
from storage.events import Event, SignupOption
from storage.store import Store
from storage.validate import SMS_KEYWORDS

log = logging.getLogger("gather.sms")

FRESH_S = 5.0
FULL_S = 60.0
"""How old the options and seats of an unchanged event may get before a refresh reads them
again (their open state follows the event's, read every :data:`FRESH_S`)."""
Read = tuple[datetime, float, Upcoming]
"""A read of the catalog: when it started (UTC, and monotonic) and what it found."""


class Catalog:
    """Upcoming open events by code, refreshed when older than :data:`FRESH_S`; its reads
    run through ``blocking`` (``work(*args)`` off the loop, awaited)."""

    def __init__(self, blocking: Callable[..., Awaitable[Any]]) -> None:
        self._blocking = blocking
        self._events: Upcoming | None = None
        self._loaded_at = -FRESH_S
        self._full_at = -FULL_S
        """When (monotonic) the last read that read every event whole began."""
        self._read_at = times.now()
        self._refresh: asyncio.Future[Upcoming] | None = None
        self._warned: set[UUID] = set()

    async def upcoming(self, store: Store, fresh_s: float = FRESH_S) -> Upcoming:
        """The upcoming open events by start time, each with its options, read again when
        older than ``fresh_s``. A stale list is served while one refresh reads the next in
        the background; only with no list yet (the texts meanwhile share one read), or a
        forced refresh (``fresh_s`` below :data:`FRESH_S`: a read that starts now), does a
        text wait for it."""
        events = self._events
        if events is not None and time.monotonic() - self._loaded_at < fresh_s:
            return events
        if fresh_s < FRESH_S:
            return await self._read(store)
        if self._refresh is None:
            self._refresh = asyncio.ensure_future(self._read(store))
            self._refresh.add_done_callback(self._refreshed)
        if events is not None:
            return events
        return await asyncio.shield(self._refresh)

    async def by_code(
        self, store: Store, code: str
    ) -> tuple[Event, list[SignupOption]] | Event | None:
        """The upcoming event with short code ``code`` and its options; the event alone when
        it is not upcoming (closed, or over); None when no event has the code."""
        found = next(((e, o) for e, o in await self.upcoming(store) if e.short_code == code), None)
        if found is not None:
            return found
        try:
            event = await self._blocking(store.events.by_code, code)
        except (NotFound, ValidationError):  # no such code, or none could be one
            return None
        if event.updated_at < self._read_at:  # not changed since: closed, or over
            return event
        upcoming = await self.upcoming(store, fresh_s=0)  # new since the catalog was read
        return next(((e, o) for e, o in upcoming if e.short_code == code), event)

    async def by_id(self, store: Store, event_id: UUID) -> tuple[Event, list[SignupOption]] | None:
        """The upcoming event ``event_id`` and its options, if it still is one."""
        upcoming = await self.upcoming(store)
        return next(((e, o) for e, o in upcoming if e.event_id == event_id), None)

    async def _read(self, store: Store) -> Upcoming:
        """Read the catalog off the loop and keep it, unless a read started later was kept
        first; what this read found."""
        began = time.monotonic()
        known = self._events if began - self._full_at < FULL_S else None
        read_at, loaded_at, loaded = await self._blocking(_reading, store, known or ())
        if known is None:
            self._full_at = max(self._full_at, began)
        if read_at >= self._read_at:
            self._events, self._loaded_at, self._read_at = loaded, loaded_at, read_at
            self._warn_of_keywords(loaded)
        return loaded

    def _refreshed(self, refresh: asyncio.Future[Upcoming]) -> None:
        """A refresh ended: the next stale text starts another; a failed one is logged (the
        list it was to replace stays in use)."""
        self._refresh = None
        if refresh.cancelled():
            return
        failure = refresh.exception()
        if isinstance(failure, StorageError):
            log.warning("the SMS catalog was not refreshed: %s", failure)
        elif failure is not None:
            log.error("the SMS catalog was not refreshed", exc_info=failure)

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


def _reading(store: Store, known: Sequence[tuple[Event, list[SignupOption]]]) -> Read:
    """Read the upcoming events and their options, those of ``known`` unchanged kept
    (blocking)."""
    read_at = times.now()
    loaded = upcoming_with_options(store, known)
    return read_at, time.monotonic(), loaded
