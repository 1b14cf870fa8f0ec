"""The words of every text Gather sends: replies in the conversation and notices to members.

Each fits one SMS segment where it can (160 GSM-7 or 70 UCS-2 characters, :mod:`sms.segments`):
the fixed wording is short and plain ASCII, and what varies (an event's title, a list of events
or sign-ups) is shortened or cut to fit. Refusals use :func:`signups.explain`'s words, as the
website and the kiosk do.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from config.cluster import SiteConfig
from sms.segments import fits_one, shorten
from storage.events import Event, SignupOption
from storage.registrations import Registration

TITLE_CHARS = 40
"""An event's title is cut to this many characters in a reply."""


def when(event: Event) -> str:
    """The event's start in its own time zone, short: ``Sun 6 Dec 10:30``."""
    start = event.starts_at.astimezone(ZoneInfo(event.time_zone))
    return f"{start:%a} {start.day} {start:%b %H:%M}"


def _title(event: Event) -> str:
    return (
        event.title if len(event.title) <= TITLE_CHARS else event.title[: TITLE_CHARS - 3] + "..."
    )


def fitted(lines: Sequence[str], head: str = "", more: str = "") -> str:
    """``head`` and as many of ``lines`` as fit one segment (joined by ``; ``), then ``more``
    naming how many were left out (it holds ``{n}``); at least the first line is kept."""
    kept = list(lines)
    while True:
        left = len(lines) - len(kept)
        text = head + "; ".join(kept) + (more.format(n=left) if left else "")
        if len(kept) <= 1 or fits_one(text):
            return shorten(text)
        kept.pop()


def events(upcoming: Sequence[Event], site: SiteConfig) -> str:
    """The answer to ``EVENTS``."""
    if not upcoming:
        return f"No events are open for sign-up right now. See {site.public_url}"
    lines = [f"{event.short_code} {_title(event)} {when(event)}" for event in upcoming]
    return fitted(lines, "Text a code to sign up: ", " +{n} more on the website")


def ask_option(event: Event, options: Sequence[SignupOption]) -> str:
    """The question "which option?"."""
    lines = [f"{n} for {option.label}" for n, option in enumerate(options, 1)]
    return fitted(lines, f"{_title(event)}: reply ", " (+{n} more on the website)")


def ask_name(event: Event) -> str:
    """The question "what name?"."""
    return shorten(f"{_title(event)}: what name should we sign you up under? Reply with it.")


def bad_choice(count: int) -> str:
    """A reply to "which option?" that is not one of them."""
    return f"Please reply with a number from 1 to {count}, or text EVENTS to start again."


def signed_up(registration: Registration, event: Event, position: int | None) -> str:
    """A sign-up's answer: its code and status."""
    party = f" (party of {registration.party_size})" if registration.party_size > 1 else ""
    if registration.status == "waitlisted":
        status = f"You are no. {position} on the waitlist" if position else "You are waitlisted"
    else:
        status = "You're confirmed"
    return shorten(
        f"{status} for {_title(event)} {when(event)}{party}. Code {registration.ref}. "
        f"To cancel text CANCEL {registration.ref}"
    )


def status(held: Sequence[tuple[Registration, Event]]) -> str:
    """The answer to ``STATUS``."""
    if not held:
        return "You have no upcoming sign-ups. Text EVENTS to see what is on."
    lines = [
        f"{_title(event)} {when(event)} {registration.status} {registration.ref}"
        for registration, event in held
    ]
    return fitted(lines, "Your sign-ups: ", " +{n} more")


def cancelled(registration: Registration, event: Event) -> str:
    """A cancellation's answer."""
    return shorten(f"Cancelled {registration.ref} for {_title(event)} {when(event)}.")


def not_yours(ref: str) -> str:
    """``CANCEL <ref>`` for a code this number does not hold."""
    return f"No sign-up {ref} was made from this number. Text STATUS to see yours."


def unknown_code(code: str) -> str:
    """A code no event has."""
    return f"No event has the code {code}. Text EVENTS to see the codes."


def opted_out(site: SiteConfig) -> str:
    """The one confirmation of an opt-out."""
    return shorten(f"{site.name}: you will get no more texts from us. Text START to undo.")


def opted_in(site: SiteConfig) -> str:
    """The confirmation of an opt-in."""
    return shorten(f"{site.name}: texts are back on. Text EVENTS to see what is on.")


def help_text(site: SiteConfig) -> str:
    """The answer to ``HELP``: who we are, how to reach a person, and the two CANCELs."""
    return shorten(
        f"{site.name}: text EVENTS, a code to sign up, STATUS, CANCEL <code> to cancel one "
        f"sign-up (CANCEL alone stops all texts). Help: {site.contact}",
        limit_segments=2,
    )


def hint() -> str:
    """The answer to anything else (a person will read it)."""
    return "Thanks, a person will read your message. Text EVENTS to see events or HELP for help."


def unreadable(problem: str) -> str:
    """The answer to a text that cannot be read as a command."""
    return shorten(f"Sorry, we could not read that message: {problem}. Text HELP for help.")


def refused(sentence: str) -> str:
    """A refusal, in :func:`signups.explain`'s words."""
    return shorten(sentence)


def code_notice(registration: Registration, event: Event, site: SiteConfig) -> str:
    """The text after a sign-up on the website or a kiosk, or on request."""
    return shorten(
        f"{site.name}: your code for {_title(event)} {when(event)} is {registration.ref}. "
        f"To cancel text CANCEL {registration.ref}"
    )


def promoted_notice(registration: Registration, event: Event, site: SiteConfig) -> str:
    """The text to a party given a seat off the waitlist."""
    return shorten(
        f"{site.name}: a seat opened up. You're confirmed for {_title(event)} {when(event)}. "
        f"Code {registration.ref}. To cancel text CANCEL {registration.ref}"
    )


def first_fitting(*texts: str) -> str:
    """The first of ``texts`` that fits one segment, or the last one, shortened."""
    for text in texts:
        if fits_one(text):
            return text
    return shorten(texts[-1])


def _with_place(head: str, event: Event, tail: str) -> str:
    """``head``, the event's place when it fits, then ``tail``."""
    bare = f"{head}. {tail}"
    return first_fitting(f"{head} at {event.location}. {tail}", bare) if event.location else bare


def reminder_notice(registration: Registration, event: Event, site: SiteConfig) -> str:
    """The text the day before the event, to a confirmed registration."""
    return _with_place(
        f"{site.name} reminder: {_title(event)}, {when(event)}",
        event,
        f"Can't come? Text CANCEL {registration.ref}",
    )


def changed_notice(registration: Registration, event: Event, site: SiteConfig) -> str:
    """The text telling a registration of the event's new time or place."""
    return _with_place(
        f"{site.name}: {_title(event)} has changed. Now {when(event)}",
        event,
        f"Can't come? Text CANCEL {registration.ref}",
    )


def cancelled_notice(registration: Registration, event: Event, site: SiteConfig) -> str:
    """The text telling a registration the event was cancelled."""
    news = (
        f"{site.name}: sorry, {_title(event)} on {when(event)} is cancelled. "
        f"Sign-up {registration.ref} is void."
    )
    return first_fitting(f"{news} Questions? {site.contact}", news)
