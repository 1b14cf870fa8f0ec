"""The process's connection to Cassandra: one driver ``Cluster``, one profile per operation class.

A :class:`Database` is built from cluster.yaml: token-aware load balancing over the local data
centre, and an Execution Profile for each operation class (``read``, ``write``, ``signup`` with
its serial consistency for lightweight transactions, ``report``) carrying that class's
consistency level and request timeout. Callers name the class, never a consistency level, and
every statement is prepared once and cached. Driver errors come out as the typed errors of
:mod:`storage.errors`. Create one per process and share it between threads; :meth:`run` and
:meth:`run_async` drive the :mod:`storage.flow` generators that hold the storage logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from cassandra import (
    ConsistencyLevel,
    CoordinationFailure,
    OperationTimedOut,
    ProtocolVersion,
    Timeout,
    Unavailable,
)
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    ResponseFuture,
)
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.protocol import ErrorMessage
from cassandra.query import (
    BatchStatement,
    BatchType,
    PreparedStatement,
    SimpleStatement,
    dict_factory,
    tuple_factory,
)

from config.cluster import ClusterConfig, Consistency
from storage.errors import CassandraUnavailable, MigrationError, StorageError, WriteUncertain
from storage.flow import Flow, OpClass, Pause, Query, Row

T = TypeVar("T")

SCHEMA_TIMEOUT_S = 60.0
PROTOCOL_VERSION = ProtocolVersion.V5
"""The native protocol of Cassandra 4.0 and later (and of the 5.0 the project runs), named so
that the driver does not first try newer beta versions and log each downgrade."""
# server error, overloaded, bootstrapping, truncate error, CAS result unknown (protocol v5)
_TRANSIENT_SERVER_ERRORS = frozenset({0x0000, 0x1001, 0x1002, 0x1003, 0x1700})


SCAN_PROFILE = "report_rows"
"""The ``report`` class's profile with rows as tuples (in the order of the columns selected):
the scans of reports read millions of rows, and a dict per row costs more than its decoding."""


@dataclass(frozen=True)
class RingRange:
    """One range of the token ring: the tokens ``(start, end]`` and the addresses of the
    Cassandra nodes that hold it in the keyspace, the primary replica first. The last range
    wraps around: its ``start`` is greater than its ``end``."""

    start: int
    end: int
    replicas: tuple[str, ...]


@dataclass(frozen=True)
class HostState:
    """One Cassandra node as the driver sees it."""

    address: str
    datacenter: str | None
    rack: str | None
    is_up: bool
    release_version: str | None


class Database:
    """A connected driver ``Cluster`` + ``Session`` with per-class profiles and prepared statements.

    Reads come in pages of ``page_size`` rows (the driver's 5,000 by default), all of them
    collected before an answer. Raises :class:`CassandraUnavailable` when no contact point
    answers, and :class:`MigrationError` when ``keyspace`` does not exist yet.
    """

    def __init__(
        self,
        config: ClusterConfig,
        keyspace: str | None = None,
        *,
        connect_timeout_s: float = 5.0,
        page_size: int | None = None,
    ) -> None:
        cassandra = config.cassandra
        profiles = {op: _profile(level) for op, level in cassandra.consistency.items()}
        profiles[EXEC_PROFILE_DEFAULT] = profiles["read"]
        profiles[SCAN_PROFILE] = _profile(cassandra.consistency["report"], tuple_factory)
        self._cluster = Cluster(
            contact_points=list(cassandra.contact_points),
            port=cassandra.port,
            protocol_version=PROTOCOL_VERSION,
            execution_profiles=profiles,
            connect_timeout=connect_timeout_s,
            control_connection_timeout=connect_timeout_s,
        )
        try:
            self._session = self._cluster.connect()
        except NoHostAvailable as exc:
            self._cluster.shutdown()
            points = ", ".join(cassandra.contact_points)
            raise CassandraUnavailable(
                f"cannot reach Cassandra at {points} port {cassandra.port}: {_summary(exc)}"
            ) from exc
        if page_size is not None:
            self._session.default_fetch_size = page_size
        if keyspace is not None and keyspace not in self._cluster.metadata.keyspaces:
            self._cluster.shutdown()
            raise MigrationError(
                f"keyspace {keyspace!r} does not exist: run python -m storage.migrate"
            )
        self._keyspace = keyspace
        self._prepared: dict[str, PreparedStatement] = {}
        self._lock = threading.Lock()

    @property
    def keyspace(self) -> str | None:
        """The keyspace unqualified table names refer to."""
        return self._keyspace

    def set_keyspace(self, keyspace: str) -> None:
        """Switch to ``keyspace`` (used by the migration tool once it has created it)."""
        with self._lock:
            self._keyspace = keyspace
            self._prepared.clear()

    def prepare(self, cql: str) -> PreparedStatement:
        """The prepared statement for ``cql``, prepared on first use and cached.

        The keyspace travels with each statement (protocol v5's keyspace flag) rather than as
        a ``USE`` on every connection: a node that was down while a statement was first
        prepared is given it, with its keyspace, as soon as the driver sees the node again.
        """
        statement = self._prepared.get(cql)
        if statement is None:
            with _translated(is_write=False):
                statement = self._session.prepare(cql, keyspace=self._keyspace)
            statement.is_idempotent = _is_read(cql)
            with self._lock:
                self._prepared[cql] = statement
        return statement

    def execute(self, cql: str, params: Sequence[Any] = (), op: OpClass = "read") -> list[Row]:
        """Run one prepared statement under operation class ``op``; all rows as dicts."""
        return self.submit(cql, params, op).result()

    def query(self, query: Query) -> list[Row]:
        """:meth:`execute` a repository's :class:`~storage.flow.Query`; its rows."""
        return self.execute(query.cql, query.params, query.op)

    async def query_async(self, query: Query) -> list[Row]:
        """:meth:`execute_async` a repository's :class:`~storage.flow.Query`; its rows."""
        return await self.execute_async(query.cql, query.params, query.op)

    def submit(self, cql: str, params: Sequence[Any] = (), op: OpClass = "read") -> Pending:
        """Start one prepared statement without waiting; ``.result()`` waits for its rows."""
        statement = self.prepare(cql)
        future = self._session.execute_async(statement, params, execution_profile=op)
        return Pending(future, is_write=not _is_read(cql))

    async def execute_async(
        self, cql: str, params: Sequence[Any] = (), op: OpClass = "read"
    ) -> list[Row]:
        """:meth:`execute` for an asyncio loop: awaits the rows without blocking a thread
        (only a statement's first use prepares it, on the loop's default executor)."""
        loop = asyncio.get_running_loop()
        statement = self._prepared.get(cql) or await loop.run_in_executor(None, self.prepare, cql)
        future = self._session.execute_async(statement, params, execution_profile=op)
        outcome: asyncio.Future[list[Row]] = loop.create_future()
        rows: list[Row] = []

        def settle(fill: Any, value: Any) -> None:  # on the loop
            if not outcome.done():
                fill(value)

        def pass_on(fill: Any, value: Any) -> None:  # on the driver's thread
            _release(future)
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(settle, fill, value)

        def on_page(page: list[Row] | None) -> None:  # None: a statement without rows
            try:
                rows.extend(page or ())
                if future.has_more_pages:
                    future.start_fetching_next_page()
                    return
            except BaseException as exc:  # never leave the awaiting request hanging
                pass_on(outcome.set_exception, exc)
                return
            pass_on(outcome.set_result, rows)

        def on_error(exc: BaseException) -> None:
            pass_on(outcome.set_exception, _storage_error(exc, is_write=not _is_read(cql)))

        future.add_callbacks(on_page, on_error)
        return await outcome

    def run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to its result on this thread, blocking on each step."""
        with contextlib.closing(flow):  # whatever ends it, its ``finally`` runs now
            driving = _Driving(flow)
            while (step := driving.next_step()) is not None:
                if isinstance(step, Pause):
                    time.sleep(step.seconds)
                    continue
                try:
                    driving.answer = self.query(step)
                except StorageError as exc:
                    driving.failure = exc
            return driving.result

    async def run_async(self, flow: Flow[T]) -> T:
        """Drive ``flow`` to its result on the running asyncio loop, awaiting each step."""
        with contextlib.closing(flow):
            driving = _Driving(flow)
            while (step := driving.next_step()) is not None:
                if isinstance(step, Pause):
                    await asyncio.sleep(step.seconds)
                    continue
                try:
                    driving.answer = await self.query_async(step)
                except StorageError as exc:
                    driving.failure = exc
            return driving.result

    def batch(self, statements: Sequence[tuple[str, Sequence[Any]]], op: OpClass) -> list[Row]:
        """Run prepared statements as one unlogged batch (conditional when they are LWTs)."""
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        for cql, params in statements:
            batch.add(self.prepare(cql), params)
        future = self._session.execute_async(batch, execution_profile=op)
        return Pending(future, is_write=True).result()

    def stream(
        self, cql: str, params: Sequence[Any] = (), op: OpClass = "report", page_size: int = 500
    ) -> Iterator[Row]:
        """Rows of a possibly large query, fetched page by page as they are consumed."""
        statement = self.prepare(cql).bind(params)
        statement.fetch_size = page_size
        with _translated(is_write=False):
            yield from self._session.execute(statement, execution_profile=op)

    def scan_pages(
        self, cql: str, params: Sequence[Any], page_rows: int, host: str | None = None
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The pages of a scan at the ``report`` class, rows as tuples, sent to the Cassandra
        node at address ``host`` (any node when None). The next page is requested before a
        page is handed over, so Cassandra reads it while the caller works on this one."""
        statement = self.prepare(cql).bind(params)
        statement.fetch_size = page_rows
        target = self._cluster.metadata.get_host(host) if host is not None else None
        if host is not None and target is None:
            raise CassandraUnavailable(f"no Cassandra node at {host} in the driver's metadata")
        future = self._session.execute_async(statement, execution_profile=SCAN_PROFILE, host=target)
        try:
            while True:
                with _translated(is_write=False):
                    page = future.result().current_rows
                more = future.has_more_pages
                if more:
                    future.start_fetching_next_page()
                yield page
                if not more:
                    return
        finally:
            _release(future)

    def ring(self) -> list[RingRange]:
        """The token ring's ranges, each with its replicas in this keyspace, in token order
        (the driver's ``cluster.metadata.token_map``)."""
        token_map = self._cluster.metadata.token_map
        if token_map is None or not token_map.ring:
            raise CassandraUnavailable("the driver knows no token ring yet")
        tokens = token_map.ring
        return [
            RingRange(
                start=tokens[i - 1].value,
                end=token.value,
                replicas=tuple(
                    str(host.address) for host in token_map.get_replicas(self._keyspace, token)
                ),
            )
            for i, token in enumerate(tokens)
        ]

    def is_host_up(self, address: str) -> bool:
        """Whether the driver considers the Cassandra node at ``address`` up."""
        host = self._cluster.metadata.get_host(address)
        return host is not None and bool(host.is_up)

    def schema(self, cql: str) -> None:
        """Run one DDL statement and wait until every live node agrees on the new schema."""
        with _translated(is_write=True):
            result = self._session.execute(
                SimpleStatement(cql, keyspace=self._keyspace),
                execution_profile="write",
                timeout=SCHEMA_TIMEOUT_S,
            )
        if not result.response_future.is_schema_agreed and not (
            self._cluster.control_connection.wait_for_schema_agreement(wait_time=SCHEMA_TIMEOUT_S)
        ):
            raise MigrationError(f"no schema agreement within {SCHEMA_TIMEOUT_S:g} s after: {cql}")

    def hosts(self) -> list[HostState]:
        """Every Cassandra node the driver knows of, with whether it considers it up."""
        hosts = [
            HostState(
                address=str(host.address),
                datacenter=host.datacenter,
                rack=host.rack,
                is_up=bool(host.is_up),
                release_version=host.release_version,
            )
            for host in self._cluster.metadata.all_hosts()
        ]
        return sorted(hosts, key=lambda host: host.address)

    def profile(self, op: OpClass) -> ExecutionProfile:
        """The execution profile of operation class ``op`` (what cluster.yaml configured)."""
        return self._cluster.profile_manager.profiles[op]

    def close(self) -> None:
        """Shut the driver down (connections and its threads)."""
        self._cluster.shutdown()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Driving:
    """A flow being driven: set ``answer`` (rows) or ``failure`` (a storage error thrown into
    the flow), then take the next step; ``result`` once it has returned."""

    def __init__(self, flow: Flow[Any]) -> None:
        self.flow = flow
        self.answer: Any = None
        self.failure: BaseException | None = None
        self.result: Any = None

    def next_step(self) -> Query | Pause | None:
        """The flow's next step, or ``None`` once it has returned ``result``; a flow that
        yields anything else is a :class:`TypeError`."""
        try:
            if self.failure is not None:
                step = self.flow.throw(self.failure)
            else:
                step = self.flow.send(self.answer)
        except StopIteration as done:
            self.result = done.value
            return None
        if not isinstance(step, Query | Pause):
            raise TypeError(f"a storage flow yielded {step!r}, not a Query or a Pause")
        self.answer, self.failure = None, None
        return step


class Pending:
    """A statement in flight; :meth:`result` (call it once) waits for it and translates
    driver errors."""

    def __init__(self, future: ResponseFuture, *, is_write: bool) -> None:
        self._future = future
        self._is_write = is_write

    def result(self) -> list[Row]:
        """All rows of the statement's result."""
        try:
            with _translated(is_write=self._is_write):
                return list(self._future.result())
        finally:
            _release(self._future)


@contextlib.contextmanager
def _translated(*, is_write: bool) -> Iterator[None]:
    """Raise the driver errors of the block as :func:`_storage_error` says."""
    try:
        yield
    except Exception as exc:
        error = _storage_error(exc, is_write=is_write)
        if error is exc:
            raise
        raise error from exc


def _storage_error(exc: BaseException, *, is_write: bool) -> BaseException:
    """What a failed statement raises: a storage error for an outage or a timeout; any other
    error (a malformed statement is a bug, not an outage) as it is."""
    outage = isinstance(
        exc, NoHostAvailable | Unavailable | Timeout | CoordinationFailure | OperationTimedOut
    ) or (isinstance(exc, ErrorMessage) and exc.code in _TRANSIENT_SERVER_ERRORS)
    if not outage:
        return exc
    error = _translate(exc, is_write=is_write)
    error.__cause__ = exc
    return error


def _release(future: ResponseFuture) -> None:
    """Drop what a finished request holds. The driver keeps its timeout timer, and through it
    the whole future (request, query plan, bound values, result rows), until the timeout would
    have expired: dropping those now frees streamed blobs chunk by chunk."""
    future.query = future.message = future.query_plan = future._final_result = None


def _profile(consistency: Consistency, row_factory: Any = dict_factory) -> ExecutionProfile:
    return ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
        consistency_level=ConsistencyLevel.name_to_value[consistency.level],
        serial_consistency_level=(
            ConsistencyLevel.name_to_value[consistency.serial] if consistency.serial else None
        ),
        request_timeout=consistency.timeout_s,
        row_factory=row_factory,
    )


def _is_read(cql: str) -> bool:
    return cql.lstrip()[:6].upper() == "SELECT"


def _translate(exc: BaseException, *, is_write: bool) -> StorageError:
    """The storage error for a driver error: may the write have been applied?"""
    if isinstance(exc, Unavailable):
        return CassandraUnavailable(
            f"too few replicas alive ({exc.alive_replicas} of {exc.required_replicas} needed)"
        )
    if isinstance(exc, NoHostAvailable):
        errors = exc.errors.values() if isinstance(exc.errors, Mapping) else ()
        timed_out = any(
            isinstance(error, Timeout | OperationTimedOut | CoordinationFailure) for error in errors
        )
        if is_write and timed_out:
            return WriteUncertain(f"no Cassandra node completed the write: {_summary(exc)}")
        return CassandraUnavailable(f"no Cassandra node available: {_summary(exc)}")
    if is_write:
        return WriteUncertain(f"the write timed out or failed mid-way: {exc}")
    return CassandraUnavailable(f"the read timed out or failed: {exc}")


def _summary(exc: NoHostAvailable) -> str:
    errors = exc.errors if isinstance(exc.errors, Mapping) else {}
    return "; ".join(f"{host}: {error}" for host, error in errors.items()) or str(exc)
