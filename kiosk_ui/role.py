"""The kiosk role's children (``node.process.ROLE_CHILDREN["kiosk"]``).

::

    kiosk              rest_for_one, at most 5 restarts in 30 s
    ├── cache          AssetCache (kiosk_ui.cache): catalog and images, memory and disk
    └── ui             KioskUI (kiosk_ui.actor): the window and its loop

rest_for_one, as in OTP: the UI holds the cache's content handle, so a crash of the cache
restarts the UI after it; a crash of the UI leaves the cache, and what it has decoded,
alone.
"""

from __future__ import annotations

from kiosk_ui.actor import START_TIMEOUT_S, KioskUI
from kiosk_ui.cache import AssetCache
from node.context import NodeContext
from supervision.spec import ChildSpec, Strategy

STRATEGY = Strategy.REST_FOR_ONE


def children(context: NodeContext) -> list[ChildSpec]:
    """The kiosk role supervisor's children: the cache first, then the UI that uses it."""
    return [
        ChildSpec("cache", AssetCache, kwargs={"context": context}),
        ChildSpec("ui", KioskUI, kwargs={"context": context}, start_timeout=2 * START_TIMEOUT_S),
    ]
