"""A kiosk node process (real Pygame on SDL's dummy driver, the real cluster) next to a web
node process: a sign-up tapped through the operator shell, a UI crash, an image replaced in
the management UI, and a start with Cassandra out of reach."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.shell import ShellConnection
from storage.store import Store
from tests.helpers import (
    STORAGE_TEST_KEYSPACE,
    Browser,
    NodeProcesses,
    edit_config,
    make_event,
    new_phone,
    picture,
    wait_until,
    web_and_kiosk,
)

KIOSK = "kiosk-node"
WEB = "web-node"
CRASH_BACK_S = 2.0
ASSET_SHOWN_S = 5.0


class Kiosk:
    """The kiosk node's UI, driven through an operator shell attached to it."""

    def __init__(self, nodes: NodeProcesses) -> None:
        node = nodes.config.nodes[KIOSK]
        self.connection = ShellConnection(node.host, node.port, nodes.cookie.encode())

    def view(self) -> dict[str, Any]:
        view: dict[str, Any] = self.connection.call("ask", "root/kiosk/ui", "view")
        return view

    def tap(self, label: str) -> None:
        """Tap ``label``; the answer comes once the kiosk has handled it and redrawn."""
        self.connection.call("tap", label, None)

    def type(self, text: str) -> None:
        for char in text:
            self.tap("Space" if char == " " else char.upper())

    def on(self, screen: str, timeout: float = 10.0) -> None:
        wait_until(lambda: self.view()["screen"] == screen, timeout, what=f"the {screen} screen")

    def labels(self) -> list[str]:
        return [button[0] for button in self.view()["buttons"]]

    def close(self) -> None:
        self.connection.close()


@pytest.fixture(scope="module")
def event(store: Store) -> tuple:
    """The event kiosk-node shows, with a red background image."""
    code = f"K{int(time.time() * 1000) % 10**8:08d}"
    red = store.assets.put([picture(1280, 720, (200, 30, 30))], "image/png", "red.png")
    the_event, option = make_event(store, code, capacity=10)
    the_event = store.events.update(the_event.event_id, background_asset=red.asset_id)
    store.kiosks.put(KIOSK, [the_event.event_id], welcome="Welcome, testers.")
    return the_event, option


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, store: Store, event: tuple
) -> Iterator[tuple[NodeProcesses, str]]:
    with web_and_kiosk(tmp_path_factory.mktemp("kiosk-node"), WEB, KIOSK) as running_nodes:
        yield running_nodes


@pytest.fixture
def kiosk(cluster: tuple[NodeProcesses, str], event: tuple) -> Iterator[Kiosk]:
    nodes, _ = cluster
    driver = Kiosk(nodes)
    try:
        wait_until(lambda: event[0].title in driver.labels(), 30, what="the event on Welcome")
        yield driver
    finally:
        driver.close()


def test_a_sign_up_tapped_on_the_kiosk_is_stored_with_its_node(
    kiosk: Kiosk, store: Store, event: tuple
) -> None:
    the_event, option = event
    kiosk.tap(the_event.title)
    kiosk.tap(next(label for label in kiosk.labels() if label.startswith("Main: ")))
    kiosk.type("gil node")
    kiosk.tap("Next")
    phone = new_phone()
    kiosk.type(phone)
    kiosk.tap("Next")
    kiosk.tap("Next")
    assert kiosk.view()["masked"]
    kiosk.tap("Confirm")
    kiosk.on("result")
    stored = [r for r in store.registrations.registrations(option.option_id) if r.contact == phone]
    assert len(stored) == 1, stored
    assert (stored[0].channel, stored[0].node, stored[0].name) == ("kiosk", KIOSK, "Gil Node")
    kiosk.tap("Done")
    kiosk.on("welcome")


def test_a_ui_crash_brings_welcome_back_within_two_seconds(
    kiosk: Kiosk, cluster: tuple[NodeProcesses, str], event: tuple
) -> None:
    nodes, _ = cluster
    before = nodes.table(KIOSK, "tree")
    kiosk.tap(event[0].title)
    kiosk.on("event")
    crashed_at = time.time()
    nodes.output(KIOSK, "crash root/kiosk/ui")
    wait_until(lambda: (kiosk.view().get("interactive_at") or 0) > crashed_at, 10, what="a new UI")
    view = kiosk.view()
    assert view["screen"] == "welcome" and view["interactive_at"] - crashed_at <= CRASH_BACK_S
    after = nodes.table(KIOSK, "tree")
    assert int(after["root/kiosk/ui"][3]) == int(before["root/kiosk/ui"][3]) + 1
    assert after["root/kiosk/cache"][3] == before["root/kiosk/cache"][3]  # the cache lives on


def test_an_image_replaced_in_the_management_ui_shows_within_five_seconds(
    kiosk: Kiosk,
    cluster: tuple[NodeProcesses, str],
    event: tuple,
    store: Store,
    admin_login: tuple[str, str],
) -> None:
    _, base = cluster
    asset_id = store.events.get(event[0].event_id).background_asset
    assert asset_id is not None
    current = store.assets.info(asset_id).version
    wait_until(lambda: f"{asset_id}:{current}" in kiosk.view()["images"], 30, what="the image")
    browser = Browser(base)
    browser.sign_in(*admin_login)
    page = f"/admin/assets/{asset_id}"
    blue = picture(1280, 720, (30, 30, 200))
    sent = time.monotonic()
    status, _, body = browser.post_file(
        page, {"_xsrf": browser.xsrf("/admin/assets")}, "file", "blue.png", blue, "image/png"
    )
    assert status == 303, body[:500]
    wait_until(
        lambda: f"{asset_id}:{current + 1}" in kiosk.view()["images"],
        ASSET_SHOWN_S,
        what="the new version on the kiosk's screen",
    )
    assert time.monotonic() - sent <= ASSET_SHOWN_S


def test_a_kiosk_started_without_cassandra_shows_the_saved_events(
    cluster: tuple[NodeProcesses, str], event: tuple, tmp_path: Path, kiosk: Kiosk
) -> None:
    nodes, _ = cluster
    online = nodes.config.root / "var" / "kiosk" / KIOSK
    wait_until(lambda: (online / "catalog.json").exists(), what="the saved catalog")
    offline = NodeProcesses(tmp_path, [KIOSK], contact_points=["127.0.0.254"])

    def kiosk_role(document: dict[str, Any]) -> None:
        document["nodes"][KIOSK]["roles"] = ["kiosk"]
        document["cassandra"]["keyspace"]["name"] = STORAGE_TEST_KEYSPACE

    edit_config(offline, kiosk_role)
    shutil.copytree(online, offline.config.root / "var" / "kiosk" / KIOSK)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SDL_VIDEODRIVER", "dummy")
        try:
            offline.start(KIOSK)
            driver = Kiosk(offline)
            try:
                wait_until(lambda: driver.view()["complete"], 20, what="a complete Welcome")
                view = driver.view()
                assert view["offline"] and view["screen"] == "welcome"
                assert event[0].title in driver.labels() and view["images"]
                assert "connected to Cassandra" not in offline.log(KIOSK)
            finally:
                driver.close()
        finally:
            offline.stop_all()
