"""The node's recent log lines, kept in memory for the operator shell's ``logs`` command."""

from __future__ import annotations

import collections
import logging
import threading

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class LogBuffer(logging.Handler):
    """A logging handler that keeps the last ``capacity`` formatted records.

    It leaves out the web access log's lines for requests that went well (stderr still has
    them): at hundreds of sign-ups a second they would push everything else out within
    seconds. Refused and failed requests (warnings and errors) are kept.
    """

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__()
        self._lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()
        self.setFormatter(logging.Formatter(FORMAT))
        self.addFilter(_not_a_routine_request)

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._lock:
            self._lines.append(line)

    def tail(self, count: int) -> list[str]:
        """The last ``count`` lines, oldest first."""
        with self._lock:
            lines = list(self._lines)
        return lines[-count:] if count > 0 else []


def _not_a_routine_request(record: logging.LogRecord) -> bool:
    return record.name != "tornado.access" or record.levelno >= logging.WARNING
