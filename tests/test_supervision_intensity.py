"""Restart intensity, escalation up to the root, the process exit, signals, and backoff."""

from __future__ import annotations

import itertools
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from actors import Failure
from supervision import Backoff, Supervisor
from tests.helpers import (
    WAIT,
    Countdown,
    GiveUps,
    Journal,
    last_failure,
    running,
    settled,
    wait_until,
    worker,
)

ROOT = Path(__file__).resolve().parent.parent


def test_past_its_intensity_a_supervisor_gives_up_and_its_parent_restarts_it() -> None:
    journal = Journal()
    sub = Supervisor.spec("sub", [worker("w", journal)], intensity=1, period=60)
    with running([sub], intensity=5) as tree:
        tree.tell("root/sub/w", "crash")
        settled(tree, "root/sub/w", restarts=1)
        tree.tell("root/sub/w", "crash")  # the second restart within the period: too many
        settled(tree, "root/sub", restarts=1)
        settled(tree, "root/sub/w", restarts=2)
        failure = last_failure(tree, "root/sub")
        assert failure.type == "SupervisorGaveUp"
        assert "more than 1 restart(s) in 60" in failure.message
        assert "root/sub/w ValueError: crash on purpose" in failure.message


def test_restarts_older_than_the_period_do_not_count() -> None:
    journal = Journal()
    with running([worker("w", journal)], intensity=1, period=0.1) as tree:
        for restarts in (1, 2, 3):
            tree.tell("root/w", "crash")
            settled(tree, "root/w", restarts=restarts)
            time.sleep(0.11)  # let the restart age out of the period
        assert tree.snapshot().restarts == 0


def test_escalation_reaches_the_root_which_gives_up() -> None:
    journal = Journal()
    give_ups = GiveUps()
    inner = Supervisor.spec("inner", [worker("w", journal)], intensity=0)
    outer = Supervisor.spec("outer", [inner], intensity=0)
    with running([worker("first", journal), outer], give_ups, intensity=0) as tree:
        tree.tell("root/outer/inner/w", "crash")
        assert give_ups.event.wait(WAIT)
        (reason,) = give_ups.reasons
        assert isinstance(reason, Failure) and reason.type == "SupervisorGaveUp"
        assert "last: root/outer" in reason.message
        assert tree.wait(WAIT) == reason
        assert {i.state for i in tree.snapshot().walk()} == {"stopped"}
        assert tree.snapshot().last_failure == reason
        # children were stopped before the root gave up, in reverse order
        assert journal.of("stop") == ["root/first"]


def run_script(body: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_when_the_root_gives_up_the_process_exits_non_zero() -> None:
    result = run_script(
        """
        import logging
        from supervision import ChildSpec, Supervisor, Tree
        from tests.helpers import Journal, worker

        logging.basicConfig(level=logging.INFO)
        tree = Tree.start(Supervisor.spec("root", [worker("w", Journal())], intensity=0))
        tree.tell("root/w", "crash")
        tree.wait()
        print("not reached: the give-up ends the process")
        """
    )
    assert result.returncode == 1, result.stderr
    assert "not reached" not in result.stdout
    assert "root/w crashed" in result.stderr
    assert "the root supervisor gave up" in result.stderr
    assert "exiting with status 1" in result.stderr


def test_run_root_stops_the_tree_in_order_on_sigterm() -> None:
    script = """
        import sys
        from supervision import Supervisor, run_root
        from tests.helpers import Journal, Worker, worker

        class Announce(Worker):
            def on_start(self):
                print("ready", flush=True)

        journal = Journal()
        children = [worker("a", journal), worker("b", journal)]
        from supervision import ChildSpec
        children.append(ChildSpec("announce", Announce, args=(journal,)))
        reason = run_root(Supervisor.spec("root", children))
        print("stopped", journal.of("stop"), reason, flush=True)
        """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped ['root/announce', 'root/b', 'root/a'] shutdown" in out


def backoff_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The delays the supervisor chose, from its "restarting ... in N s" log lines."""
    found = (re.search(r", in ([0-9.]+)s$", r.getMessage()) for r in caplog.records)
    return [float(match[1]) for match in found if match]


def test_backoff_spaces_restarts_and_is_not_counted_in_the_intensity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gather")
    journal = Journal()
    backoff = Backoff(min=0.05, max=0.2, jitter=0.0, reset_after=60)
    spec = worker("db", journal, fail_start=Countdown(4), backoff=backoff)
    with running([spec], intensity=0) as tree:
        settled(tree, "root/db", restarts=4)
        assert tree.snapshot().restarts == 0  # the root did not give up
    assert backoff_delays(caplog) == [0.05, 0.1, 0.2, 0.2]
    times = [entry[2] for entry in journal.entries if entry[0] == "start-time"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= delay for gap, delay in zip(gaps, backoff_delays(caplog), strict=True))


def test_backoff_starts_again_from_its_minimum_after_a_stable_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gather")
    journal = Journal()
    backoff = Backoff(min=0.05, max=1.0, jitter=0.0, reset_after=0.1)
    spec = worker("db", journal, fail_start=Countdown(2), backoff=backoff)
    with running([spec]) as tree:
        settled(tree, "root/db", restarts=2)
        wait_until(lambda: tree.snapshot("root/db").uptime >= 0.1, what="a stable period")
        tree.tell("root/db", "crash")
        settled(tree, "root/db", restarts=3)
    assert backoff_delays(caplog) == [0.05, 0.1, 0.05]  # the minimum again, not 0.2 s


@pytest.mark.parametrize(
    ("failures", "rand", "expected"), [(0, 0.0, 0.1), (3, 0.5, 0.88), (99, 1.0, 36.0)]
)
def test_backoff_delay(failures: int, rand: float, expected: float) -> None:
    backoff = Backoff(min=0.1, max=30.0, jitter=0.2)
    assert backoff.delay(failures, lambda: rand) == pytest.approx(expected)
    with pytest.raises(ValueError, match="invalid backoff"):
        Backoff(min=2.0, max=1.0)
