"""The digest as staff read it: a subject, a plain-text part and an HTML part.

Both parts say the same, in the same order: the period (and whether it is a catch-up), the
counts, the texts that need a person in full, the busiest senders with what their texts did,
the newest texts, the sign-ups per event and option by channel with seats left and the
waitlist, the options that filled up, the opt-outs; and a link to the management page for
everything it only counts. The HTML is one narrow column of plain tables with inline styles
(mail clients drop style sheets), readable on a phone.

Pure functions of the digest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import quote
from zoneinfo import ZoneInfo

from mail.digest import CHANNELS, Digest, OptionActivity
from signups import seats
from storage.sms_messages import SmsMessage

_WHEN = "%a %d %b %Y %H:%M"


@dataclass(frozen=True)
class Rendered:
    """A digest ready to send."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class _Section:
    """One part of the digest: a heading, its lines (as plain text and as HTML) and a link."""

    heading: str
    lines: list[tuple[str, str]]
    link: tuple[str, str] | None = None
    """(what it shows, URL)."""


def render(digest: Digest, site_name: str, admin_url: str, zone: ZoneInfo) -> Rendered:
    """The digest of ``digest``'s period for ``site_name``; links go under ``admin_url``
    (the site's public URL and ``/admin``); times are shown in ``zone``."""
    period = digest.period

    def when(at: datetime) -> str:
        return at.astimezone(zone).strftime(_WHEN)

    covered = f"{when(period.start)} to {when(period.end)} ({zone.key})"
    if period.catch_up:
        covered += f": a catch-up, covering {period.missed} days missed while no digest was sent"
    subject = f"{site_name}: {_headline(digest)}"
    if period.catch_up:
        subject += f" (catch-up, {period.missed} days)"
    sections = [_summary(digest)]
    if digest.empty:
        sections = [_Section("Nothing new", [("No texts and no sign-ups in this period.",) * 2])]
    else:
        sections += _texts(digest, admin_url, when) + _signups(digest, admin_url)
    return Rendered(
        subject=subject,
        text=_text(site_name, covered, sections),
        html=_html(site_name, covered, sections),
    )


def _headline(digest: Digest) -> str:
    if digest.empty:
        return "nothing new"
    parts = [_counted(digest.texts_in, "text"), _counted(sum(digest.signed_up.values()), "sign-up")]
    needing = len(digest.needing_person) + digest.more_needing_person
    if needing:
        parts.insert(0, f"{needing} need{'s' if needing == 1 else ''} a person")
    return ", ".join(parts)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(digest: Digest) -> _Section:
    signed_up = digest.signed_up
    by_channel = ", ".join(f"{signed_up[c]} {c}" for c in CHANNELS if signed_up[c])
    needing = len(digest.needing_person) + digest.more_needing_person
    lines = [
        f"Texts received: {digest.texts_in} from {digest.sender_count} numbers "
        f"({needing} {'needs' if needing == 1 else 'need'} a person); "
        f"texts sent: {digest.texts_out}",
        f"Sign-ups: {sum(signed_up.values())}" + (f" ({by_channel})" if by_channel else ""),
        f"Cancellations: {digest.cancelled}; promotions off the waitlist: {digest.promoted}",
        f"Options that filled up: {len(digest.filled_up)}; opt-outs: {digest.opt_out_count}",
    ]
    return _Section("Summary", [(line, escape(line)) for line in lines])


def _texts(digest: Digest, admin_url: str, when: Callable[[datetime], str]) -> list[_Section]:
    sections = []
    if digest.needing_person:
        lines = [_message_line(message, when) for message in digest.needing_person]
        if digest.more_needing_person:
            more = f"... and {digest.more_needing_person} more"
            lines.append((more, escape(more)))
        sections.append(
            _Section(
                "Texts that need a person",
                lines,
                ("Read and mark them handled", f"{admin_url}/sms/attention"),
            )
        )
    if digest.senders:
        lines = []
        for sender in digest.senders:
            did = ", ".join(f"{count} {action}" for action, count in sender.actions.most_common())
            line = f"{sender.number}: {_counted(sender.texts, 'text')} ({did})"
            url = f"{admin_url}/sms/numbers/{quote(sender.number, safe='')}"
            lines.append(
                (
                    line,
                    f'<a href="{escape(url)}">{escape(sender.number)}</a>'
                    f"{escape(line[len(sender.number) :])}",
                )
            )
        others = digest.sender_count - len(digest.senders)
        if others > 0:
            more = f"... and {others} more numbers"
            lines.append((more, escape(more)))
        sections.append(_Section("Texts by sender", lines, ("The SMS log", f"{admin_url}/sms")))
    if digest.newest:
        lines = [_message_line(message, when) for message in digest.newest]
        sections.append(_Section("Newest texts", lines))
    if digest.opt_outs:
        lines = [(number, escape(number)) for number in digest.opt_outs]
        if digest.opt_out_count > len(digest.opt_outs):
            more = f"... and {digest.opt_out_count - len(digest.opt_outs)} more"
            lines.append((more, escape(more)))
        sections.append(_Section("Opted out", lines, ("Opt-outs", f"{admin_url}/sms/optouts")))
    return sections


def _message_line(message: SmsMessage, when: Callable[[datetime], str]) -> tuple[str, str]:
    head = f"{when(message.at)} {message.from_number} ({message.action or 'unknown'}):"
    return f"{head} {message.body}", f"{escape(head)} <q>{escape(message.body)}</q>"


def _signups(digest: Digest, admin_url: str) -> list[_Section]:
    if not digest.options:
        return []
    lines = [_option_line(digest, option, admin_url) for option in digest.options]
    sections = [_Section("Sign-ups by event and option", lines, ("Events", f"{admin_url}/events"))]
    filled = digest.filled_up
    if filled:
        names = [_option_name(digest, option) for option in filled]
        sections.append(_Section("Filled up", [(name, escape(name)) for name in names]))
    return sections


def _option_name(digest: Digest, option: OptionActivity) -> str:
    event = digest.events.get(option.event_id) if option.event_id else None
    title = event.title if event else f"event {option.event_id}"
    return f"{title}: {digest.labels.get(option.option_id, 'option')}"


def _option_line(digest: Digest, option: OptionActivity, admin_url: str) -> tuple[str, str]:
    name = _option_name(digest, option)
    made = sum(option.signed_up.values())
    by_channel = ", ".join(f"{option.signed_up[c]} {c}" for c in CHANNELS if option.signed_up[c])
    facts = [f"{made} new ({by_channel}; {seats(option.seats)})" if made else "0 new"]
    if option.waitlisted:
        facts.append(f"{option.waitlisted} of them waitlisted")
    if option.cancelled:
        facts.append(f"{option.cancelled} cancelled")
    if option.promoted:
        facts.append(f"{option.promoted} promoted")
    facts.append(f"{option.seats_left} of {seats(option.capacity)} left")
    facts.append(f"waitlist {option.waiting}")
    url = f"{admin_url}/events/{option.event_id}/registrations"
    text = f"{name}: " + "; ".join(facts) + f" <{url}>"
    return text, f'<a href="{escape(url)}">{escape(name)}</a>: {escape("; ".join(facts))}'


def _text(site_name: str, covered: str, sections: list[_Section]) -> str:
    out = [f"{site_name}: the digest", covered, ""]
    for section in sections:
        out += [section.heading, "-" * len(section.heading)]
        out += [f"- {text}" for text, _ in section.lines]
        if section.link:
            out.append(f"{section.link[0]}: {section.link[1]}")
        out.append("")
    return "\n".join(out)


def _html(site_name: str, covered: str, sections: list[_Section]) -> str:
    body = [
        f'<h1 style="font-size:20px;margin:0 0 4px">{escape(site_name)}: the digest</h1>',
        f'<p style="color:#555;margin:0 0 16px">{escape(covered)}</p>',
    ]
    for section in sections:
        body.append(f'<h2 style="font-size:16px;margin:16px 0 4px">{escape(section.heading)}</h2>')
        body.append('<ul style="padding-left:18px;margin:0">')
        body += [f'<li style="margin:2px 0">{html}</li>' for _, html in section.lines]
        body.append("</ul>")
        if section.link:
            what, url = section.link
            body.append(f'<p style="margin:4px 0"><a href="{escape(url)}">{escape(what)}</a></p>')
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(site_name)}</title></head>"
        '<body style="font-family:sans-serif;max-width:640px;margin:0 auto;padding:12px">'
        + "".join(body)
        + "</body></html>"
    )
