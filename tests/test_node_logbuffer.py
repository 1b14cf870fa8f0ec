"""The node's log buffer (the shell's ``logs``): recent lines, without routine web requests."""

from __future__ import annotations

import logging

from node.logbuffer import LogBuffer


def test_the_last_lines_are_kept_oldest_first() -> None:
    logs = LogBuffer(capacity=3)
    log = logging.getLogger("gather.test.logbuffer")
    log.addHandler(logs)
    try:
        for n in range(5):
            log.warning("line %d", n)
    finally:
        log.removeHandler(logs)
    assert [line.rsplit(": ", 1)[1] for line in logs.tail(10)] == ["line 2", "line 3", "line 4"]
    assert len(logs.tail(2)) == 2 and logs.tail(0) == []


def test_requests_that_went_well_are_left_out_refused_ones_kept() -> None:
    logs = LogBuffer()
    access = logging.getLogger("tornado.access")
    level = access.level
    access.setLevel(logging.INFO)
    access.addHandler(logs)
    try:
        access.info("201 POST /api/v1/signups (127.0.0.1) 12.00ms")
        access.warning("429 POST /admin/login (127.0.0.1) 3.00ms")
        access.error("500 GET /admin/events (127.0.0.1) 9.00ms")
    finally:
        access.removeHandler(logs)
        access.setLevel(level)
    lines = logs.tail(10)
    assert [line.split(": ", 1)[1].split()[0] for line in lines] == ["429", "500"]
