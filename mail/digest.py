"""What happened in one period, read for the digest: texts, sign-ups, promotions, opt-outs.

Two scans, each read in pages and folded as it goes, so memory grows with the number of
senders and options in the period, never with the number of messages or registrations:

- the SMS day buckets the period touches (``SmsMessages.rows_since``; a message is made only
  of the rows the digest keeps): per sender, what its texts did; the texts that need a
  person in full (up to ``max_listed``, the count of the rest); the newest few of the
  others; opt-outs; texts Gather sent;
- the sign-up ledger, the whole table (token order, ``report`` consistency): per option, the
  registrations made in the period by channel (and their seats), the cancellations and the
  promotions off the waitlist in it, and the option's seats now (its static columns). A
  promotion is a confirmed registration changed in the period after it was made (a
  registration row changes only when it is promoted or cancelled). An option *filled up* in
  the period when it is full now and took a sign-up in it.

Blocking (a worker or actor thread); reads only.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from mail.period import Period
from storage import times
from storage.events import Event
from storage.session import Row
from storage.sms_messages import SmsMessage
from storage.store import Store

NEWEST = 5
"""Texts shown besides those that need a person: the newest of the period."""
TOP_SENDERS = 20
"""Senders listed by name in the digest; the rest are counted, and linked."""
CHANNELS = ("kiosk", "web", "sms")

_LEDGER = (
    "SELECT option_id, entry, event_id, capacity, taken, waiting, status, channel, party_size, "
    "created_at, updated_at FROM signup_ledger"
)


@dataclass
class SenderActivity:
    """One number's texts in the period: how many, and what they did."""

    number: str
    texts: int = 0
    actions: Counter[str] = field(default_factory=Counter)


@dataclass
class OptionActivity:
    """One option's period: new registrations by channel, cancellations, promotions, and
    its seats now."""

    option_id: UUID
    event_id: UUID | None
    capacity: int = 0
    taken: int = 0
    waiting: int = 0
    signed_up: Counter[str] = field(default_factory=Counter)
    """Registrations made in the period, by channel (whatever their status now)."""
    seats: int = 0
    """Seats of the new registrations (their party sizes)."""
    waitlisted: int = 0
    """New registrations that are on the waitlist now."""
    cancelled: int = 0
    promoted: int = 0

    @property
    def seats_left(self) -> int:
        """Seats still free."""
        return max(0, self.capacity - self.taken)

    @property
    def filled_up(self) -> bool:
        """Full now, and took a sign-up in the period."""
        return (
            self.capacity > 0 and self.taken >= self.capacity and sum(self.signed_up.values()) > 0
        )

    @property
    def active(self) -> bool:
        """Something happened to it in the period."""
        return bool(self.signed_up or self.cancelled or self.promoted)


@dataclass
class Digest:
    """One period's digest, as read (rendered by :mod:`mail.render`)."""

    period: Period
    texts_in: int = 0
    texts_out: int = 0
    needing_person: list[SmsMessage] = field(default_factory=list)
    """The texts that need a person, oldest first, at most ``max_listed``."""
    more_needing_person: int = 0
    newest: list[SmsMessage] = field(default_factory=list)
    """The newest texts in that do not need a person, newest first."""
    senders: list[SenderActivity] = field(default_factory=list)
    """The busiest senders, at most :data:`TOP_SENDERS`."""
    sender_count: int = 0
    opt_outs: list[str] = field(default_factory=list)
    """Numbers that opted out in the period (at most ``max_listed``)."""
    opt_out_count: int = 0
    options: list[OptionActivity] = field(default_factory=list)
    """The options something happened to, by event then option."""
    events: dict[UUID, Event] = field(default_factory=dict)
    labels: dict[UUID, str] = field(default_factory=dict)
    """Option labels by option id."""

    @property
    def signed_up(self) -> Counter[str]:
        """New registrations by channel, over every option."""
        total: Counter[str] = Counter()
        for option in self.options:
            total.update(option.signed_up)
        return total

    @property
    def cancelled(self) -> int:
        """Cancellations in the period."""
        return sum(option.cancelled for option in self.options)

    @property
    def promoted(self) -> int:
        """Promotions off the waitlist in the period."""
        return sum(option.promoted for option in self.options)

    @property
    def filled_up(self) -> list[OptionActivity]:
        """The options that filled up in the period."""
        return [option for option in self.options if option.filled_up]

    @property
    def empty(self) -> bool:
        """Nothing happened in the period."""
        return not (self.texts_in or self.texts_out or self.options)


def read(store: Store, period: Period, max_listed: int) -> Digest:
    """The digest of ``period``, read from ``store``."""
    digest = Digest(period=period)
    _read_texts(digest, store.sms_messages.rows_since(period.start, period.end), max_listed)
    options = _fold_ledger(
        store.db.stream(_LEDGER, op="report", page_size=1000), period.start, period.end
    )
    digest.options = [option for option in options.values() if option.active]
    _name(digest, store)
    return digest


def _read_texts(digest: Digest, rows: Iterable[Row], max_listed: int) -> None:
    """Fold the period's texts as read: a message is made only of the few rows kept."""
    senders: dict[str, SenderActivity] = {}
    needing: list[Row] = []
    newest: deque[Row] = deque(maxlen=NEWEST)
    opted_out: set[str] = set()
    for row in rows:
        if row["direction"] != "in":
            digest.texts_out += 1
            continue
        digest.texts_in += 1
        number, action = row["from_number"], row["action"] or "unknown"
        sender = senders.get(number)
        if sender is None:
            sender = senders[number] = SenderActivity(number)
        sender.texts += 1
        sender.actions[action] += 1
        if action == "opted_out":
            opted_out.add(number)
        if action == "needs_person" and not row["handled"]:
            if len(needing) < max_listed:
                needing.append(row)
            else:
                digest.more_needing_person += 1
        else:
            newest.append(row)
    digest.needing_person = [SmsMessage.of_row(row) for row in needing]
    digest.newest = [SmsMessage.of_row(row) for row in reversed(newest)]
    digest.sender_count = len(senders)
    ranked = sorted(senders.values(), key=lambda s: (-s.actions["needs_person"], -s.texts))
    digest.senders = ranked[:TOP_SENDERS]
    digest.opt_out_count = len(opted_out)
    digest.opt_outs = sorted(opted_out)[:max_listed]


def _fold_ledger(rows: Iterable[Row], start: datetime, end: datetime) -> dict[UUID, OptionActivity]:
    """Per option, what its registration rows say of the period (timestamps compared naive,
    as the driver returns them: UTC)."""
    after, through = start.replace(tzinfo=None), end.replace(tzinfo=None)
    options: dict[UUID, OptionActivity] = {}
    for row in rows:
        entry = row["entry"]
        if not (isinstance(entry, str) and entry.startswith("r:")):
            continue
        option_id = row["option_id"]
        option = options.get(option_id)
        if option is None:
            option = options[option_id] = OptionActivity(
                option_id=option_id,
                event_id=row["event_id"],
                capacity=row["capacity"] or 0,
                taken=row["taken"] or 0,
                waiting=row["waiting"] or 0,
            )
        created, updated, status = row["created_at"], row["updated_at"], row["status"]
        if created is None:  # a row written by hand, without its times: not of any period
            continue
        if after < created <= through:
            option.signed_up[row["channel"] or "unknown"] += 1
            option.seats += row["party_size"] or 1
            if status == "waitlisted":
                option.waitlisted += 1
        if updated is not None and after < updated <= through and updated > created:
            if status == "cancelled":
                option.cancelled += 1
            elif status == "confirmed":
                option.promoted += 1
    return options


def _name(digest: Digest, store: Store) -> None:
    """Titles of the events and labels of the options the digest lists; options ordered by
    event start, then label."""
    event_ids = {option.event_id for option in digest.options if option.event_id is not None}
    events = {event.event_id: event for event in store.events.list() if event.event_id in event_ids}
    digest.events = events
    digest.labels = store.events.labels_of(events)
    far = times.now().replace(year=9999)
    digest.options.sort(
        key=lambda option: (
            events[option.event_id].starts_at if option.event_id in events else far,
            str(option.event_id),
            digest.labels.get(option.option_id, ""),
        )
    )
