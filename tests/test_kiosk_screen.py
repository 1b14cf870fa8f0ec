"""Pictures of a kiosk's screen over the node link: the shell's ``screen`` and the cluster
page of the management UI, against a real kiosk node process (SDL's dummy video driver)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.operator import SCREEN_TYPES
from node.screens import DEFAULT_MAX_BYTES
from node.shell import OperatorShell, ShellConnection, ShellError, screen_file_name
from storage.store import Store
from tests.helpers import Browser, NodeProcesses, web_and_kiosk

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

KIOSK = "kiosk-shot"
WEB = "web-shot"
MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
SAVED = re.compile(
    r"saved (?P<path>\S+): (?P<size>\d+) bytes, (?P<width>\d+)x(?P<height>\d+), "
    r"screen (?P<screen>\S+) \((?P<masked>masked|not masked)\)"
)
IMG = re.compile(rf'<img src="(?P<src>/admin/cluster/screens/{KIOSK}\?taken=[0-9.e+-]+)"')

Cluster = tuple[NodeProcesses, str]
"""The processes (a web node and a kiosk node) and the website's base address."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, store: Store) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("kiosk-screen")
    probe = folder / "probe.png"
    with web_and_kiosk(folder, WEB, KIOSK) as (nodes, base):
        nodes.wait_until(
            lambda: nodes.shell(WEB, f"screen {KIOSK} {probe}").returncode == 0,
            "the kiosk's UI to answer for its screen",
            60,
        )
        yield nodes, base


def picture_size(data: bytes) -> tuple[int, int]:
    """The size of the PNG or JPEG picture ``data``, decoded (the test fails for anything else)."""
    kinds = [kind for kind, magic in MAGIC.items() if data.startswith(magic)]
    assert kinds, f"not a PNG or JPEG picture: {data[:8]!r}"
    return pygame.image.load(io.BytesIO(data), f"screen.{SCREEN_TYPES[kinds[0]]}").get_size()


def test_the_shell_saves_a_kiosks_screen(cluster: Cluster, tmp_path: Path) -> None:
    nodes, _ = cluster
    limit = min(nodes.config.link.max_frame_bytes // 4, DEFAULT_MAX_BYTES)
    for asker in (KIOSK, WEB):  # on the kiosk itself, and over the link
        target = tmp_path / f"from-{asker}.picture"
        output = nodes.output(asker, f"screen {KIOSK} {target}").strip()
        saved = SAVED.fullmatch(output)
        assert saved, f"unexpected output: {output}"
        data = target.read_bytes()
        assert Path(saved["path"]) == target and int(saved["size"]) == len(data) <= limit
        assert picture_size(data) == (int(saved["width"]), int(saved["height"]))


def test_an_asker_can_squeeze_the_picture(cluster: Cluster) -> None:
    nodes, _ = cluster
    kiosk = nodes.config.nodes[KIOSK]
    connection = ShellConnection(kiosk.host, kiosk.port, nodes.cookie.encode())
    try:
        image = connection.call("screen", None, 20_000)
        assert image["node"] == KIOSK and image["content_type"] in SCREEN_TYPES
        assert isinstance(image["data"], bytes) and len(image["data"]) <= 20_000
        assert isinstance(image["masked"], bool) and image["width"] > 0 and image["height"] > 0
        with pytest.raises(ShellError, match="max_bytes: expected 1024 to"):
            connection.call("screen", None, 10)
    finally:
        connection.close()


def test_screen_names_its_file_by_node_and_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    image = {
        "node": KIOSK,
        "screen": "signup",
        "masked": True,
        "width": 2,
        "height": 1,
        "content_type": "image/jpeg",
        "data": b"\xff\xd8\xff picture",
        "taken_at": 1_700_000_000.5,
    }

    class Answering:
        node = KIOSK

        def call(self, name: str, *args: Any) -> Any:
            assert (name, args) == ("screen", ())
            return image

    monkeypatch.chdir(tmp_path)
    assert OperatorShell(Answering()).run_one("screen")  # type: ignore[arg-type]
    name = screen_file_name(image)
    assert re.fullmatch(rf"screen-{KIOSK}-\d{{8}}-\d{{6}}\.jpg", name)
    assert (tmp_path / name).read_bytes() == image["data"]
    size = len(image["data"])
    assert f"saved {name}: {size} bytes, 2x1, screen signup (masked)" in capsys.readouterr().out


def test_a_node_without_the_kiosk_role_has_no_screen(cluster: Cluster) -> None:
    nodes, _ = cluster
    result = nodes.shell(KIOSK, f"screen {WEB}")
    assert result.returncode == 1
    assert f"node {WEB} has no kiosk role (its roles: web)" in result.stdout
    result = nodes.shell(KIOSK, "screen no-such-node")
    assert result.returncode == 1 and "no node named 'no-such-node'" in result.stdout


def test_the_cluster_page_shows_the_kiosks_screen(
    cluster: Cluster, admin_login: tuple[str, str]
) -> None:
    _, base = cluster
    anonymous = Browser(base)
    status, headers, _ = anonymous.get(f"/admin/cluster/screens/{KIOSK}")
    assert status == 302 and headers["Location"].startswith("/admin/login")

    browser = Browser(base)
    browser.sign_in(*admin_login)
    status, _, page = browser.get("/admin/cluster")
    assert status == 200
    html = page.decode()
    shown = IMG.search(html)
    assert shown, "no picture of the kiosk's screen on the cluster page"
    assert "Kiosk screens" in html and "Screen <strong>" in html and "taken " in html
    for src in (shown["src"], f"/admin/cluster/screens/{KIOSK}"):  # the one shown, a new one
        status, headers, data = browser.get(src)
        assert status == 200
        assert headers["Content-Type"] in SCREEN_TYPES
        assert headers["Cache-Control"] == "no-store"
        assert data.startswith(MAGIC[headers["Content-Type"]]) and picture_size(data)
    assert browser.get(f"/admin/cluster/screens/{WEB}")[0] == 404


def test_a_kiosk_that_is_down_is_said_so_in_words(
    cluster: Cluster, admin_login: tuple[str, str]
) -> None:
    nodes, base = cluster
    nodes.kill(KIOSK)
    nodes.wait_until(lambda: nodes.table(WEB, "nodes")[KIOSK][2] == "down", "the kiosk down")
    result = nodes.shell(WEB, f"screen {KIOSK}")
    assert result.returncode == 1 and f"node {KIOSK} is down" in result.stdout
    browser = Browser(base)
    browser.sign_in(*admin_login)
    html = browser.get("/admin/cluster")[2].decode()
    assert f"No picture of the screen: node {KIOSK} is down" in html
    assert not IMG.search(html)
    assert browser.get(f"/admin/cluster/screens/{KIOSK}")[0] == 503
