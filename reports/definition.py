"""What a report is: data naming its table, columns and functions; and what it gives.

A report scans one or more tables (:class:`Scan`) range by range on the worker nodes. For
each page of a range's rows (tuples, in the order of ``columns``) the worker calls the scan's
``map`` function, which folds them into an accumulator (a dict) of its own; at the range's
end the report's ``combine`` turns the accumulator into the range's :class:`Partial`, counters
by key (the accumulator itself when ``combine`` is None). The coordinator adds the partials up
key by key and gives the total to ``present``, which makes the tables people see.

Functions are named ``"module:function"`` and looked up in the code of each end: a worker
finds the report by its name in its own catalog (:mod:`reports.catalog`), and checks that its
definition is the coordinator's (:meth:`Report.fingerprint`). No code crosses the link.

Example (a report of registrations per channel)::

    def by_channel(acc, rows, context):
        for entry, channel in rows:
            if entry.startswith("r:"):
                acc.setdefault(("channel", channel), [0])[0] += 1

    register(Report(
        name="channels", title="Sign-ups by channel", description="...",
        scans=(Scan("signup_ledger", "option_id", ("entry", "channel"), "mymodule:by_channel"),),
        present="mymodule:present_channels",
    ))
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.store import Store

Key = tuple[Any, ...]
Partial = dict[Key, list[int]]
"""Counters by key: what a range adds to a report. Keys are tuples of str, int, bytes, bool
or None (the engine sends a UUID as its str); two partials add up key by key, counter by
counter, so the total does not depend on which worker counted which range."""


@dataclass(frozen=True)
class MapContext:
    """What a map function may use besides its rows."""

    contact_hash: Callable[[str], bytes]
    """The keyed hash of a contact (16 bytes; the key is the run's, derived from the cluster
    cookie on each node and never sent): counts per person without the person on the link."""


@dataclass(frozen=True)
class PresentContext:
    """What ``present`` may use: the store (titles, labels) and the site's time zone."""

    store: Store
    time_zone: str


@dataclass(frozen=True)
class Scan:
    """One table a report reads: every row of ``columns`` whose partition key ``key`` has a
    token in a range; ``where`` optionally restricts the clustering columns (a slice of each
    partition: Cassandra reads only that slice, hence the ALLOW FILTERING it needs)."""

    table: str
    key: str
    columns: tuple[str, ...]
    map: str
    where: str = ""

    def cql(self) -> str:
        """The statement of one range: its two bind values are the range's start and end."""
        token = f"token({self.key})"
        where = f"{token} > ? AND {token} <= ?"
        if self.where:
            where += f" AND {self.where} ALLOW FILTERING"
        return f"SELECT {', '.join(self.columns)} FROM {self.table} WHERE {where}"


@dataclass(frozen=True)
class Chart:
    """A bar chart: a label and a value per bar, drawn as inline SVG."""

    title: str
    bars: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Table:
    """One table of a report's result; its rows hold str and int cells."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class ReportResult:
    """A report's result: headline figures, tables and charts (plain data throughout)."""

    summary: tuple[tuple[str, Any], ...]
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()

    def as_data(self) -> dict[str, Any]:
        """The result as msgpack-able data (stored with its run, sent to the shell)."""
        return {
            "summary": [list(pair) for pair in self.summary],
            "tables": [
                {"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                | ({"note": t.note} if t.note else {})
                for t in self.tables
            ],
            "charts": [
                {"title": c.title, "bars": [list(bar) for bar in c.bars]} for c in self.charts
            ],
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ReportResult:
        """The result :meth:`as_data` gave."""
        return cls(
            summary=tuple((str(k), v) for k, v in data.get("summary", ())),
            tables=tuple(
                Table(
                    title=t["title"],
                    columns=tuple(t["columns"]),
                    rows=tuple(tuple(row) for row in t["rows"]),
                    note=t.get("note", ""),
                )
                for t in data.get("tables", ())
            ),
            charts=tuple(
                Chart(title=c["title"], bars=tuple((str(label), int(v)) for label, v in c["bars"]))
                for c in data.get("charts", ())
            ),
        )


@dataclass(frozen=True)
class Report:
    """A report: its name (the shell's ``report NAME``, URLs), what people read about it, the
    tables it scans, and its functions by name."""

    name: str
    title: str
    description: str
    scans: tuple[Scan, ...]
    present: str
    combine: str | None = None
    functions: dict[str, Callable[..., Any]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def fingerprint(self) -> str:
        """A digest of the definition: equal on two nodes that run the same report code."""
        parts = [self.name, self.present, self.combine or ""]
        for scan in self.scans:
            parts += [scan.table, scan.key, ",".join(scan.columns), scan.map, scan.where]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    def function(self, name: str) -> Callable[..., Any]:
        """The function ``"module:function"`` of this node's code (imported once)."""
        found = self.functions.get(name)
        if found is None:
            module, _, attribute = name.partition(":")
            found = getattr(importlib.import_module(module), attribute)
            self.functions[name] = found
        return found


def add(total: Partial, partial: Partial) -> None:
    """Add ``partial`` into ``total``, key by key and counter by counter."""
    for key, counts in partial.items():
        have = total.get(key)
        if have is None:
            total[key] = list(counts)
        else:
            if len(have) < len(counts):
                have.extend([0] * (len(counts) - len(have)))
            for i, count in enumerate(counts):
                have[i] += count


def bump(acc: Partial, key: Key, counts: Sequence[int]) -> None:
    """Add ``counts`` to ``acc[key]`` (for map functions)."""
    have = acc.get(key)
    if have is None:
        acc[key] = list(counts)
    else:
        for i, count in enumerate(counts):
            have[i] += count
