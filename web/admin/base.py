"""What every management page shares: its posted form, stored uploads, change notices and
CSV downloads."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from node.notices import KIOSK_CACHE, AssetChanged
from storage.assets import MAX_NAME as MAX_ASSET_NAME
from storage.assets import AssetInfo
from web.admin.forms import Form, Upload, shortened
from web.base import AdminHandler


class Admin(AdminHandler):
    """A management page: the form it was posted, uploads stored as assets, change notices."""

    @functools.cached_property
    def form(self) -> Form:
        """The posted form's fields."""
        return Form(self)

    async def store_upload(self, upload: Upload, asset_id: UUID | None = None) -> AssetInfo:
        """Write a checked upload as a new asset (or version of ``asset_id``); tell the nodes."""
        name = shortened(upload.file.filename, MAX_ASSET_NAME)
        body = upload.file.body
        info = await self.storage(
            lambda s: s.assets.put(io.BytesIO(body), upload.media_type, name, asset_id)
        )
        await self.notify(AssetChanged(str(info.asset_id), info.version))
        return info

    async def notify(self, notice: Any) -> None:
        """Broadcast a change notice to every node's kiosk cache."""
        link = self.context.link
        if link is not None:
            await self.blocking(link.broadcast, KIOSK_CACHE, notice)

    async def send_csv(self, filename: str, pieces: Iterator[str]) -> None:
        """Answer a CSV download named ``filename`` (letters, digits, ``-_.`` only), its text
        the ``pieces`` of :func:`web.admin.registrations.csv_pieces`: each formatted on the
        storage pool (sign-ups go on meanwhile on the IOLoop), then written and flushed."""
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        while piece := await self.blocking(next, pieces, ""):
            self.write(piece)
            await self.flush()
        self.finish()
