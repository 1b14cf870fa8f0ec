"""The management pages of kiosks: each kiosk's welcome text, events, idle time and theme."""

from __future__ import annotations

from node.notices import KioskChanged
from web.admin.base import Admin


class KiosksAdmin(Admin):
    """``GET, POST /admin/kiosks``: kiosk configurations, and setting one."""

    async def get(self) -> None:
        kiosks, events = await self.storage(lambda s: (s.kiosks.list(), s.events.list()))
        editing = next(
            (k for k in kiosks if k.kiosk_id == self.get_query_argument("edit", "")), None
        )
        self.render("admin/kiosks.html", kiosks=kiosks, events=events, editing=editing)

    async def post(self) -> None:
        kiosk = self.form.kiosk_fields()
        await self.storage(
            lambda s: s.kiosks.put(
                kiosk.kiosk_id, kiosk.event_ids, kiosk.welcome, kiosk.idle_timeout_s, kiosk.theme
            )
        )
        await self.notify(KioskChanged(kiosk.kiosk_id))
        self.redirect("/admin/kiosks", status=303)


class KioskDeleteAdmin(Admin):
    """``POST /admin/kiosks/{id}/delete``."""

    async def post(self, kiosk_id: str) -> None:
        await self.storage(lambda s: s.kiosks.delete(kiosk_id))
        await self.notify(KioskChanged(kiosk_id))
        self.redirect("/admin/kiosks", status=303)
