"""The management pages of assets: images and other files, uploaded and replaced."""

from __future__ import annotations

from node.notices import AssetChanged
from web.admin.base import Admin
from web.admin.forms import required_id
from web.base import MAX_REQUEST_BODY, Refusal


class AssetsAdmin(Admin):
    """``GET, POST /admin/assets``: the assets, and uploading one."""

    max_body = MAX_REQUEST_BODY

    async def get(self) -> None:
        assets = await self.storage(lambda s: s.assets.list())
        self.render("admin/assets.html", assets=assets)

    async def post(self) -> None:
        upload = self.form.upload("file", image=self.form.text("kind", "image") == "image")
        if upload is None:
            raise Refusal(400, "Choose a file to upload.")
        await self.store_upload(upload)
        self.redirect("/admin/assets", status=303)


class AssetAdmin(Admin):
    """``POST /admin/assets/{id}`` (replace: a new version) and ``.../delete``."""

    max_body = MAX_REQUEST_BODY

    async def post(self, raw_id: str, action: str | None = None) -> None:
        asset_id = required_id(raw_id, "Asset")
        current = await self.storage(lambda s: s.assets.info(asset_id))
        if action == "delete":
            await self.storage(lambda s: s.assets.delete(asset_id))
            await self.notify(AssetChanged(str(asset_id), 0))
        else:
            upload = self.form.upload("file", image=current.content_type.startswith("image/"))
            if upload is None:
                raise Refusal(400, "Choose a file to upload.")
            await self.store_upload(upload, asset_id)
        self.redirect("/admin/assets", status=303)
