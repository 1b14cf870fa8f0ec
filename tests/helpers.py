"""What the tests share: waiting on conditions, test actors and trees, test data, free
loopback ports, a recording link delivery and real node processes.

Test modules import from here (``from tests.helpers import ...``); no test module imports
another. Waiting is done on conditions with timeouts, never by sleeping a fixed time.
"""

from __future__ import annotations

import dataclasses
import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml

import signups
from actors import DomainError, Failure, GatherActor, Reason
from config import cluster as cluster_config
from config.cluster import ClusterConfig, MailConfig, NodeConfig
from kiosk_ui.cache import AssetCache, KioskContent
from mail.sandbox import MailSandbox
from node.context import NodeContext
from node.logbuffer import LogBuffer
from notices.sender import Sender
from storage.announcements import Announcement
from storage.errors import FullError, Throttled, ValidationError
from storage.events import Event, SignupOption
from storage.notices import Notice
from storage.store import Store
from supervision import ChildSpec, Supervisor, Tree
from web.app import make_app
from web.server import WebServer

STORAGE_TEST_KEYSPACE = "gather_test"
"""The keyspace the storage and web tests use (created by conftest's ``store`` fixture)."""


# Actors and trees.

WAIT = 5.0
"""Seconds any single wait in these tests may take before the test fails."""


class Journal:
    """A thread-safe list of events (tuples) that tests can wait on."""

    def __init__(self) -> None:
        self._entries: list[tuple[Any, ...]] = []
        self._cond = threading.Condition()

    def add(self, *entry: Any) -> None:
        with self._cond:
            self._entries.append(entry)
            self._cond.notify_all()

    @property
    def entries(self) -> list[tuple[Any, ...]]:
        with self._cond:
            return list(self._entries)

    def count(self, *entry: Any) -> int:
        return self.entries.count(entry)

    def of(self, kind: str) -> list[Any]:
        """The second field of every entry whose first field is ``kind``, in order."""
        return [entry[1] for entry in self.entries if entry[0] == kind]

    def wait_for(
        self, predicate: Callable[[list[tuple[Any, ...]]], bool], timeout: float = WAIT
    ) -> list[tuple[Any, ...]]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self._entries), timeout):
                raise AssertionError(f"timed out; journal: {self._entries}")
            return list(self._entries)

    def wait_count(self, count: int, *entry: Any, timeout: float = WAIT) -> None:
        self.wait_for(lambda entries: entries.count(entry) >= count, timeout)


class Countdown:
    """Shared between the instances of one child: True the first ``n`` times it is asked."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            self._n -= 1
            return self._n >= 0

    def reset(self, n: int) -> None:
        """True the next ``n`` times (0: never again)."""
        with self._lock:
            self._n = n


class Worker(GatherActor):
    """A test actor that journals its life and does what its messages say."""

    def __init__(
        self,
        journal: Journal | None = None,
        *,
        fail_start: Countdown | None = None,
        hang_stop: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self.journal = journal or Journal()
        self.fail_start = fail_start
        self.hang_stop = hang_stop
        self.count = 0

    def on_start(self) -> None:
        self.journal.add("start", self.path)
        self.journal.add("start-time", self.path, time.monotonic())
        if self.fail_start is not None and self.fail_start.take():
            raise RuntimeError("failing on start, on purpose")

    def on_stop(self) -> None:
        self.journal.add("stop", self.path)
        if self.hang_stop is not None:
            self.hang_stop.wait(WAIT * 2)
            self.journal.add("stop-done", self.path)

    def on_failure(self, *_exc_info: Any) -> None:
        self.journal.add("failure", self.path)

    def on_receive(self, message: Any) -> Any:
        match message:
            case "crash":
                raise ValueError("crash on purpose")
            case "stop":
                self.stop()
            case "whoami":
                return self.actor_urn
            case "count":
                return self.count
            case ("domain", text):
                raise DomainError(text)
            case ("block", threading.Event() as event):
                self.journal.add("blocked", self.path)
                event.wait(WAIT * 2)
            case _:
                self.count += 1
                self.journal.add("got", self.path, message)
                return message
        return None


def worker(name: str, journal: Journal, **options: Any) -> ChildSpec:
    """A ``Worker`` child spec journaling into ``journal``; options go to ChildSpec."""
    kwargs: dict[str, Any] = {
        k: options.pop(k) for k in ("fail_start", "hang_stop") if k in options
    }
    return ChildSpec(name, Worker, args=(journal,), kwargs=kwargs, **options)


class GiveUps:
    """Records the root's give-up instead of exiting the process."""

    def __init__(self) -> None:
        self.reasons: list[Reason] = []
        self.event = threading.Event()

    def __call__(self, reason: Reason) -> None:
        self.reasons.append(reason)
        self.event.set()


@contextmanager
def running(
    children: Sequence[ChildSpec], give_ups: GiveUps | None = None, **root_options: Any
) -> Iterator[Tree]:
    """A tree with a root supervisor over ``children``, shut down afterwards."""
    tree = Tree.start(
        Supervisor.spec("root", children, **root_options), on_give_up=give_ups or GiveUps()
    )
    try:
        yield tree
    finally:
        tree.shutdown(WAIT)


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT, what: str = "") -> None:
    """Poll ``predicate`` (for state only a snapshot shows); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.001)


def settled(tree: Tree, path: str, *, restarts: int, state: str = "running") -> None:
    """Wait until the actor at ``path`` has ``restarts`` restarts and is in ``state``."""

    def ok() -> bool:
        now = tree.snapshot(path)
        return now.restarts == restarts and now.state == state

    wait_until(ok, what=f"{path}: {state} after {restarts} restart(s)")


def last_failure(tree: Tree, path: str) -> Failure:
    """The last failure of the actor at ``path``; the test fails if it has none."""
    failure = tree.snapshot(path).last_failure
    assert failure is not None, f"{path} has no failure"
    return failure


def deleted(tree: Tree, path: str) -> None:
    """Wait until ``path`` has left the tree (its spec and name deleted)."""
    wait_until(lambda: tree.registry.get(path) is None, what=f"{path} to be deleted")


# Test data.


def make_event(
    store: Store, code: str, capacity: int = 5, waitlist: bool = True
) -> tuple[Event, SignupOption]:
    """An open event starting tomorrow with one option; (event, option)."""
    start = datetime.now(UTC) + timedelta(days=1)
    event = store.events.create(
        title=f"Event {code}",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone="UTC",
        short_code=code,
    )
    return event, store.events.add_option(event.event_id, "Main", capacity, waitlist)


def new_address(prefix: str = "m") -> str:
    """An e-mail address no other test (or earlier run) uses."""
    return f"{prefix}-{secrets.token_hex(4)}@example.org"


def web_sign_up(store: Store, option: SignupOption, contact: str, name: str = "Iris") -> str:
    """A sign-up on the website (from a documentation address); its reference code."""
    client = signups.Client.web("198.51.100.7")
    result = signups.sign_up(store, client, option.option_id, name, contact, key=signups.new_key())
    return result.registration.ref


def mails_to(sandbox: MailSandbox, contact: str, subject: str = "") -> list[EmailMessage]:
    """What ``sandbox`` took for ``contact`` whose subject starts with ``subject``, in order."""
    return [
        mail.message
        for mail in sandbox.received
        if contact in mail.rcpt_tos and str(mail.message["Subject"]).startswith(subject)
    ]


def mail_text(message: EmailMessage) -> str:
    """The plain-text part of ``message``."""
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def send_all(sender: Sender[EmailMessage], store: Store) -> None:
    """Pass after pass of ``sender`` until nothing more is due."""
    while sender.run_pass(store):
        pass


def announced(store: Store, announcement: Announcement) -> list[Notice]:
    """The notices ``announcement`` owed, on both channels."""
    days = (datetime.now(UTC).date() - announcement.owed_at.date()).days + 1
    return [
        notice
        for channel in ("sms", "email")
        for notice in store.notices.recent(channel, days)
        if notice.key.startswith(announcement.key + ":")
    ]


def new_phone() -> str:
    """A phone number no other test (or earlier run) uses: guesses are counted per contact."""
    exchange = secrets.choice("23456789")  # a North American exchange starts with 2-9
    return f"+1555{exchange}" + "".join(secrets.choice("0123456789") for _ in range(6))


# Real node processes.

REPO = Path(__file__).resolve().parent.parent
RUN_NODE = REPO / "run_node.py"
KIOSK_FRAMES = REPO / "var" / "kiosk-frames"
"""Where kiosk tests save the frames they draw, to be looked at."""


class NodeProcesses:
    """Node processes described by a cluster.yaml written to ``folder``."""

    def __init__(
        self, folder: Path, names: list[str], contact_points: list[str] | None = None
    ) -> None:
        document = yaml.safe_load(cluster_config.DEFAULT_PATH.read_text())
        if contact_points is not None:
            document["cassandra"]["contact_points"] = contact_points
        document["cookie"] = {"env": "GATHER_TEST_COOKIE"}
        document["link"] = {"heartbeat_s": 0.25, "down_after_s": 1.0, "max_frame_kb": 1024}
        document["reports"] = {"nightly": False}  # a test that wants the nightly run says so
        document["nodes"] = {
            name: {"host": "127.0.0.1", "port": free_port(), "roles": ["worker"]} for name in names
        }
        self.config_path = folder / "cluster.yaml"
        self.config_path.write_text(yaml.safe_dump(document))
        self.config = cluster_config.load(self.config_path)
        self.cookie = secrets.token_hex(16)
        self.logs = folder
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, cookie: str | None = None) -> dict[str, str]:
        return {**os.environ, "GATHER_TEST_COOKIE": cookie or self.cookie}

    def start(self, name: str, wait: bool = True) -> None:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            [sys.executable, str(RUN_NODE), name, "--config", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env(),
            cwd=REPO,
        )
        if wait:
            self.wait_until(lambda: self.shell(name, "tree").returncode == 0, f"{name} answers")

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def shell(
        self, name: str, command: str, cookie: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``run_node.py --attach NAME -c COMMAND``, as an operator would run it."""
        return subprocess.run(
            [
                sys.executable,
                str(RUN_NODE),
                "--attach",
                name,
                "-c",
                command,
                "--config",
                str(self.config_path),
            ],
            capture_output=True,
            text=True,
            env=self.env(cookie),
            cwd=REPO,
            timeout=60,
        )

    def output(self, name: str, command: str) -> str:
        result = self.shell(name, command)
        assert result.returncode == 0, (
            f"{command!r} on {name} failed: {result.stdout}{result.stderr}"
        )
        return result.stdout

    def table(self, name: str, command: str) -> dict[str, list[str]]:
        """A ``tree`` or ``nodes`` answer as {first column: the row's columns}."""
        rows = [line.split() for line in self.output(name, command).splitlines()[1:]]
        return {row[0]: row for row in rows}

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    @staticmethod
    def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> float:
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.1)
        return time.monotonic() - started


# The node link.


class Refuser(GatherActor):
    """A test actor for the error contract, driven by plain data (so asks can cross the link).

    ``["full"]``, ``["throttled", wait_s]`` and ``["invalid", field, message]`` make it
    raise that storage refusal (a domain error: it goes on); ``"crash"`` makes it raise
    KeyError (it crashes); ``"whoami"`` names this instance.
    """

    def on_receive(self, message: Any) -> Any:
        match message:
            case "whoami":
                return self.actor_urn
            case "crash":
                raise KeyError("crash on purpose")
            case ["full"]:
                raise FullError("option 1 is full")
            case ["throttled", float(wait_s)]:
                raise Throttled(wait_s)
            case ["invalid", str(field), str(text)]:
                raise ValidationError(field, text)
        return None


class Inbox:
    """A Delivery that records what arrives."""

    def __init__(self) -> None:
        self.told: list[tuple[str, Any]] = []
        self.arrived = threading.Condition()

    def tell(self, path: str, message: Any) -> None:
        with self.arrived:
            self.told.append((path, message))
            self.arrived.notify_all()

    def ask(
        self, path: str, message: Any, timeout: float, reply: Callable[[bool, Any], None]
    ) -> None:
        if message == "fail":
            reply(False, ValueError("no thanks"))
        elif message == "unsendable":
            reply(True, {"a", "set"})
        else:
            reply(True, {"path": path, "echo": message})

    def command(self, name: str, args: list[Any]) -> Any:
        if name == "boom":
            raise KeyError("boom")
        return [name, args]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, Any]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.told) >= count, timeout), self.told
            return list(self.told)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Web.

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


# Changing a running cluster's cluster.yaml.


def edit_config(nodes: NodeProcesses, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the document of ``nodes``' cluster.yaml, write it back and load it
    again into ``nodes.config`` (running nodes see it at a reload or a restart)."""
    document = yaml.safe_load(nodes.config_path.read_text())
    change(document)
    nodes.config_path.write_text(yaml.safe_dump(document))
    nodes.config = cluster_config.load(nodes.config_path)


# A kiosk's content in this process.

KIOSK = "kiosk-test"
"""The kiosk id (and node name) kiosk tests configure and sign up from."""
KIOSK_COOKIE = b"kiosk tests' cluster cookie"


@contextmanager
def kiosk_content(config: ClusterConfig, store: Store) -> Iterator[KioskContent]:
    """The content of kiosk :data:`KIOSK` from a real asset cache on ``store``, in a
    folder of its own, once its first catalog has been fetched."""
    context = kiosk_context(config, KIOSK, store)
    with tempfile.TemporaryDirectory(prefix="kiosk-") as folder:
        spec = ChildSpec("cache", AssetCache, kwargs={"context": context, "folder": Path(folder)})
        with running([spec]) as tree:
            content: KioskContent = tree.registry.ask("root/cache", "content")
            wait_until(lambda: not content.catalog.offline, what="the kiosk's first catalog")
            yield content


# Kiosk.


def picture(width: int, height: int, colour: tuple[int, int, int], alpha: bool = False) -> bytes:
    """A PNG of ``width`` x ``height`` pixels in ``colour``, with a band of noise along its
    top (so that it weighs like a picture, not like a flat fill). With ``alpha``, its corners
    are transparent."""
    import io
    import random

    import pygame

    surface = pygame.Surface((width, height), pygame.SRCALPHA if alpha else 0, 32)
    surface.fill(colour)
    band = max(1, height // 16)
    noise = pygame.image.frombuffer(random.randbytes(width * band * 3), (width, band), "RGB")
    surface.blit(noise, (0, 0))
    if alpha:
        corner = (max(1, width // 8), max(1, height // 8))
        for x, y in ((0, 0), (width - corner[0], 0), (0, height - corner[1])):
            surface.fill((0, 0, 0, 0), pygame.Rect((x, y), corner))
    data = io.BytesIO()
    pygame.image.save(surface, data, "picture.png")
    return data.getvalue()


def kiosk_context(config: ClusterConfig, name: str, store: Store | None) -> NodeContext:
    """A NodeContext for a kiosk node ``name`` (its kiosk id) with ``store`` (None: as if
    Cassandra were out of reach)."""
    node = NodeConfig(name=name, host="127.0.0.1", port=0, roles=("kiosk",))
    return NodeContext(
        config=config, node=node, cookie=secrets.token_bytes(16), logs=LogBuffer(), store=store
    )


# The website, as a program would use it.


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_: Any) -> None:
            return None

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirect()
        )

    def get(self, path: str, data: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        """(status, headers, body) of a GET (or a POST of ``data``)."""
        body = None if data is None else urllib.parse.urlencode(data).encode()
        try:
            with self._opener.open(self.base + path, body, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def xsrf(self, path: str) -> str:
        """The XSRF token of the form on the page at ``path``."""
        _, _, page = self.get(path)
        token = re.search(rb'name="_xsrf" value="([^"]+)"', page)
        assert token, f"no XSRF token on {path}"
        return token.group(1).decode()

    def post_file(
        self, path: str, fields: dict[str, str], name: str, filename: str, data: bytes, media: str
    ) -> tuple[int, Any, bytes]:
        """(status, headers, body) of a multipart POST of ``fields`` and one file."""
        boundary = secrets.token_hex(16)
        disposition = f"--{boundary}\r\nContent-Disposition: form-data"
        parts = [
            f'{disposition}; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, value in fields.items()
        ]
        parts.append(
            f'{disposition}; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {media}\r\n\r\n'.encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            self.base + path,
            b"".join(parts),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        try:
            with self._opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def status(self, path: str) -> int:
        try:
            return self.get(path)[0]
        except OSError:
            return 0

    def sign_in(self, username: str, password: str) -> None:
        fields = {"_xsrf": self.xsrf("/admin/login"), "username": username, "password": password}
        status, _, body = self.get("/admin/login", fields)
        assert status == 303, body


@contextmanager
def web_server(context: NodeContext) -> Iterator[str]:
    """A web server for ``context`` (the test keyspace's web node) on a free loopback port,
    running in this process; its base address."""
    server = WebServer(make_app(context, storage_threads=4), "127.0.0.1", 0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@contextmanager
def web_and_kiosk(folder: Path, web: str, kiosk: str) -> Iterator[tuple[NodeProcesses, str]]:
    """A web node process and a kiosk node process (SDL's dummy video driver) on the test
    keyspace, running; (the processes, the website's base address)."""
    nodes = NodeProcesses(folder, [web, kiosk])
    http_port = free_port()

    def roles(document: dict[str, Any]) -> None:
        document["nodes"][web] |= {"roles": ["web"], "http_port": http_port}
        document["nodes"][kiosk]["roles"] = ["kiosk"]
        document["cassandra"]["keyspace"]["name"] = STORAGE_TEST_KEYSPACE

    edit_config(nodes, roles)
    base = f"http://127.0.0.1:{http_port}"
    previous = os.environ.get("SDL_VIDEODRIVER")
    os.environ["SDL_VIDEODRIVER"] = "dummy"  # inherited by the node processes
    try:
        nodes.start(web)
        nodes.start(kiosk)
        nodes.wait_until(lambda: Browser(base).status("/") == 200, "the website", 60)
        yield nodes, base
    finally:
        nodes.stop_all()
        if previous is None:
            os.environ.pop("SDL_VIDEODRIVER", None)
        else:
            os.environ["SDL_VIDEODRIVER"] = previous


# SMS: node processes with the sms role, texting through the loopback provider sandbox.

SMS_NUMBER = "+15550100100"
"""The site's own number on the test clusters."""
SMS_SECRET_ENV = "GATHER_TEST_SMS_SECRET"


@contextmanager
def sms_cluster(
    folder: Path, provider: dict[str, Any], secret: str, web: bool = False
) -> Iterator[tuple[NodeProcesses, str, str]]:
    """An sms node ``sms-a`` (and a web node ``web-b`` when ``web``) on the test keyspace,
    running, with cluster.yaml's ``sms`` section made of ``provider``'s keys (provider,
    api_url, account, public_key, provider_opt_outs, rate_limit) and the secret ``secret``;
    (the processes, the webhook's URL, the website's base address or "")."""
    names = ["sms-a", "web-b"] if web else ["sms-a"]
    nodes = NodeProcesses(folder, names)
    sms_port, http_port = free_port(), free_port()
    webhook = f"http://127.0.0.1:{sms_port}/sms/{provider['provider']}"

    def roles(document: dict[str, Any]) -> None:
        document["nodes"]["sms-a"] |= {"roles": ["sms"], "sms_port": sms_port}
        if web:
            document["nodes"]["web-b"] |= {"roles": ["web"], "http_port": http_port}
        document["cassandra"]["keyspace"]["name"] = STORAGE_TEST_KEYSPACE
        document["sms"] = {
            "webhook_url": webhook,
            "number": SMS_NUMBER,
            "secret": {"env": SMS_SECRET_ENV},
            "conversation_ttl_s": 600,
            **provider,
        }

    edit_config(nodes, roles)
    os.environ[SMS_SECRET_ENV] = secret  # inherited by the node processes
    site = f"http://127.0.0.1:{http_port}" if web else ""
    try:
        for name in names:
            nodes.start(name)
        if web:
            nodes.wait_until(lambda: Browser(site).status("/") == 200, "the website", 60)
        yield nodes, webhook, site
    finally:
        nodes.stop_all()
        os.environ.pop(SMS_SECRET_ENV, None)


# Mail: node processes with the mail role, sending to a loopback SMTP server (mail.sandbox).


@contextmanager
def mail_cluster(
    folder: Path, smtp_port: int, send_at: str, names: Sequence[str] = ("mail-a", "mail-b")
) -> Iterator[NodeProcesses]:
    """Nodes ``names`` with the mail role only, on the test keyspace, started together (all
    launched before any is waited for) and answering their shells; stopped afterwards. Their
    digest is due daily at ``send_at`` ("HH:MM", UTC), from gather@example.org to
    staff@example.org, through the SMTP server on 127.0.0.1:``smtp_port`` (no TLS, no login);
    reminders are owed from midnight the day before an event (every test event starts
    tomorrow, :func:`make_event`)."""
    nodes = NodeProcesses(folder, list(names))

    def roles(document: dict[str, Any]) -> None:
        for name in names:
            document["nodes"][name]["roles"] = ["mail"]
        document["cassandra"]["keyspace"]["name"] = STORAGE_TEST_KEYSPACE
        document["mail"] = {
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
            "sender": "gather@example.org",
            "recipients": ["staff@example.org"],
            "send_at": send_at,
            "time_zone": "UTC",
            "send_empty": True,
            "timeout_s": 5,
            "remind_at": "00:00",
        }

    edit_config(nodes, roles)
    try:
        for name in names:
            nodes.start(name, wait=False)
        waiting = list(names)

        def answered() -> bool:
            while waiting and nodes.shell(waiting[0], "tree").returncode == 0:
                waiting.pop(0)
            return not waiting

        nodes.wait_until(answered, f"{', '.join(names)} to answer")
        yield nodes
    finally:
        nodes.stop_all()


def mail_config(
    config: ClusterConfig, port: int, recipients: Sequence[str], send_empty: bool = True
) -> ClusterConfig:
    """``config`` with a mail section for the loopback SMTP server on ``port``, sending to
    ``recipients``: the digest due daily an hour ago (UTC), so that a watermark older than
    that makes one due now, and a watermark of now makes nothing due."""
    slot = (datetime.now(UTC) - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    mail = MailConfig(
        smtp_host="127.0.0.1",
        smtp_port=port,
        security="none",
        user=None,
        password=None,
        sender="gather@example.org",
        recipients=tuple(recipients),
        send_at=slot,
        time_zone="UTC",
        send_empty=send_empty,
        timeout_s=5.0,
        max_listed=50,
    )
    return dataclasses.replace(config, mail=mail)


# Reports: worker node processes on a keyspace of their own, and a coordinator in this process.

REPORTS_TEST_KEYSPACE = "gather_reports_test"
"""The keyspace the reports' tests seed with known answers (nothing else writes to it)."""
COORDINATOR = "tester"
"""The node name this test process takes on the link to coordinate reports."""


def report_nodes(folder: Path, workers: Sequence[str], **reports: Any) -> NodeProcesses:
    """Worker nodes ``workers`` (only the worker role, one report worker each unless
    ``reports`` says otherwise, no nightly run) on the reports' test keyspace, and the
    coordinator's entry (no roles) for :func:`coordinator_context`; none started yet."""
    nodes = NodeProcesses(folder, [*workers, COORDINATOR])

    def change(document: dict[str, Any]) -> None:
        document["cassandra"]["keyspace"]["name"] = REPORTS_TEST_KEYSPACE
        document["nodes"][COORDINATOR]["roles"] = []
        document["reports"] = {"nightly": False, "workers_per_node": 1, "page_rows": 10, **reports}

    edit_config(nodes, change)
    return nodes


@contextmanager
def coordinator_context(nodes: NodeProcesses, store: Store) -> Iterator[NodeContext]:
    """A NodeContext for :data:`COORDINATOR` with its own node link to ``nodes`` and
    ``store``: a report's coordinator can run in this process (the workers' answers come
    back on its link)."""
    from node.link import LinkSettings, NodeLink

    config = nodes.config
    node = config.nodes[COORDINATOR]
    context = NodeContext(
        config=config, node=node, cookie=nodes.cookie.encode(), logs=LogBuffer(), store=store
    )
    link = NodeLink(
        name=node.name,
        host=node.host,
        port=node.port,
        peers=context.node_addresses(),
        cookie=context.cookie,
        delivery=Inbox(),
        settings=LinkSettings(
            heartbeat_s=config.link.heartbeat_s,
            down_after_s=config.link.down_after_s,
            max_frame=config.link.max_frame_bytes,
        ),
    )
    link.start()
    context.link = link
    try:
        yield context
    finally:
        link.stop()


# The management UI's Reports pages: runs written straight into report_runs, and a web node
# with a worker node to run them.


def admin_page(browser: Browser, path: str) -> str:
    """The page at ``path``, which must answer 200, as text."""
    status, _, body = browser.get(path)
    assert status == 200, (path, status, body[:500])
    return body.decode()


def recorded_run(
    store: Store,
    report: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    progress: tuple[int, int, int, int] | None = None,
    trigger: str = "manual",
    period: str | None = None,
) -> str:
    """A run of ``report`` written into ``report_runs`` as a coordinator writes it: started;
    with ``progress`` (ranges total, ranges done, rows, workers) recorded; finished with
    ``result`` (``ReportResult.as_data()``) or ``error`` when either is given (else left
    running). Its run id, as text."""
    import uuid

    run_id = uuid.uuid1()
    store.report_runs.start(report, run_id, trigger, "test-node", period)
    if progress is not None:
        total, done, rows, workers = progress
        store.report_runs.progress(
            report,
            run_id,
            ranges_total=total,
            ranges_done=done,
            rows=rows,
            workers=workers,
            reassigned=0,
            hosts={"127.0.0.1": done},
        )
    if result is not None or error is not None:
        store.report_runs.finish(report, run_id, result=result, error=error)
    return str(run_id)


@contextmanager
def web_and_worker(folder: Path, web: str, worker: str) -> Iterator[tuple[NodeProcesses, str]]:
    """A node process with the web role only and one with the worker role only (no nightly
    run), on the test keyspace, running and linked; (the processes, the website's address)."""
    nodes = NodeProcesses(folder, [web, worker])
    http_port = free_port()

    def roles(document: dict[str, Any]) -> None:
        document["nodes"][web] |= {"roles": ["web"], "http_port": http_port}
        document["nodes"][worker]["roles"] = ["worker"]
        document["cassandra"]["keyspace"]["name"] = STORAGE_TEST_KEYSPACE
        document["reports"] = {"nightly": False}

    edit_config(nodes, roles)
    base = f"http://127.0.0.1:{http_port}"
    try:
        nodes.start(worker)
        nodes.start(web)
        nodes.wait_until(lambda: Browser(base).status("/") == 200, "the website", 60)
        nodes.wait_until(
            lambda: nodes.table(web, "nodes")[worker][2] == "up", f"{web}'s link to {worker}"
        )
        yield nodes, base
    finally:
        nodes.stop_all()
