"""Sign-ups per second by text: signed Twilio webhook requests against the raw driver.

Our side POSTs, for each sign-up, the signed Twilio webhook request of one text that completes
a sign-up on its own (``JOIN <CODE> 1 Bench Person``: a name given, an event with one open
option, so nothing is asked) to the real SMS webhook (``sms.app.make_app`` with an
``SmsService`` and a ``TwilioProvider``, on the ``WebServer`` a node runs, in a process of its
own as on a node), from a new number each time, with its own MessageSid, over keep-alive
connections driven from one thread; every answer must be a 200 TwiML reply that says
"confirmed". The raw side sends, from as many threads as there are connections, exactly the
statements the webhook sends for such a text (counted in the server process, and checked to
be the same statements in the same order at the same operation classes), with precomputed
values, on a bare driver session. Each connection or thread texts its own event (one option
each), so neither side measures compare-and-set contention; rounds alternate and the ratio is
the median of the rounds' ratios. Then both sides run paced (open loop) at half our peak rate
for the p99 latency goal. Run on the local 3-node cluster:

    .venv/bin/python bench/sms.py [--texts 400] [--connections 16] [--rounds 9] [--paced-rounds 3]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import multiprocessing
import os
import random
import re
import secrets
import selectors
import socket
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cassandra.cluster import Session
from cassandra.util import uuid_from_time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sms.catalog
from bench.harness import (
    Figures,
    alternating_rounds,
    figures,
    free_port,
    median_ratio,
    median_round,
    print_json,
    print_paced_rounds,
    print_table,
    run_threads,
    steal_pct,
    steal_pcts,
)
from bench.signups import Side, store_and_raw_session
from bench.web import paced
from config import cluster as cluster_config
from config.cluster import ClusterConfig, NodeConfig, SecretSource, SmsConfig
from node.context import NodeContext
from node.logbuffer import LogBuffer
from node.process import settle_interpreter
from signups import Upcoming, upcoming_with_options
from sms import replies
from sms.app import MAX_BODY_BYTES, make_app
from sms.sandbox import LOOPBACK, ProviderSandbox, twilio_webhook_request
from sms.service import SmsService, make_provider
from storage.events import Event, SignupOption
from storage.registrations import SIGN_UP_CONFIRMED, new_code
from storage.registrations.refs import make_ref
from storage.session import Database
from storage.store import Store
from web.server import WebServer

CAPACITY = 100_000
SITE_NUMBER = "+15550100100"
WEBHOOK_PATH = "/sms/twilio"
SECRET_ENV = "GATHER_BENCH_SMS_SECRET"
NAME = "Bench Person"
NODE = "bench-sms"
OURS = "ours (Twilio webhook)"

# The statements the webhook sends for a text that signs up (sms.service, sms.conversation,
# signups.rules, storage.sms_*, storage.registrations): written out here for the raw side,
# and checked at run time against what the server process counts (``same_statements``).
CLAIM = "INSERT INTO sms_provider_ids (provider_id, at) VALUES (?, ?) IF NOT EXISTS"
IS_OPTED_OUT = "SELECT phone FROM sms_optouts WHERE phone = ?"
SENDER = "SELECT name, pending FROM sms_senders WHERE phone = ?"
REMEMBER_NAME = "UPDATE sms_senders SET name = ?, pending = null WHERE phone = ?"
INSERT_MESSAGE = (
    "INSERT INTO sms_messages (day, at, direction, from_number, to_number, body, provider_id, "
    "node, action, reply) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_BY_NUMBER = (
    "INSERT INTO sms_by_number (phone, at, day, direction, action) VALUES (?, ?, ?, ?, ?)"
)
MESSAGES_BATCH = (
    "BEGIN UNLOGGED BATCH "
    + "; ".join((INSERT_MESSAGE, INSERT_BY_NUMBER, INSERT_MESSAGE, INSERT_BY_NUMBER, REMEMBER_NAME))
    + "; APPLY BATCH"
)
"""The text, its reply and the name remembered: one prepared unlogged batch statement."""
Request = tuple[str, str, tuple[str, ...]]
"""One request to Cassandra: how it was sent (``execute``, ``batch``, ``stream``), its
operation class and its CQL (a batch's statements)."""
PLAN: tuple[Request, ...] = (
    ("execute", "signup", (CLAIM,)),
    ("execute", "read", (IS_OPTED_OUT,)),
    ("execute", "read", (SENDER,)),
    ("execute", "signup", (SIGN_UP_CONFIRMED,)),
    ("execute", "write", (MESSAGES_BATCH,)),
)
"""(how it is sent, operation class, CQL): what the raw side sends per text, in order."""
WHY = (
    "claims the MessageSid: a webhook Twilio retries is known and answered as before; "
    "the two reads are sent beside it",
    "an opted-out number is answered nothing (but HELP and START); sent with the next",
    "the sender's remembered name and pending question (which option? what name?)",
    "the sign-up: seat compare-and-set, key, contact and code claims, registration row",
    "the text and its reply, each in the day's log and the log by number, and the name "
    "remembered for the number's next sign-up (a pending question cleared)",
)

_numbers = itertools.count()
_NUMBER_BASE = random.randrange(800 * 800 * 10_000)
"""Senders are North American numbers (+1 NXX NXX XXXX, as ``storage.validate.phone`` takes
them) counted from a random base of this run: a new number for every text, almost surely none
that an earlier run remembered a name for (which would leave out the name's write)."""


def next_sender() -> tuple[int, str]:
    """A fresh sequence number and a sender number not used before in this run."""
    n = next(_numbers)
    k = _NUMBER_BASE + n
    area, exchange, line = 200 + k // 8_000_000 % 800, 200 + k // 10_000 % 800, k % 10_000
    return n, f"+1{area:03d}{exchange:03d}{line:04d}"


def new_sid() -> str:
    """A Twilio MessageSid (SM and 32 hex digits)."""
    return "SM" + secrets.token_hex(16)


def text_body(code: str) -> str:
    """The one text that signs up to event ``code``: a party of one, with a name."""
    return f"JOIN {code} 1 {NAME}"


# -- the server process -----------------------------------------------------------------------


def bench_config(base: ClusterConfig, port: int, api_url: str, account: str) -> ClusterConfig:
    """``base`` with an ``sms`` section for the webhook on ``port``: Twilio, the secret from
    :data:`SECRET_ENV`, the provider answering STOP itself, and a rate limit never reached."""
    section = SmsConfig(
        provider="twilio",
        webhook_url=f"http://{LOOPBACK}:{port}{WEBHOOK_PATH}",
        number=SITE_NUMBER,
        api_url=api_url,
        account=account,
        public_key=None,
        secret=SecretSource(env=SECRET_ENV, file=None, what="sms.secret"),
        provider_opt_outs=True,
        rate_limit=10_000,
        rate_period_s=60.0,
        conversation_ttl_s=900,
    )
    return dataclasses.replace(base, sms=section)


class Census:
    """Counts what a process sends to Cassandra through :class:`Database` while on: each
    request as a :data:`Request`, in order."""

    _METHODS = (
        ("submit", "execute", 1),
        ("execute_async", "execute", 1),
        ("batch", "batch", 0),
        ("stream", "stream", 1),
    )
    """(method, kind, where its ``op`` is among the arguments after the CQL): ``execute`` and
    the steps of flows run blocking go through ``submit``, those of flows run on a loop
    through ``execute_async``."""

    def __init__(self) -> None:
        self.sent: list[Request] = []
        self._originals: dict[str, Any] = {}

    def start(self) -> None:
        """Count from now on."""
        sent: list[Request] = []
        self.sent = sent
        for name, kind, at in self._METHODS:
            original = getattr(Database, name)
            self._originals[name] = original
            setattr(Database, name, _counting(original, kind, at, sent))

    def stop(self) -> list[Request]:
        """Stop counting; what was counted."""
        for name, original in self._originals.items():
            setattr(Database, name, original)
        self._originals.clear()
        return self.sent


def _counting(original: Any, kind: str, at: int, sent: list[Request]) -> Any:
    """``original`` (a method of :class:`Database`), recording each call in ``sent``."""

    def counted(db: Database, cql: Any, *args: Any, **kwargs: Any) -> Any:
        default = "report" if kind == "stream" else "read"
        op = kwargs.get("op", args[at] if len(args) > at else default)
        cqls = tuple(statement for statement, _ in cql) if kind == "batch" else (cql,)
        sent.append((kind, op, cqls))
        return original(db, cql, *args, **kwargs)

    return counted


def serve(keyspace: str, port: int, account: str, token: str, pipe: Connection) -> None:
    """Run the SMS webhook (a node's sms role without its notifier: Twilio's replies are
    inline) on ``port`` until ``pipe`` says stop, counting statements when asked."""
    os.environ[SECRET_ENV] = token
    refreshes = _time_catalog_refreshes()
    with ProviderSandbox(twilio_account_sid=account, twilio_auth_token=token) as sandbox:
        config = bench_config(cluster_config.load(), port, sandbox.url, account)
        assert config.sms is not None
        with Store(config, node=NODE, keyspace=keyspace) as store:
            node = NodeConfig(name=NODE, host=LOOPBACK, port=0, roles=("sms",), sms_port=port)
            context = NodeContext(
                config=config, node=node, cookie=b"bench", logs=LogBuffer(), store=store
            )
            provider = make_provider(config.sms)  # as sms.actor.SmsWebhook does
            service = SmsService(context.require_store, config, provider)
            app = make_app(context, service, provider)
            server = WebServer(app, LOOPBACK, port, max_body_size=MAX_BODY_BYTES)
            server.start()
            settle_interpreter()  # as a node does once started
            census = Census()
            pipe.send("ready")
            while (command := pipe.recv()) != "stop":
                if command == "count":
                    census.start()
                    pipe.send("counting")
                elif command == "counted":
                    pipe.send(census.stop())
                elif command == "refreshes":
                    pipe.send(refreshes[:])
                    refreshes.clear()
            server.stop()


def _time_catalog_refreshes() -> list[float]:
    """Time each refresh of the webhook's catalog (``sms.catalog`` scans the events every
    ``FRESH_S`` seconds and reads those changed, every event and its options' seats every
    ``FULL_S``, in the background while texts go on with the list it replaces): the list
    their durations (s) go to."""
    took: list[float] = []
    read = getattr(sms.catalog, "upcoming_with_options", None)
    if read is None:  # the catalog reads otherwise now: not timed
        return took

    def timed(store: Store, known: Sequence[tuple[Event, list[SignupOption]]] = ()) -> Upcoming:
        began = time.perf_counter()
        try:
            return read(store, known)
        finally:
            took.append(time.perf_counter() - began)

    sms.catalog.upcoming_with_options = timed
    return took


# -- our side: the load generator -------------------------------------------------------------


class _Connection:
    """One HTTP/1.1 keep-alive connection: send a whole request, read its answer as it comes."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection((LOOPBACK, port), timeout=30)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def send(self, request: bytes) -> None:
        """Send the request (small enough for the socket's buffer)."""
        self.socket.sendall(request)

    def receive(self) -> tuple[int, bytes] | None:
        """Read what has arrived: the status and body once the whole answer is in, else None."""
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self._buffer += chunk
        if b"\r\n\r\n" not in self._buffer:
            return None
        head, body = self._buffer.split(b"\r\n\r\n", 1)
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if length is None:
            raise RuntimeError(f"a response without Content-Length: {head!r}")
        size = int(length[1])
        if len(body) < size:
            return None
        self._buffer = body[size:]
        return int(head[9:12]), body[:size]

    def close(self) -> None:
        """Close the connection."""
        self.socket.close()


class Texts:
    """Our side: members texting the webhook, one event (code) per connection.

    Requests are built (signed) before a run (more only if a connection's run out), so the
    load generator's thread, which shares the 2 cores with the server and Cassandra, mostly
    writes and reads sockets; one thread and a selector for all connections, as
    ``bench/web.py`` drives the website. Idle connections are taken in turn (paced rounds
    spread over all of them).
    """

    def __init__(self, port: int, account: str, token: str, codes: list[str]) -> None:
        self._port = port
        self._account = account
        self._token = token
        self._url = f"http://{LOOPBACK}:{port}{WEBHOOK_PATH}"
        self.codes = codes
        self.failures: list[str] = []
        """The first few answers that were not a confirmed sign-up."""

    def request(self, code: str) -> bytes:
        """A whole HTTP request: a new member's text signing up to ``code``, signed."""
        _, sender = next_sender()
        body, headers = twilio_webhook_request(
            self._url,
            self._token,
            sender,
            SITE_NUMBER,
            text_body(code),
            new_sid(),
            account_sid=self._account,
        )
        lines = [f"POST {WEBHOOK_PATH} HTTP/1.1", f"Host: {LOOPBACK}:{self._port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body

    def closed(self, count: int) -> Figures:
        """``count`` texts, each connection sending its next one when its answer arrives;
        latency from sending."""
        return self._drive(count, rate=None)

    def paced(self, rate: float, count: int) -> Figures:
        """``count`` texts started at ``rate`` per second (open loop) on the first idle
        connection; latency from when each was due, as ``bench.web.paced`` measures the raw
        side."""
        return self._drive(count, rate)

    def _drive(self, count: int, rate: float | None) -> Figures:
        each = 2 * (count // len(self.codes)) + 2  # idle connections are taken in turn
        ready = {code: deque(self.request(code) for _ in range(each)) for code in self.codes}
        latencies: list[float] = []
        errors = 0
        began: dict[_Connection, float] = {}
        code_of: dict[_Connection, str] = {}
        idle: deque[_Connection] = deque()
        sent = 0
        with selectors.DefaultSelector() as selector:

            def connect(code: str) -> None:
                connection = _Connection(self._port)
                code_of[connection] = code
                selector.register(connection.socket, selectors.EVENT_READ, connection)
                idle.append(connection)

            try:
                for code in self.codes:
                    connect(code)
                started = time.perf_counter()
                while len(latencies) + errors < count:
                    now = time.perf_counter()
                    while idle and sent < count and (rate is None or started + sent / rate <= now):
                        connection = idle.popleft()
                        queue = ready[code_of[connection]]
                        connection.send(
                            queue.popleft() if queue else self.request(code_of[connection])
                        )
                        began[connection] = now if rate is None else started + sent / rate
                        sent += 1
                    wait = None
                    if rate is not None and idle and sent < count:
                        wait = max(0.0, started + sent / rate - now)
                    for key, _ in selector.select(wait):
                        connection = key.data
                        try:
                            answer = connection.receive()
                        except (OSError, RuntimeError) as exc:  # counted; a new one goes on
                            errors += 1
                            self._failed(f"connection: {exc}")
                            selector.unregister(connection.socket)
                            connection.close()
                            connect(code_of.pop(connection))
                            continue
                        if answer is None:
                            continue
                        status, body = answer
                        if status == 200 and b"<Message>" in body and b"confirmed" in body:
                            latencies.append(time.perf_counter() - began[connection])
                        else:
                            errors += 1
                            self._failed(f"{status} {body[:300]!r}")
                        idle.append(connection)
            finally:
                for connection in code_of:
                    connection.close()
        return figures(latencies, time.perf_counter() - started, errors)

    def _failed(self, what: str) -> None:
        if len(self.failures) < 5:
            self.failures.append(what)


# -- the raw side -----------------------------------------------------------------------------


class RawTexts(Side):
    """The statements the webhook sends for one such text, on a bare driver session with an
    execution profile per operation class, each thread into its own option."""

    def __init__(self, store: Store, session: Session, threads: int) -> None:
        super().__init__(store, "SMSR", threads, is_open=False)  # not in the webhook's catalog
        self._session = session
        self._claim, self._opted_out, self._sender, self._sign_up, self._messages = (
            session.prepare(cql)
            for cql in (CLAIM, IS_OPTED_OUT, SENDER, SIGN_UP_CONFIRMED, MESSAGES_BATCH)
        )
        self._state = {option_id: (0, 0) for option_id in self.options}  # version, taken
        seats = {option_id: store.registrations.seats(option_id) for option_id in self.options}
        self._prefix = {option_id: seats[option_id].ref_prefix for option_id in self.options}
        event = store.events.get(self.event_id)
        self._about = f"{event.title} {replies.when(event)}"
        self._code = event.short_code

    def sign_up(self, _: int) -> None:
        """One text's statements, in the webhook's order."""
        _, option_id = self.next()
        _, sender = next_sender()
        sid = new_sid()
        now = datetime.now(UTC)
        day = now.date()
        message_id = uuid_from_time(now)
        execute = self._session.execute
        claim = self._session.execute_async(
            self._claim, (sid, message_id), execution_profile="signup"
        )
        reads = [
            self._session.execute_async(statement, (sender,), execution_profile="read")
            for statement in (self._opted_out, self._sender)
        ]
        if not claim.result().one()[0]:  # the three in flight at once, as the webhook sends them
            raise RuntimeError(f"{sid} was claimed before")
        for read in reads:
            read.result().all()
        version, taken = self._state[option_id]
        number = version + 1
        code = new_code()
        row = execute(
            self._sign_up,
            (
                taken + 1,
                0,
                number,
                number,
                option_id,
                version,
                option_id,
                "k:" + sid,
                number,
                option_id,
                "c:" + sender,
                number,
                option_id,
                "x:" + code,
                number,
                option_id,
                f"r:{number:09d}",
                number,
                NAME,
                sender,
                1,
                "sms",
                NODE,
                sid,
                "confirmed",
                now,
                now,
                code,
            ),
            execution_profile="signup",
        ).one()
        if not row[0]:
            raise RuntimeError(f"raw sign-up {sid} did not apply: {row}")
        self._state[option_id] = (number, taken + 1)
        ref = make_ref(self._prefix[option_id], code, number)
        reply = f"You're confirmed for {self._about}. Code {ref}. To cancel text CANCEL {ref}"
        reply_id = uuid_from_time(datetime.now(UTC))
        execute(
            self._messages,
            (
                *(day, message_id, "in", sender, SITE_NUMBER, text_body(self._code), sid, NODE),
                *("signed_up", reply, sender, message_id, day, "in", "signed_up"),
                *(day, reply_id, "out", SITE_NUMBER, sender, reply, None, NODE, "reply", None),
                *(sender, reply_id, day, "out", "reply", NAME, sender),
            ),
            execution_profile="write",
        )


# -- the run ----------------------------------------------------------------------------------


def seed(store: Store, count: int) -> list[tuple[uuid.UUID, str]]:
    """``count`` upcoming events of one open option each: (event id, short code)."""
    start = datetime.now(UTC) + timedelta(days=30)
    tag = secrets.token_hex(3).upper()
    found = []
    for index in range(count):
        event = store.events.create(
            title=f"Bench SMS {index}",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            time_zone="UTC",
            short_code=f"S{tag}{index:02d}",
        )
        store.events.add_option(event.event_id, "Bench", CAPACITY)
        found.append((event.event_id, event.short_code))
    return found


def describe(kind: str, op: str, cqls: Sequence[str]) -> str:
    """One request to Cassandra in a few words: its statements, whether it is a lightweight
    transaction, and its operation class."""
    if kind == "batch":
        return f"unlogged batch of {len(cqls)}: {_listed(cqls)} [{op}]"
    text = " ".join(cqls[0].split())
    if text.upper().startswith("BEGIN"):  # a batch written as one statement
        parts = [part.strip() for part in text.split(";")][:-1]  # up to APPLY BATCH
        parts[0] = re.sub(r"^BEGIN\s+(UNLOGGED\s+)?BATCH\s+", "", parts[0], flags=re.IGNORECASE)
        if not is_lwt(parts):
            return f"unlogged batch of {len(parts)}: {_listed(parts)} [{op}]"
        return f"conditional batch of {len(parts)} (LWT): {_listed(parts, marked=False)} [{op}]"
    return f"{_statement(text)} [{op}]"


def _listed(cqls: Sequence[str], marked: bool = True) -> str:
    """Statements in a few words each, in order, a run of the same one counted."""
    runs: list[list[Any]] = []
    for words in (_statement(cql, marked) for cql in cqls):
        if runs and runs[-1][0] == words:
            runs[-1][1] += 1
        else:
            runs.append([words, 1])
    return ", ".join(words if count == 1 else f"{count} x {words}" for words, count in runs)


def _statement(cql: str, marked: bool = True) -> str:
    """``SELECT sms_senders``, ``INSERT sms_provider_ids IF NOT EXISTS (LWT)``."""
    text = " ".join(cql.split())
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", text, re.IGNORECASE)
    condition = re.search(r"\bIF\b.*$", text)
    words = f"{text.split()[0].upper()} {table[1] if table else '?'}"
    if condition:
        words += f" {condition[0]}" + (" (LWT)" if marked else "")
    return words


def is_lwt(cqls: Sequence[str]) -> bool:
    """Whether a request is a lightweight transaction (a condition in any of its statements)."""
    return any(re.search(r"\bIF\b", cql) for cql in cqls)


def census_of(sent: list[Request], texts: int) -> dict[str, float]:
    """Requests per text by description, over a run of ``texts`` texts."""
    counts = Counter(describe(*request) for request in sent)
    return {what: round(count / texts, 3) for what, count in counts.most_common()}


def catalog_size(store: Store) -> tuple[int, int, float]:
    """The upcoming events and options the webhook's catalog holds, and how long reading
    them took (its refresh, every ``sms.catalog.FRESH_S``), in ms."""
    began = time.perf_counter()
    upcoming = upcoming_with_options(store)
    took = (time.perf_counter() - began) * 1000
    return len(upcoming), sum(len(options) for _, options in upcoming), took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=400, help="per side and round")
    parser.add_argument("--connections", type=int, default=16, help="in flight, each side")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--paced-rounds", type=int, default=3)
    parser.add_argument("--keyspace", default="gather_bench")
    args = parser.parse_args()
    if args.paced_rounds < 1:
        parser.error("--paced-rounds must be at least 1")
    account, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    closing: list[uuid.UUID] = []
    with store_and_raw_session(args.keyspace) as (store, session):
        spawn = multiprocessing.get_context("spawn")
        pipe, server_end = spawn.Pipe()
        port = free_port()
        server = spawn.Process(
            target=serve, args=(args.keyspace, port, account, token, server_end), daemon=True
        )
        try:
            events = seed(store, args.connections)
            closing += [event_id for event_id, _ in events]
            raw = RawTexts(store, session, args.connections)
            server.start()
            if pipe.recv() != "ready":
                raise RuntimeError("the webhook did not start")
            catalog = catalog_size(store)
            texts = Texts(port, account, token, [code for _, code in events])
            run_threads(raw.sign_up, args.connections * 4, args.connections)  # warm-up
            if texts.closed(args.connections * 4).errors:
                raise RuntimeError(f"texts not signed up; answers: {texts.failures}")
            for _ in range(3):  # one text whose requests are the plan's (no catalog refresh)
                one, one_text = counting(pipe, functools.partial(texts.closed, 1))
                if tuple(one_text) == PLAN:
                    break
            rounds = alternating_rounds(
                {
                    "raw driver": functools.partial(
                        run_threads, raw.sign_up, args.texts, args.connections
                    ),
                    OURS: functools.partial(texts.closed, args.texts),
                },
                args.rounds,
                collector_off=True,
            )
            run, sent = counting(pipe, functools.partial(texts.closed, args.texts))
            half_rate = median_round(rounds[OURS]).per_s / 2
            if not half_rate:
                raise RuntimeError(f"no text signed up; answers: {texts.failures}")
            paced_count = max(args.texts, int(half_rate * 5))
            refreshes = {"closed": _refreshes(pipe)}
            at_half = alternating_rounds(
                {
                    "raw driver": functools.partial(
                        paced, raw.sign_up, half_rate, paced_count, args.connections
                    ),
                    OURS: functools.partial(texts.paced, half_rate, paced_count),
                },
                args.paced_rounds,
                collector_off=True,
            )
            refreshes["paced"] = _refreshes(pipe)
        finally:
            if server.is_alive():
                pipe.send("stop")
                server.join(15)
            for event_id in closing:  # so that later runs' catalogs do not read them
                store.events.set_open(event_id, False)

    report(args, rounds, at_half, (one, one_text), (run, sent), catalog, refreshes, texts.failures)
    return 0


def _refreshes(pipe: Connection) -> list[float]:
    """How long each refresh of the webhook's catalog took since the last call (s)."""
    pipe.send("refreshes")
    took: list[float] = pipe.recv()
    return took


def counting(pipe: Connection, run: Callable[[], Figures]) -> tuple[Figures, list[Request]]:
    """``run()``, with the server process counting what it sends Cassandra meanwhile."""
    pipe.send("count")
    if pipe.recv() != "counting":
        raise RuntimeError("the webhook's process did not start counting")
    try:
        found = run()
    finally:
        pipe.send("counted")
        sent: list[Request] = pipe.recv()
    return found, sent


def report(
    args: argparse.Namespace,
    rounds: dict[str, list[Figures]],
    at_half: dict[str, list[Figures]],
    one: tuple[Figures, list[Request]],
    run: tuple[Figures, list[Request]],
    catalog: tuple[int, int, float],
    refreshes: dict[str, list[float]],
    failures: list[str],
) -> None:
    """Print the table, the requests of one text and per text of a run, and the JSON line."""
    median = {name: median_round(found) for name, found in rounds.items()}
    ours, raw = median[OURS], median["raw driver"]
    half_rate = ours.per_s / 2
    half, raw_half = (
        median_round(at_half[name], by=lambda f: f.p99_ms) for name in (OURS, "raw driver")
    )
    ratio = median_ratio(rounds[OURS], rounds["raw driver"])
    one_run, one_text = one
    same = tuple(one_text) == PLAN
    lwts = sum(1 for _, _, cqls in one_text if is_lwt(cqls))
    print_table(
        f"sign-up texts: {args.texts} per side and round, {args.connections} in flight, median "
        f"of {args.rounds} alternating rounds; then both sides paced at half our peak rate "
        f"(the round with the median p99 of {args.paced_rounds})",
        {
            **median,
            f"ours at {half_rate:.0f}/s (half)": half,
            f"raw driver at {half_rate:.0f}/s": raw_half,
        },
    )
    print_paced_rounds(at_half)
    events, options, took = catalog
    print(
        f"the webhook's catalog: {events} upcoming events with {options} options in the "
        f"keyspace (read in {took:.0f} ms by the bench at the start)"
    )
    for phase, times in refreshes.items():
        each = ", ".join(f"{t * 1000:.0f}" for t in times)
        print(f"  the webhook refreshed it {len(times)} times in the {phase} rounds; ms: {each}")
    print(f"what the webhook sent Cassandra for one text ({one_run.p50_ms:.1f} ms, after warm-up):")
    reasons = dict(zip(PLAN, WHY, strict=True))
    for number, request in enumerate(one_text, 1):
        print(f"  {number}. {describe(*request)}: {reasons.get(request, 'not in the plan')}")
    print(
        f"  {len(one_text)} requests, {lwts} of them lightweight transactions; the raw side "
        f"sends {'the same' if same else 'OTHER'} statements, in the same order and classes"
    )
    run_figures, sent = run
    census = census_of(sent, max(1, run_figures.ops + run_figures.errors))
    print(f"requests per text over a closed run of {run_figures.ops} ({run_figures.per_s:.0f}/s):")
    for what, count in census.items():
        print(f"  {count:6.3f}  {what}")
    if failures:
        print("answers that were not a confirmed sign-up:", *failures, sep="\n  ")
    print(
        f"ours / raw driver: {ratio:.3f} (median of the rounds' ratios; goal >= 0.7); "
        f"p99 at half the peak rate {half.p99_ms:.1f} ms (goal <= 100)"
    )
    everything = (*rounds.values(), *at_half.values(), [run_figures])
    print_json(
        "sms",
        ours_per_s=round(ours.per_s, 1),
        raw_per_s=round(raw.per_s, 1),
        ratio=round(ratio, 3),
        p99_ms=round(half.p99_ms, 2),
        p50_ms=round(ours.p50_ms, 2),
        peak_p99_ms=round(ours.p99_ms, 2),
        half_rate_per_s=round(half_rate, 1),
        half_p50_ms=round(half.p50_ms, 2),
        raw_p50_ms=round(raw.p50_ms, 2),
        raw_p99_ms=round(raw.p99_ms, 2),
        raw_half_rate_p99_ms=round(raw_half.p99_ms, 2),
        ours_half_p99s_ms=[round(f.p99_ms, 2) for f in at_half[OURS]],
        raw_half_p99s_ms=[round(f.p99_ms, 2) for f in at_half["raw driver"]],
        ours_half_steal_pcts=steal_pcts(at_half[OURS]),
        raw_half_steal_pcts=steal_pcts(at_half["raw driver"]),
        peak_steal_pct=steal_pct(ours),
        lwts_per_message=lwts,
        statements_per_message=len(one_text),
        same_statements=same,
        requests_per_message=census,
        catalog_events=events,
        catalog_options=options,
        catalog_refresh_ms={
            phase: [round(t * 1000, 1) for t in times] for phase, times in refreshes.items()
        },
        errors=sum(f.errors for found in everything for f in found),
        texts=args.texts,
        connections=args.connections,
        rounds=args.rounds,
        paced_rounds=args.paced_rounds,
    )


if __name__ == "__main__":
    sys.exit(main())
