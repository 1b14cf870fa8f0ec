"""The demo data of ``make run``: complete, with real PNG images, and added only once."""

from __future__ import annotations

from config.cluster import ClusterConfig
from storage import demo
from storage.store import Store


def test_demo_events_are_seeded_once_with_images_and_options(
    store: Store, config: ClusterConfig
) -> None:
    demo.seed(store, config.site.time_zone, kiosk_id="demo-test-kiosk")
    assert demo.seed(store, config.site.time_zone, kiosk_id="demo-test-kiosk") == []
    for spec in demo.EVENTS:
        event = store.events.by_code(spec.code)
        assert [option.label for option in store.events.options(event.event_id)] == [
            label for label, _, _ in spec.options
        ]
        for asset_id in (event.icon_asset, event.background_asset):
            assert asset_id is not None
            info = store.assets.info(asset_id)
            assert info.content_type == "image/png"
            assert b"".join(store.assets.read(info)).startswith(b"\x89PNG\r\n\x1a\n")
    kiosk = store.kiosks.get("demo-test-kiosk")
    assert len(kiosk.event_ids) == len(demo.EVENTS)
