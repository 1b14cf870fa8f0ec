"""End to end in a real headless Chromium against a real node process with the web role."""

from __future__ import annotations

import secrets
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from config import cluster as cluster_config
from storage.store import Store
from tests.helpers import PNG, STORAGE_TEST_KEYSPACE, NodeProcesses, free_port
from web.screenshots import CHROMIUM, CHROMIUM_ARGS

NODE = "web-e2e"
PEER = "peer-e2e"


def serves(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def web_node(
    tmp_path_factory: pytest.TempPathFactory, store: Store
) -> Iterator[tuple[NodeProcesses, str]]:
    """A running node with the web role on the test keyspace; (processes, base address)."""
    nodes = NodeProcesses(tmp_path_factory.mktemp("web-node"), [NODE, PEER])
    document = yaml.safe_load(nodes.config_path.read_text())
    document["nodes"][NODE] |= {"roles": ["web"], "http_port": free_port()}
    document["cassandra"]["keyspace"]["name"] = STORAGE_TEST_KEYSPACE
    nodes.config_path.write_text(yaml.safe_dump(document))
    nodes.config = cluster_config.load(nodes.config_path)
    base = f"http://127.0.0.1:{nodes.config.nodes[NODE].http_port}"
    try:
        nodes.start(NODE)
        nodes.start(PEER)
        nodes.wait_until(lambda: serves(base + "/"), "the website to answer", timeout=60)
        nodes.wait_until(
            lambda: nodes.table(NODE, "nodes")[PEER][2] == "up", "the peer to be linked"
        )
        yield nodes, base
    finally:
        nodes.stop_all()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:
            pytest.fail(
                f"headless Chromium ({CHROMIUM}) could not be started: {exc}", pytrace=False
            )
        yield launched
        launched.close()


def sign_up(page: Page, base: str, event_url: str, name: str, contact: str) -> str:
    page.goto(base + event_url)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Phone number or e-mail").fill(contact)
    page.get_by_role("button", name="Sign up").click()
    return page.locator("#ref").inner_text()


def test_admin_and_members_in_chromium(
    web_node: tuple[NodeProcesses, str],
    browser: Browser,
    admin_login: tuple[str, str],
    tmp_path: Path,
) -> None:
    _nodes, base = web_node
    admin = browser.new_page(accept_downloads=True)
    admin.goto(base + "/admin/events")
    admin.get_by_label("Username").fill(admin_login[0])
    admin.get_by_label("Password").fill(admin_login[1])
    admin.get_by_role("button", name="Sign in").click()
    expect(admin.get_by_role("heading", name="Events", exact=True)).to_be_visible()

    icon = tmp_path / "icon.png"
    icon.write_bytes(PNG)
    code = "E" + secrets.token_hex(4).upper()
    admin.get_by_label("Title").fill(f"Browser picnic {code}")
    admin.get_by_label("Short code (members text it)").fill(code)
    admin.get_by_label("Time zone").fill("UTC")
    admin.get_by_label("Starts at").fill("2031-06-01T12:00")
    admin.get_by_label("Ends at").fill("2031-06-01T15:00")
    admin.locator("#icon_file").set_input_files(str(icon))
    admin.get_by_role("button", name="Create the event").click()
    expect(admin.get_by_role("heading", name=f"Browser picnic {code}")).to_be_visible()
    admin.get_by_label("Label", exact=True).last.fill("Lunch")
    admin.locator("#capacity").fill("1")
    admin.get_by_role("button", name="Add the option").click()
    event_url = admin.get_by_role("link", name="Public page").get_attribute("href")
    assert event_url is not None

    member = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    member.goto(base + "/")
    expect(member.get_by_text(f"Browser picnic {code}")).to_be_visible()
    assert member.locator(f"a[href='{event_url}'] img.icon").count() == 1
    first = sign_up(member, base, event_url, "Member One", "one@example.org")
    expect(member.get_by_role("heading", name="You are signed up")).to_be_visible()
    second = sign_up(member, base, event_url, "Member Two", "two@example.org")
    expect(member.get_by_role("heading", name="You are on the waitlist")).to_be_visible()

    admin.get_by_role("link", name="Registrations").first.click()
    expect(admin.get_by_role("cell", name=first, exact=True)).to_be_visible()
    expect(admin.get_by_role("cell", name=second, exact=True)).to_be_visible()
    with admin.expect_download() as download:
        admin.locator("#csv").click()
    exported = Path(download.value.path()).read_text()
    assert f"{first},Lunch,confirmed,Member One" in exported
    assert f"{second},Lunch,waitlisted,Member Two" in exported

    admin.goto(base + "/admin/cluster")
    expect(admin.get_by_role("heading", name=f"Supervision tree of {NODE}")).to_be_visible()
    expect(admin.get_by_role("cell", name="server", exact=True)).to_be_visible()
    peer_tree = admin.get_by_role("heading", name=f"Supervision tree of {PEER}")
    expect(peer_tree).to_be_visible()
    # each node's tree has its own diagnostics actor: the peer's came over the node link
    expect(admin.get_by_role("cell", name="diagnostics", exact=True)).to_have_count(2)


def test_the_web_actor_serves_again_after_a_crash(
    web_node: tuple[NodeProcesses, str], browser: Browser
) -> None:
    nodes, base = web_node
    before = nodes.table(NODE, "tree")["root/web/server"]
    assert "crash injected" in nodes.output(NODE, "crash root/web/server")
    nodes.wait_until(
        lambda: nodes.table(NODE, "tree")["root/web/server"] != before and serves(base + "/"),
        "the web actor to be restarted and serve",
    )
    restarted = nodes.table(NODE, "tree")["root/web/server"]
    assert "running" in restarted
    page = browser.new_page()
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="Upcoming events")).to_be_visible()
