"""The SMS conversation: what one text from a member does, and what Gather answers.

::

    EVENTS                      the upcoming open events and their codes
    <CODE> | JOIN <CODE> [n] [name]
                                sign up (the sender's number is the contact); with several
                                options "Reply 1 for ..., 2 for ..."; with no name known for
                                the number, "what name?" (remembered for next time)
    STATUS                      the number's upcoming registrations
    CANCEL <REF>                cancel that registration, when it is this number's
    STOP, CANCEL, END, ...      opt out: recorded, confirmed once (unless the provider does)
    START, YES, UNSTOP          opt in again
    HELP, INFO                  who we are and how to reach a person (even when opted out)
    anything else               a one-line hint; the message needs a person

A question's state (which option? what name?) is kept in Cassandra with a time to live
(:mod:`storage.sms_senders`), so any sms node can take the answer. Sign-ups use the shared
rules (:mod:`signups`) with the provider's message id as the idempotency key, so a retried
message signs up once. Nothing is answered to an opted-out number but HELP and START.

:meth:`Conversation.answer` runs on the webhook's IOLoop: a sign-up's reads and its flow are
awaited there; the rarer commands' blocking storage calls go to the service's thread pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import signups
from config.cluster import SiteConfig, SmsConfig
from signups import Client, explain
from sms import commands, replies
from sms.catalog import Catalog
from storage import validate
from storage.errors import ClosedError, NotFound, Refused, ValidationError
from storage.events import Event, SignupOption
from storage.flow import Query
from storage.registrations import MAX_NAME
from storage.sms_senders import Sender, SmsSenders, sender_of
from storage.store import Store

Blocking = Callable[..., Awaitable[Any]]
"""Runs ``work(*args)`` off the IOLoop and awaits its result (``SmsService.blocking``)."""
Read = list[dict[str, Any]] | BaseException
"""A read awaited with ``return_exceptions``: its rows, or its error."""
Lookup = asyncio.Future[tuple[Read, Read]]
"""A sender's two reads in flight (:meth:`Conversation.read_sender`)."""


@dataclass(frozen=True)
class Outcome:
    """What a text did (one of :data:`storage.sms_messages.ACTIONS`) and the reply to send
    (None: nothing)."""

    action: str
    reply: str | None
    writes: tuple[Query, ...] = ()
    """Writes to store with the message (in its batch): the sender's state settled."""


class Conversation:
    """Answers texts from members, with ``store`` (one per text: the node's store is replaced
    when its connection restarts), the node's shared ``catalog`` and ``blocking`` for the
    storage calls that block."""

    def __init__(
        self,
        store: Store,
        site: SiteConfig,
        sms: SmsConfig,
        catalog: Catalog,
        blocking: Blocking,
    ) -> None:
        self._store = store
        self._site = site
        self._sms = sms
        self.catalog = catalog
        self._blocking = blocking

    def read_sender(self, sender: str) -> Lookup:
        """Start the two reads every text from ``sender`` (E.164) needs, both in flight at
        once: is the number opted out, and its remembered name and pending question. Give
        them to :meth:`answer`; started early, they overlap what the caller does meanwhile
        (the webhook claims the message's provider id)."""
        db = self._store.db
        return asyncio.gather(
            db.query_async(self._store.sms_optouts.lookup(sender)),
            db.query_async(SmsSenders.lookup(sender)),
            return_exceptions=True,  # the sender's read only fails a text that needs it
        )

    async def answer(self, sender: str, body: str, key: str, lookup: Lookup) -> Outcome:
        """What the text ``body`` from ``sender`` (E.164) does, with :meth:`read_sender`'s reads
        for ``sender``; ``key`` is unique to this message (the provider's id): doing it again
        changes nothing more."""
        command = commands.read(body)
        asked, getting = await lookup
        opted_out = bool(_answered(asked))
        match command:
            case commands.OptOut(word=word):
                return await self._blocking(self._opt_out, sender, word, opted_out)
            case commands.OptIn():
                await self._blocking(self._store.sms_optouts.opt_in, sender)
                quiet = self._sms.provider_opt_outs
                return Outcome("opted_in", None if quiet else replies.opted_in(self._site))
            case commands.Help():
                return Outcome("help", replies.help_text(self._site))
        if opted_out:
            return Outcome("ignored", None)
        if isinstance(command, commands.Unreadable):
            return Outcome("unreadable", replies.unreadable(command.problem))
        state = sender_of(sender, _answered(getting))
        match command:
            case commands.Events():
                upcoming = [event for event, _ in await self.catalog.upcoming(self._store)]
                return Outcome("events", replies.events(upcoming, self._site))
            case commands.Status():
                return await self._status(sender)
            case commands.Cancel(ref=ref):
                return await self._blocking(self._cancel, sender, ref)
            case commands.Join(alone=True) if _question(state) == "name":
                return await self._named(state, body.strip(), key)  # a one-word name: "Ada"
            case commands.Join():
                explicit = body.split()[0].upper() == "JOIN"
                return await self._join(state, command, key, explicit)
            case commands.Choice(number=number) if _question(state) == "option":
                return await self._choose(state, number, key)
            case commands.Text(text=text) if _question(state) == "name" and text:
                return await self._named(state, text, key)
        return Outcome("needs_person", replies.hint())

    def _opt_out(self, sender: str, word: str, already: bool) -> Outcome:
        self._store.sms_optouts.opt_out(sender, word)
        confirm = not (already or self._sms.provider_opt_outs)
        reply = replies.opted_out(self._site) if confirm else None
        return Outcome("opted_out", reply, (SmsSenders.settling(sender),))

    async def _status(self, sender: str) -> Outcome:
        upcoming = await self.catalog.upcoming(self._store)
        events = {option.option_id: event for event, options in upcoming for option in options}
        held = await self._blocking(self._store.registrations.held_by, sender, events)
        pairs = [(registration, events[registration.option_id]) for registration in held]
        pairs.sort(key=lambda pair: (pair[1].starts_at, pair[0].ref))
        return Outcome("status", replies.status(pairs))

    def _cancel(self, sender: str, ref: str) -> Outcome:
        try:
            registration = signups.cancel(self._store, Client.sms(sender), ref, sender)
        except NotFound:
            return Outcome("refused", replies.not_yours(ref))
        except Refused as refused:
            return Outcome("refused", replies.refused(explain(refused)))
        event = self._store.events.get(registration.event_id)
        return Outcome("cancelled", replies.cancelled(registration, event))

    async def _join(self, state: Sender, join: commands.Join, key: str, explicit: bool) -> Outcome:
        found = await self.catalog.by_code(self._store, join.code)
        if isinstance(found, Event):
            return Outcome("refused", replies.refused(explain(ClosedError(join.code))))
        if found is None:
            if explicit:
                return Outcome("refused", replies.unknown_code(join.code))
            return Outcome("needs_person", replies.hint())
        event, options = found
        open_options = [option for option in options if option.seats.is_open]
        if not open_options:
            return Outcome("refused", replies.refused(explain(ClosedError(join.code))))
        if len(open_options) > 1:
            await self._ask(
                state,
                {
                    "q": "option",
                    "event": str(event.event_id),
                    "options": [str(option.option_id) for option in open_options],
                    "party": join.party,
                    "name": join.name,
                },
            )
            return Outcome("asked_option", replies.ask_option(event, open_options))
        return await self._sign_up(state, event, open_options[0], join.party, join.name, key)

    async def _choose(self, state: Sender, number: int, key: str) -> Outcome:
        pending = state.pending or {}
        choices: list[str] = pending.get("options", [])
        found = await self.catalog.by_id(self._store, UUID(pending["event"]))
        if found is None:
            closed = replies.refused(explain(ClosedError("event")))
            return Outcome("refused", closed, _settling(state, None))
        if not 1 <= number <= len(choices):
            return Outcome("asked_option", replies.bad_choice(len(choices)))
        event, options = found
        option = _option(options, choices[number - 1])
        if option is None:
            return Outcome("refused", replies.refused(explain(ClosedError("option"))))
        return await self._sign_up(state, event, option, pending["party"], pending.get("name"), key)

    async def _named(self, state: Sender, text: str, key: str) -> Outcome:
        pending = state.pending or {}
        found = await self.catalog.by_id(self._store, UUID(pending["event"]))
        option = None if found is None else _option(found[1], pending["option"])
        if found is None or option is None:
            closed = replies.refused(explain(ClosedError("event")))
            return Outcome("refused", closed, _settling(state, None))
        return await self._sign_up(state, found[0], option, pending["party"], text, key)

    async def _sign_up(
        self,
        state: Sender,
        event: Event,
        option: SignupOption,
        party: int,
        name: str | None,
        key: str,
    ) -> Outcome:
        name = name or state.name
        if name is None:
            question = {"q": "name", "event": str(event.event_id)}
            await self._ask(state, question | {"option": str(option.option_id), "party": party})
            return Outcome("asked_name", replies.ask_name(event))
        try:
            name = validate.text("name", name, max_len=MAX_NAME)
            signing_up = signups.signing_up(
                self._store,
                Client.sms(state.phone),
                option.option_id,
                name,
                state.phone,
                party,
                key=key,
                event_id=event.event_id,
                contact_proven=True,
            )
            result = await self._store.db.run_async(signing_up)
        except ValidationError as invalid:
            return Outcome("refused", replies.refused(explain(invalid)))
        except Refused as refused:
            return Outcome("refused", replies.refused(explain(refused)), _settling(state, None))
        registration = result.registration
        position = None  # a confirmed sign-up's position is None: no read for it
        if registration.status == "waitlisted":
            position = await self._blocking(signups.waitlist_position, self._store, registration)
        action = "waitlisted" if registration.status == "waitlisted" else "signed_up"
        reply = replies.signed_up(registration, event, position)
        return Outcome(action, reply, _settling(state, name))

    async def _ask(self, state: Sender, question: dict[str, Any]) -> None:
        ttl_s = self._sms.conversation_ttl_s
        await self._blocking(self._store.sms_senders.ask, state.phone, question, ttl_s)


def _answered(read: Read) -> list[dict[str, Any]]:
    """The rows of a read awaited with ``return_exceptions``; its error raised now."""
    if isinstance(read, BaseException):
        raise read
    return read


def _settling(state: Sender, name: str | None) -> tuple[Query, ...]:
    """Forget the pending question and remember a new name (one write, or none)."""
    new_name = name if name is not None and name != state.name else None
    if state.pending is None and new_name is None:
        return ()
    return (SmsSenders.settling(state.phone, new_name),)


def _question(state: Sender) -> str | None:
    return None if state.pending is None else state.pending.get("q")


def _option(options: list[SignupOption], option_id: str) -> SignupOption | None:
    return next((option for option in options if str(option.option_id) == option_id), None)
