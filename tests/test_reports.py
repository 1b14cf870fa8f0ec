"""Reports over worker node processes, against a seeded data set with known answers.

The data (module fixture ``seeded``): four events on the reports' own keyspace, made through
the real repositories; eleven options filled with generated registrations written as the
ledger holds them (reports.sample), and one option filled by real sign-ups and a
cancellation; text messages and opt-outs recorded through the SMS repositories. The
expected answers are counted here from what was written, not by the engine.

The coordinator runs in this process (tests.helpers.coordinator_context), so a test can
watch its progress and kill a worker node mid-run; the shell's ``report`` runs one on a node.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import signups
from config.cluster import ClusterConfig
from devcluster import LocalCluster
from node.context import NodeContext
from reports import Coordinator, ReportResult, Scan, catalog, pieces, sample
from reports.definition import Report, Table
from reports.errors import UnknownReport, WorkerMismatch
from storage import migrate as storage_migrate
from storage.session import Database
from storage.store import Store
from tests.helpers import (
    REPORTS_TEST_KEYSPACE,
    NodeProcesses,
    coordinator_context,
    new_phone,
    report_nodes,
    wait_until,
)

WORKERS = ("rw1", "rw2", "rw3")
TABLES = (
    "signup_ledger", "events", "event_options", "event_codes", "option_refs",
    "sms_messages", "sms_by_number", "sms_provider_ids", "sms_optouts", "report_runs",
    "job_claims", "job_watermarks",
)  # fmt: skip
COUNTS = ("confirmed", "waitlisted", "cancelled")


@dataclass(frozen=True)
class Seeded:
    """What was written, and the answers expected of each report."""

    store: Store
    titles: dict[UUID, str]
    labels: dict[UUID, tuple[UUID, str]]
    by_option: dict[UUID, list[int]]
    by_channel: dict[str, list[int]]
    by_kiosk: dict[str, list[int]]
    people: int
    more_than_one: int
    messages: Counter[tuple[str, str, str]]
    opt_outs: Counter[str]
    ledger_rows: int


def _counts(status: str, seats: int) -> list[int]:
    counts = [0] * 6
    slot = COUNTS.index(status) * 2
    counts[slot], counts[slot + 1] = 1, seats
    return counts


def _add(total: dict[Any, list[int]], key: Any, counts: list[int]) -> None:
    have = total.setdefault(key, [0] * 6)
    for i, count in enumerate(counts):
        have[i] += count


@pytest.fixture(scope="module")
def seeded(config: ClusterConfig, local_cluster: LocalCluster) -> Iterator[Seeded]:
    with Database(config) as db:
        storage_migrate.apply(db, config, REPORTS_TEST_KEYSPACE, say=lambda _: None)
    store = Store(config, node="test-node", keyspace=REPORTS_TEST_KEYSPACE)
    for table in TABLES:
        store.db.schema(f"TRUNCATE {table}")
    start = datetime.now(UTC) + timedelta(days=3)
    titles: dict[UUID, str] = {}
    labels: dict[UUID, tuple[UUID, str]] = {}
    options: list[tuple[UUID, UUID]] = []
    for e in range(4):
        event = store.events.create(
            title=f"Report event {e}",
            starts_at=start + timedelta(days=e),
            ends_at=start + timedelta(days=e, hours=2),
            time_zone="UTC",
            short_code=f"RPT{e}",
        )
        titles[event.event_id] = event.title
        for o in range(3):
            option = store.events.add_option(event.event_id, f"Option {e}.{o}", 10_000, True)
            labels[option.option_id] = (event.event_id, option.label)
            options.append((event.event_id, option.option_id))
    real_event, real_option = options.pop()
    generated = sample.generate(options, per_option=300, seed=16, people=600)
    generated.write(store.db)

    by_option: dict[UUID, list[int]] = {}
    by_channel: dict[str, list[int]] = {}
    by_kiosk: dict[str, list[int]] = {}
    events_of: dict[str, set[UUID]] = defaultdict(set)
    for r in generated.registrations:
        counts = _counts(r.status, r.party_size)
        _add(by_option, r.option_id, counts)
        _add(by_channel, r.channel, counts)
        if r.channel == "kiosk":
            _add(by_kiosk, r.node, counts)
        if r.status != "cancelled":
            events_of[r.contact].add(r.event_id)
    client = signups.Client.web("198.51.100.7")
    contacts = [new_phone() for _ in range(3)]
    refs = [
        signups.sign_up(store, client, real_option, f"Real {i}", contact, key=signups.new_key())
        for i, contact in enumerate(contacts)
    ]
    store.registrations.cancel(refs[0].registration.ref)
    _add(by_option, real_option, [2, 2, 0, 0, 1, 1])
    _add(by_channel, "web", [2, 2, 0, 0, 1, 1])
    for contact in contacts[1:]:
        events_of[contact].add(real_event)

    messages: Counter[tuple[str, str, str]] = Counter()
    day = datetime.now(UTC).replace(microsecond=0)
    for i, (direction, action) in enumerate(
        [("in", "signed_up")] * 4 + [("in", "help"), ("out", "reply"), ("out", "code")] * 2
    ):
        at = day - timedelta(days=i % 3, seconds=i)
        store.sms_messages.record(
            direction, new_phone(), "+15550100100", "hi", action=action, at=at
        )
        messages[(at.date().isoformat(), direction, action)] += 1
    opt_outs: Counter[str] = Counter()
    for keyword in ("STOP", "STOP", "UNSUBSCRIBE"):
        store.sms_optouts.opt_out(new_phone(), keyword)
        opt_outs[keyword] += 1
    ledger_rows = len(store.db.execute("SELECT option_id FROM signup_ledger", op="report"))
    yield Seeded(
        store=store,
        titles=titles,
        labels=labels,
        by_option=by_option,
        by_channel=by_channel,
        by_kiosk=by_kiosk,
        people=len(events_of),
        more_than_one=sum(1 for events in events_of.values() if len(events) > 1),
        messages=messages,
        opt_outs=opt_outs,
        ledger_rows=ledger_rows,
    )
    store.close()


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory, seeded: Seeded) -> Iterator[NodeProcesses]:
    nodes = report_nodes(tmp_path_factory.mktemp("reports"), WORKERS)
    try:
        for name in WORKERS:
            nodes.start(name, wait=False)
        for name in WORKERS:
            nodes.wait_until(partial(answers, nodes, name), f"{name} to answer", 60)
        yield nodes
    finally:
        nodes.stop_all()


def answers(nodes: NodeProcesses, name: str) -> bool:
    return nodes.shell(name, "tree").returncode == 0


@pytest.fixture
def coordinator(workers: NodeProcesses, seeded: Seeded) -> Iterator[NodeContext]:
    for name in WORKERS:
        if workers.processes[name].poll() is not None:  # killed by an earlier test
            workers.start(name)
    with coordinator_context(workers, seeded.store) as context:
        link = context.require_link()
        wait_until(lambda: all(link.is_up(name) for name in WORKERS), 15, "the workers' links")
        yield context


def table(result: ReportResult, title: str) -> Table:
    return next(t for t in result.tables if t.title == title)


def summary(result: ReportResult) -> dict[str, Any]:
    return dict(result.summary)


def check_events(result: ReportResult, seeded: Seeded) -> None:
    """The ``events`` report's figures are the ones written."""
    rows = {(row[0], row[1]): list(row[2:]) for row in table(result, "By event and option").rows}
    expected = {
        (seeded.titles[event_id], label): seeded.by_option[option_id]
        for option_id, (event_id, label) in seeded.labels.items()
    }
    assert rows == expected
    by_channel: dict[str, list[int]] = {}
    for row in table(result, "By channel").rows:
        _add(by_channel, row[2], list(row[3:]))
    assert by_channel == seeded.by_channel
    by_kiosk: dict[str, list[int]] = {}
    for row in table(result, "By kiosk").rows:
        _add(by_kiosk, row[2], list(row[3:]))
    assert by_kiosk == seeded.by_kiosk
    registrations = sum(c[0] + c[2] + c[4] for c in seeded.by_option.values())
    assert summary(result)["Registrations"] == registrations
    assert sum(row[2] for row in table(result, "Sign-ups per day").rows) == registrations
    assert sum(v for _, v in result.charts[0].bars) == registrations


def run(context: NodeContext, name: str, workers: int = 0) -> tuple[ReportResult, Coordinator]:
    coordinator = Coordinator(context, catalog.get(name), workers=workers)
    return coordinator.run(), coordinator


@pytest.mark.parametrize("count", [1, 2, 3])
def test_every_report_is_exact_with_one_two_and_three_workers(
    coordinator: NodeContext, seeded: Seeded, count: int
) -> None:
    events, engine = run(coordinator, "events", count)
    check_events(events, seeded)
    assert engine.progress.workers == count
    assert engine.progress.ranges_done == engine.progress.ranges_total >= 8 * count
    assert engine.progress.rows == sum(c[0] + c[2] + c[4] for c in seeded.by_option.values())

    people, _ = run(coordinator, "people", count)
    assert summary(people)["Distinct people"] == seeded.people
    assert summary(people)["Signed up for more than one event"] == seeded.more_than_one

    sms, _ = run(coordinator, "sms", count)
    rows = Counter({tuple(row[:3]): row[3] for row in table(sms, "Messages per day").rows})
    assert rows == seeded.messages
    assert dict(table(sms, "Opt-outs by keyword").rows) == dict(seeded.opt_outs)
    assert summary(sms)["Numbers opted out"] == 3

    audit, engine = run(coordinator, "audit", count)
    assert summary(audit)["Options checked"] == len(seeded.labels)
    assert summary(audit)["Seat counters that disagree"] == 0
    assert summary(audit)["Rows without their match"] == 0
    assert engine.progress.rows == seeded.ledger_rows


def test_a_worker_node_killed_mid_report_gives_the_same_answer(
    coordinator: NodeContext, workers: NodeProcesses, seeded: Seeded
) -> None:
    engine = Coordinator(coordinator, catalog.get("audit"))
    outcome: dict[str, Any] = {}

    def audit() -> None:
        try:
            outcome["result"] = engine.run()
        except Exception as exc:
            outcome["error"] = exc

    running = threading.Thread(target=audit)
    running.start()
    wait_until(lambda: engine.progress.ranges_done >= 2, 30, "the audit to be under way")
    assert engine.progress.ranges_done < engine.progress.ranges_total, "finished before the kill"
    workers.kill("rw2")
    running.join(60)
    assert "error" not in outcome, outcome
    assert engine.progress.reassigned >= 1  # rw2's ranges were handed to the others
    assert engine.progress.rows == seeded.ledger_rows  # each range counted once
    audited = outcome["result"]
    assert summary(audited)["Options checked"] == len(seeded.labels)
    assert summary(audited)["Rows without their match"] == 0

    events, engine = run(coordinator, "events")  # with two workers left
    check_events(events, seeded)
    assert engine.progress.workers == 2


def test_a_report_completes_with_a_cassandra_node_down(
    coordinator: NodeContext, seeded: Seeded, local_cluster: LocalCluster
) -> None:
    down = local_cluster.node("node2")
    local_cluster.kill(down.name)
    try:
        wait_until(
            lambda: not seeded.store.db.is_host_up(down.address), 30, "the driver to see it down"
        )
        events, engine = run(coordinator, "events")
        check_events(events, seeded)
        assert down.address not in engine.progress.hosts
    finally:
        local_cluster.start(down.name)
    wait_until(lambda: seeded.store.db.is_host_up(down.address), 60, "node2 back up")


def test_the_audit_lists_every_planted_mismatch(coordinator: NodeContext, seeded: Seeded) -> None:
    db = seeded.store.db
    counters, orphan = list(seeded.labels)[:2]
    seats = db.execute("SELECT taken FROM signup_ledger WHERE option_id = ? LIMIT 1", (counters,))
    taken = seats[0]["taken"]
    db.execute(
        "UPDATE signup_ledger SET taken = ? WHERE option_id = ?", (taken + 3, counters), "write"
    )
    db.execute(
        "INSERT INTO signup_ledger (option_id, entry, number) VALUES (?, 'c:+15550009999', 9999)",
        (orphan,),
        "write",
    )
    try:
        audit, _ = run(coordinator, "audit")
    finally:
        db.execute(
            "UPDATE signup_ledger SET taken = ? WHERE option_id = ?", (taken, counters), "write"
        )
        db.execute(
            "DELETE FROM signup_ledger WHERE option_id = ? AND entry = 'c:+15550009999'",
            (orphan,),
            "write",
        )
    disagree = table(audit, "Seat counters against registrations").rows
    assert [(row[2], row[3], row[4]) for row in disagree] == [(str(counters), taken + 3, taken)]
    rows = table(audit, "Rows without their match").rows
    assert [(row[2], row[3], row[4]) for row in rows] == [
        (str(orphan), "contact claim without its registration", 9999)
    ]
    assert "+15550009999" not in repr(audit)  # a claim's contact is never shown


def test_an_unknown_report_and_a_worker_without_its_code_are_clear_errors(
    coordinator: NodeContext, workers: NodeProcesses
) -> None:
    with pytest.raises(UnknownReport, match="no report named 'nightly_cakes'; the reports are: "):
        catalog.get("nightly_cakes")
    answer = workers.shell("rw1", "report nightly_cakes")
    assert answer.returncode == 1
    assert "UnknownReport: no report named 'nightly_cakes'" in answer.stdout

    only_here = Report(
        name="only_here",
        title="A report the workers do not have",
        description="registered in this process only",
        scans=(Scan("events", "event_id", ("event_id",), "tests.test_reports:count_rows"),),
        present="tests.test_reports:present_rows",
    )
    with pytest.raises(WorkerMismatch, match="this node has no such report"):
        Coordinator(coordinator, only_here).run()
    changed = Report(
        **{**_fields(catalog.get("sms")), "present": "tests.test_reports:present_rows"}
    )
    with pytest.raises(WorkerMismatch, match="this node's definition differs"):
        Coordinator(coordinator, changed).run()


def _fields(report: Report) -> dict[str, Any]:
    return {
        "name": report.name,
        "title": report.title,
        "description": report.description,
        "scans": report.scans,
        "present": report.present,
        "combine": report.combine,
    }


def count_rows(acc: dict[Any, list[int]], rows: list[Any], _: Any) -> None:
    acc.setdefault(("rows",), [0])[0] += len(rows)


def present_rows(total: dict[Any, list[int]], _: Any) -> ReportResult:
    return ReportResult(summary=(("Rows", total.get(("rows",), [0])[0]),))


def test_the_shell_runs_a_report_and_shows_its_progress_and_tables(
    workers: NodeProcesses, seeded: Seeded
) -> None:
    for name in WORKERS:
        if workers.processes[name].poll() is not None:
            workers.start(name)
    answer = workers.output("rw1", "report events 2")
    assert "coordinated by rw1" in answer
    assert "done: " in answer and " ranges, " in answer
    assert f"Registrations: {sum(c[0] + c[2] + c[4] for c in seeded.by_option.values())}" in answer
    assert "By event and option (12 rows)" in answer
    assert "Report event 0  Option 0.0" in answer
    listed = workers.output("rw1", "report")
    assert all(name in listed for name in ("events", "people", "sms", "audit"))
    run = seeded.store.report_runs.recent("events", 1)[0]
    assert (run.trigger, run.node, run.state) == ("shell", "rw1", "done")
    stored = seeded.store.report_runs.get("events", run.run_id)
    assert stored is not None and stored.result is not None
    check_events(ReportResult.from_data(stored.result), seeded)


def test_partials_fit_the_frame_limit_and_carry_no_contacts() -> None:
    hasher = pieces.contact_hasher(b"cookie", "job-1")
    assert hasher("+15551234567") == pieces.contact_hasher(b"cookie", "job-1")("+15551234567")
    assert hasher("+15551234567") != pieces.contact_hasher(b"cookie", "job-2")("+15551234567")
    assert len(hasher("a@example.org")) == 16
    counted = {("pair", hasher(f"m{i}@example.org"), UUID(int=i)): [1] for i in range(20_000)}
    packed = pieces.pack(counted, 64 * 1024)
    assert len(packed) > 10 and all(len(piece) <= 64 * 1024 for piece in packed)
    merged: dict[Any, list[int]] = {}
    for piece in packed:
        merged.update(pieces.unpack(piece))
    assert merged == {(k[0], k[1], str(k[2])): v for k, v in counted.items()}
    assert b"example.org" not in b"".join(packed)


def test_the_nightly_run_is_claimed_once_and_kept_with_its_date(
    tmp_path: Path, seeded: Seeded
) -> None:
    nodes = report_nodes(tmp_path, ("night-a", "night-b"), nightly=True, run_at="00:00")
    store = seeded.store
    try:
        for name in ("night-a", "night-b"):
            nodes.start(name, wait=False)
        night = datetime.now(UTC).astimezone(_zone(nodes)).date().isoformat()

        def nightly_done() -> bool:
            runs = [store.report_runs.recent(name, 5) for name in catalog.names()]
            return all(any(r.period == night and r.state == "done" for r in rs) for rs in runs)

        wait_until(nightly_done, 90, "every report's nightly run")
    finally:
        nodes.stop_all()
    for name in catalog.names():
        nightly = [r for r in store.report_runs.recent(name, 20) if r.trigger == "nightly"]
        assert [(r.period, r.state) for r in nightly] == [(night, "done")]
    coordinators = {
        r.node
        for name in catalog.names()
        for r in store.report_runs.recent(name, 20)
        if r.trigger == "nightly"
    }
    assert len(coordinators) == 1
    assert store.job_claims.holder("reports", night) in coordinators


def _zone(nodes: NodeProcesses) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(nodes.config.site.time_zone)
