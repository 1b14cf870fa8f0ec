"""Change notices broadcast over the node link, so that every node refreshes what it caches.

The web role sends them when an asset, an event or a kiosk configuration changes; the kiosk role's
cache actor (at :data:`KIOSK_CACHE`) receives them. A node without that actor logs the
undelivered notice and goes on.
"""

from __future__ import annotations

from node import wire

KIOSK_CACHE = "root/kiosk/cache"
"""Where change notices are broadcast to."""


@wire.message("asset_changed")
class AssetChanged:
    """Asset ``asset_id`` has a new latest ``version`` (0: it was deleted)."""

    asset_id: str
    version: int


@wire.message("kiosk_changed")
class KioskChanged:
    """Kiosk ``kiosk_id``'s configuration was set or deleted."""

    kiosk_id: str


@wire.message("event_changed")
class EventChanged:
    """Event ``event_id`` (its fields, options or open state) was changed or deleted."""

    event_id: str
