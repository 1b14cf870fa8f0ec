"""The management UI: events and options, assets, kiosks, registrations and the cluster.

Every page needs a signed-in admin (:class:`~web.base.AdminHandler`); every form carries the
XSRF token. A change to an asset or a kiosk is broadcast over the node link
(:mod:`node.notices`) so that every node refreshes its cache.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tornado.httputil import HTTPFile

from node.diagnostics import TreeRequest
from node.link import LinkError
from node.notices import KIOSK_CACHE, AssetChanged, KioskChanged
from storage import validate
from storage.assets import MAX_NAME as MAX_ASSET_NAME
from storage.assets import AssetInfo
from storage.events import Event
from storage.registrations import Registration
from storage.store import Store
from supervision.introspection import ActorInfo
from web.base import MAX_REQUEST_BODY, MAX_UPLOAD, AdminHandler, Refusal
from web.images import FORMATS, image_type
from web.public import event_id

log = logging.getLogger(__name__)

TREE_TIMEOUT_S = 2.0
CSV_PIECE_ROWS = 1000
_CSV_COLUMNS = ("ref", "option", "status", "name", "contact", "party_size", "channel", "created_at")


def uuid_or_none(value: str, label: str) -> UUID | None:
    """An optional id from a form."""
    if not value.strip():
        return None
    try:
        return UUID(value.strip())
    except ValueError:
        raise Refusal(400, f"{label} is not a valid id.") from None


def local_time(value: str, zone: str, label: str) -> datetime:
    """A ``datetime-local`` form value in time zone ``zone``."""
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=ZoneInfo(zone))
    except ZoneInfoNotFoundError:
        raise Refusal(400, "Time zone must be an IANA time zone such as America/Chicago.") from None
    except ValueError:
        raise Refusal(400, f"{label} must be a date and time such as 2030-05-01T18:30.") from None


def shortened(filename: str, limit: int) -> str:
    """``filename`` as stored text (NFC, no control characters) cut to ``limit`` characters,
    keeping its extension."""
    filename = "".join(ch for ch in validate.normalised(filename) if not validate.is_control(ch))
    if len(filename) <= limit:
        return filename
    stem, dot, extension = filename.rpartition(".")
    if not dot or len(extension) >= limit // 2:
        return filename[:limit]
    return stem[: limit - len(extension) - 1] + "." + extension


def csv_cell(value: object) -> str:
    """A value for a spreadsheet cell, never read as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def matches(registration: Registration, query: str) -> bool:
    """Whether the search ``query`` is in the registration's reference, name or contact."""
    query = query.strip().lower()
    fields = (registration.ref, registration.name, registration.contact)
    return not query or any(query in field.lower() for field in fields)


class Admin(AdminHandler):
    """A management page: checked uploads and change notices."""

    def upload(self, field: str, image: bool) -> tuple[HTTPFile, str] | None:
        """The file sent in ``field`` and its media type, checked; None when none was sent."""
        files = [f for f in self.request.files.get(field, []) if f.body]
        if not files:
            return None
        upload = files[0]
        if len(upload.body) > MAX_UPLOAD:
            raise Refusal(413, f"{upload.filename} is larger than {MAX_UPLOAD // 2**20} MiB.")
        sniffed = image_type(upload.body[:16])
        if image and sniffed is None:
            raise Refusal(415, f"{upload.filename or 'The file'} is not a {FORMATS} image.")
        return upload, sniffed or upload.content_type or "application/octet-stream"

    async def store_upload(
        self, checked: tuple[HTTPFile, str], asset_id: UUID | None = None
    ) -> AssetInfo:
        """Write a checked upload as a new asset (or version of ``asset_id``); tell the nodes."""
        upload, media_type = checked
        name = shortened(upload.filename, MAX_ASSET_NAME)
        info = await self.storage(
            lambda s: s.assets.put(io.BytesIO(upload.body), media_type, name, asset_id)
        )
        await self.notify(AssetChanged(str(info.asset_id), info.version))
        return info

    async def notify(self, notice: Any) -> None:
        """Broadcast a change notice to every node's kiosk cache."""
        link = self.context.link
        if link is not None:
            await self.blocking(link.broadcast, KIOSK_CACHE, notice)


class EventForm(Admin):
    """The event form: its fields, and images uploaded with it."""

    max_body = MAX_REQUEST_BODY

    def event_fields(self) -> dict[str, Any]:
        """The form's fields, as ``Events.create`` and ``update`` take them."""
        zone = self.text("time_zone").strip() or "UTC"
        return {
            "title": self.text("title"),
            "description": self.text("description"),
            "location": self.text("location"),
            "short_code": self.text("short_code"),
            "time_zone": zone,
            "starts_at": local_time(self.text("starts_at"), zone, "Starts at"),
            "ends_at": local_time(self.text("ends_at"), zone, "Ends at"),
            "icon_asset": uuid_or_none(self.text("icon_asset"), "Icon"),
            "background_asset": uuid_or_none(self.text("background_asset"), "Background"),
        }

    def images(self) -> dict[str, tuple[HTTPFile, str]]:
        """The icon and background uploaded with the form, checked to be images."""
        fields = {"icon_asset": "icon_file", "background_asset": "background_file"}
        checked = {column: self.upload(field, image=True) for column, field in fields.items()}
        return {column: upload for column, upload in checked.items() if upload is not None}

    async def save(self, the_event: UUID | None) -> UUID:
        """Create (``the_event`` None) or change the event from the form; its id.

        The images are stored first and the event written once, with them: a refused form
        leaves no event behind, and the images it brought are removed again.
        """
        images = self.images()
        fields = self.event_fields()
        stored: list[AssetInfo] = []
        event_sent = False
        try:
            for column, upload in images.items():
                stored.append(await self.store_upload(upload))
                fields[column] = stored[-1].asset_id
            event_sent = True
            if the_event is None:
                return (await self.storage(lambda s: s.events.create(**fields))).event_id
            await self.storage(lambda s: s.events.update(the_event, **fields))
            return the_event
        except Refusal as exc:
            if not event_sent or exc.status_code < 500:  # the event does not use them
                await self.discard(stored)
            raise

    async def discard(self, assets: list[AssetInfo]) -> None:
        """Delete assets nothing uses (best effort: one left over is only clutter)."""
        for info in assets:
            try:
                await self.storage(lambda s, gone=info.asset_id: s.assets.delete(gone))
            except Refusal as exc:
                log.warning("could not remove unused asset %s: %s", info.asset_id, exc.message)
                continue
            await self.notify(AssetChanged(str(info.asset_id), 0))


def image_assets(store: Store) -> list[AssetInfo]:
    """The assets that are images (for the icon and background choices)."""
    return [info for info in store.assets.list() if info.content_type.startswith("image/")]


class EventsAdmin(EventForm):
    """``GET, POST /admin/events``: the events, and creating one (with uploaded images)."""

    async def get(self) -> None:
        events, images = await self.storage(lambda s: (s.events.list(), image_assets(s)))
        self.render("admin/events.html", events=events, images=images)

    async def post(self) -> None:
        the_event = await self.save(None)
        self.redirect(f"/admin/events/{the_event}", status=303)


class EventAdmin(EventForm):
    """``GET, POST /admin/events/{id}``: one event, its options; changing it."""

    async def get(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        event, options, images = await self.storage(
            lambda s: (s.events.get(the_event), s.events.options(the_event), image_assets(s))
        )
        self.render(
            "admin/event.html", event=event, options=options, images=images, local=local_input
        )

    async def post(self, raw_id: str) -> None:
        the_event = await self.save(event_id(raw_id))
        self.redirect(f"/admin/events/{the_event}", status=303)


def local_input(event: Event, moment: datetime) -> str:
    """A moment as a ``datetime-local`` value in the event's time zone."""
    return moment.astimezone(ZoneInfo(event.time_zone)).strftime("%Y-%m-%dT%H:%M")


class EventOpenAdmin(Admin):
    """``POST /admin/events/{id}/open``: open (``is_open=1``) or close sign-ups."""

    async def post(self, raw_id: str) -> None:
        the_event, is_open = event_id(raw_id), self.text("is_open") == "1"
        await self.storage(lambda s: s.events.set_open(the_event, is_open))
        self.redirect(f"/admin/events/{the_event}", status=303)


class EventDeleteAdmin(Admin):
    """``POST /admin/events/{id}/delete``: archive the event, then delete it."""

    async def post(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        await self.storage(lambda s: s.events.delete(the_event))
        self.redirect("/admin/events", status=303)


class OptionsAdmin(Admin):
    """``POST /admin/events/{id}/options[/{option}]``: add an option, or change one."""

    async def post(self, raw_id: str, raw_option: str | None = None) -> None:
        the_event = event_id(raw_id)
        label = self.text("label")
        capacity = self.number("capacity", "Capacity")
        waitlist = self.text("waitlist") == "1"
        position = self.number("position", "Position", default=-1)
        if raw_option is None:
            await self.storage(
                lambda s: s.events.add_option(
                    the_event, label, capacity, waitlist, None if position < 0 else position
                )
            )
        else:
            option = uuid_or_none(raw_option, "Option")
            await self.storage(
                lambda s: s.events.update_option(
                    the_event,
                    option,
                    label=label,
                    capacity=capacity,
                    waitlist=waitlist,
                    position=None if position < 0 else position,
                )
            )
        self.redirect(f"/admin/events/{the_event}", status=303)


def event_registrations(
    store: Store, the_event: UUID
) -> tuple[Event, list[tuple[Any, list[Registration]]]]:
    """The event and each option with its registrations."""
    event = store.events.get(the_event)
    options = store.events.options(the_event)
    return event, [(o, store.registrations.registrations(o.option_id)) for o in options]


class RegistrationsAdmin(Admin):
    """``GET /admin/events/{id}/registrations?q=``: registrations per option, searchable."""

    async def get(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        query = self.get_query_argument("q", "")
        event, per_option = await self.storage(lambda s: event_registrations(s, the_event))
        found = [(o, [r for r in regs if matches(r, query)]) for o, regs in per_option]
        heads = {
            next((r.ref for r in regs if r.status == "waitlisted"), None) for _, regs in per_option
        }
        self.render(
            "admin/registrations.html", event=event, per_option=found, query=query, heads=heads
        )


class RegistrationsCsv(Admin):
    """``GET /admin/events/{id}/registrations.csv``: every registration of the event."""

    async def get(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        event, per_option = await self.storage(lambda s: event_registrations(s, the_event))
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header(
            "Content-Disposition", f'attachment; filename="registrations-{event.short_code}.csv"'
        )
        pieces = csv_lines(per_option)  # formatted off the loop: sign-ups go on meanwhile
        while piece := await self.blocking(next, pieces, ""):
            self.write(piece)
            await self.flush()
        self.finish()


def csv_lines(per_option: list[tuple[Any, list[Registration]]]) -> Iterator[str]:
    """The CSV text, a header and then one line per registration, in pieces of at most
    :data:`CSV_PIECE_ROWS` lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    rows = ((option, r) for option, registrations in per_option for r in registrations)
    for number, (option, r) in enumerate(rows, start=1):
        writer.writerow(
            csv_cell(v)
            for v in (
                r.ref,
                option.label,
                r.status,
                r.name,
                r.contact,
                r.party_size,
                r.channel,
                r.created_at.isoformat(),
            )
        )
        if number % CSV_PIECE_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def promote(store: Store, ref: str) -> Registration:
    """Give the first of an option's waitlist a seat by making room for its party."""
    registration = store.registrations.get(ref)
    waiting = store.registrations.registrations(registration.option_id, "waitlisted")
    if not waiting or waiting[0].ref != registration.ref:
        raise Refusal(409, f"{ref} is not first on the waitlist.")
    option = store.events.option(registration.event_id, registration.option_id)
    seats = option.seats
    capacity = max(seats.capacity, seats.taken + registration.party_size)
    store.events.update_option(registration.event_id, registration.option_id, capacity=capacity)
    return registration


class RegistrationActionAdmin(Admin):
    """``POST /admin/registrations/{ref}/cancel`` and ``.../promote``."""

    async def post(self, ref: str, action: str) -> None:
        def act(store: Store) -> Registration:
            if action == "cancel":
                return store.registrations.cancel(ref).registration
            return promote(store, ref)

        registration = await self.storage(act)
        self.redirect(f"/admin/events/{registration.event_id}/registrations", status=303)


class AssetsAdmin(Admin):
    """``GET, POST /admin/assets``: the assets, and uploading one."""

    max_body = MAX_REQUEST_BODY

    async def get(self) -> None:
        assets = await self.storage(lambda s: s.assets.list())
        self.render("admin/assets.html", assets=assets)

    async def post(self) -> None:
        checked = self.upload("file", image=self.text("kind", "image") == "image")
        if checked is None:
            raise Refusal(400, "Choose a file to upload.")
        await self.store_upload(checked)
        self.redirect("/admin/assets", status=303)


class AssetAdmin(Admin):
    """``POST /admin/assets/{id}`` (replace: a new version) and ``.../delete``."""

    max_body = MAX_REQUEST_BODY

    async def post(self, raw_id: str, action: str | None = None) -> None:
        asset_id = uuid_or_none(raw_id, "Asset")
        assert asset_id is not None
        current = await self.storage(lambda s: s.assets.info(asset_id))
        if action == "delete":
            await self.storage(lambda s: s.assets.delete(asset_id))
            await self.notify(AssetChanged(str(asset_id), 0))
        else:
            checked = self.upload("file", image=current.content_type.startswith("image/"))
            if checked is None:
                raise Refusal(400, "Choose a file to upload.")
            await self.store_upload(checked, asset_id)
        self.redirect("/admin/assets", status=303)


class KiosksAdmin(Admin):
    """``GET, POST /admin/kiosks``: kiosk configurations, and setting one."""

    async def get(self) -> None:
        kiosks, events = await self.storage(lambda s: (s.kiosks.list(), s.events.list()))
        editing = next(
            (k for k in kiosks if k.kiosk_id == self.get_query_argument("edit", "")), None
        )
        self.render("admin/kiosks.html", kiosks=kiosks, events=events, editing=editing)

    async def post(self) -> None:
        chosen = []
        for raw in self.get_body_arguments("event"):
            the_event = uuid_or_none(raw, "Event")
            if the_event is not None:
                chosen.append((self.number(f"order_{raw}", "Order", default=0), str(the_event)))
        event_ids = [UUID(e) for _, e in sorted(chosen)]
        kiosk_id = self.text("kiosk_id").strip()
        welcome = self.text("welcome")
        idle = self.number("idle_timeout_s", "Idle timeout", default=60)
        theme = self.text("theme").strip() or "default"
        await self.storage(lambda s: s.kiosks.put(kiosk_id, event_ids, welcome, idle, theme))
        await self.notify(KioskChanged(kiosk_id))
        self.redirect("/admin/kiosks", status=303)


class KioskDeleteAdmin(Admin):
    """``POST /admin/kiosks/{id}/delete``."""

    async def post(self, kiosk_id: str) -> None:
        await self.storage(lambda s: s.kiosks.delete(kiosk_id))
        await self.notify(KioskChanged(kiosk_id))
        self.redirect("/admin/kiosks", status=303)


class ClusterAdmin(Admin):
    """``GET /admin/cluster``: the nodes, their link state and live supervision trees."""

    async def get(self) -> None:
        trees = await self.blocking(self.trees)
        link = self.context.link
        peers = [peer.as_data() for peer in link.peers()] if link is not None else []
        self.render("admin/cluster.html", me=self.context.name, peers=peers, trees=trees)

    def trees(self) -> dict[str, list[ActorInfo] | str]:
        """Each node's actors (depth first), or why they could not be had."""
        context = self.context
        trees: dict[str, list[ActorInfo] | str] = {}
        if context.tree is None:
            trees[context.name] = "still starting"
        else:
            trees[context.name] = list(context.tree.snapshot().walk())
        link = context.link
        if link is None:
            return trees
        asks: dict[str, Future[Any]] = {}
        for peer in link.peers():
            if not peer.up:
                trees[peer.name] = "the link to this node is down"
                continue
            try:
                asks[peer.name] = link.ask_future(
                    peer.name, "root/diagnostics", TreeRequest(), TREE_TIMEOUT_S
                )
            except LinkError as exc:  # went down since, or too far behind
                trees[peer.name] = f"no answer: {exc}"
        for name, future in asks.items():
            try:
                trees[name] = list(ActorInfo.from_dict(future.result(TREE_TIMEOUT_S)).walk())
            except Exception as exc:  # a peer's failure is shown, not raised
                trees[name] = f"no answer: {exc}"
        return trees
