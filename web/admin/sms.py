"""The management pages of SMS: the log by day and by number, the texts that need a person,
the opted-out numbers, and the notices (texts and e-mails) owed to members.

Message bodies and replies are whatever members sent: templates only ever autoescape them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from storage import times
from storage.errors import ValidationError
from storage.notices import CHANNELS, Notice
from storage.sms_messages import SmsMessage
from storage.store import Store
from web.admin.base import Admin
from web.admin.forms import required_id
from web.base import Refusal

RECENT_DAYS = 7
"""How far back the pages of what needs a person and of notices look."""
DAY_LIMIT = 500
"""Messages the log shows of one day (the newest)."""


def day_of(value: str) -> date:
    """The UTC day a ``?day=YYYY-MM-DD`` names (today when empty)."""
    if not value.strip():
        return times.now().date()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Refusal(400, "Day must be a date such as 2030-05-01.") from None


def number_page(store: Store, phone: str) -> tuple[list[SmsMessage], bool | None]:
    """The messages from and to ``phone``, and whether it opted out (None: not a phone
    number, such as a provider's short code, which cannot opt out)."""
    messages = store.sms_messages.of_number(phone)
    try:
        return messages, store.sms_optouts.is_opted_out(phone)
    except ValidationError:
        return messages, None


def recent_notices(store: Store) -> list[Notice]:
    """Every channel's notices of the last :data:`RECENT_DAYS` days, newest first."""
    found = [n for channel in CHANNELS for n in store.notices.recent(channel, RECENT_DAYS)]
    return sorted(found, key=lambda notice: notice.created_at, reverse=True)


class SmsAdmin(Admin):
    """An SMS page: times in the site's time zone, numbers linking to their own page."""

    def get_template_namespace(self) -> dict[str, Any]:
        """``local`` (a moment in the site's zone, for people) and ``zone`` (its name)."""
        zone = self.context.config.site.time_zone
        return super().get_template_namespace() | {"local": self.local, "zone": zone}

    def local(self, moment: datetime | None) -> str:
        """``moment`` in the site's time zone, to the second (empty for None)."""
        if moment is None:
            return ""
        zone = ZoneInfo(self.context.config.site.time_zone)
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


class SmsLogAdmin(SmsAdmin):
    """``GET /admin/sms?day=YYYY-MM-DD``: one UTC day's messages, newest first."""

    async def get(self) -> None:
        day = day_of(self.get_query_argument("day", ""))
        messages = await self.storage(lambda s: s.sms_messages.on_day(day, DAY_LIMIT))
        self.render(
            "admin/sms.html",
            day=day,
            before=day - timedelta(days=1),
            after=day + timedelta(days=1),
            messages=messages,
            limit=DAY_LIMIT,
        )


class SmsNumberAdmin(SmsAdmin):
    """``GET /admin/sms/numbers/{number}``: every message from and to one number."""

    async def get(self, phone: str) -> None:
        messages, opted_out = await self.storage(lambda s: number_page(s, phone))
        self.render("admin/sms_number.html", phone=phone, messages=messages, opted_out=opted_out)


class SmsAttentionAdmin(SmsAdmin):
    """``GET /admin/sms/attention``: recent texts nobody understood and nobody handled."""

    async def get(self) -> None:
        messages = await self.storage(lambda s: s.sms_messages.needing_person(RECENT_DAYS))
        self.render("admin/sms_attention.html", messages=messages, days=RECENT_DAYS)


class SmsHandledAdmin(Admin):
    """``POST /admin/sms/messages/{id}/handled``: a person read it; back to the list."""

    async def post(self, raw_id: str) -> None:
        message_id = required_id(raw_id, "Message")

        def mark(store: Store) -> None:
            # a message's id is time-based; never a row for a made-up one
            if message_id.version != 1 or store.sms_messages.get(message_id) is None:
                raise Refusal(404, "There is no such message.")
            store.sms_messages.mark_handled(message_id)

        await self.storage(mark)
        self.redirect("/admin/sms/attention", status=303)


class SmsOptOutsAdmin(SmsAdmin):
    """``GET /admin/sms/optouts``: the numbers that must get no texts."""

    async def get(self) -> None:
        optouts = await self.storage(lambda s: s.sms_optouts.list())
        self.render("admin/sms_optouts.html", optouts=optouts)


class NoticesAdmin(SmsAdmin):
    """``GET /admin/sms/notices``: the texts and e-mails owed to members lately, and how far
    each got (staff see whether a promotion's text went out)."""

    async def get(self) -> None:
        notices = await self.storage(recent_notices)
        self.render("admin/sms_notices.html", notices=notices, days=RECENT_DAYS)
