"""``sms``: messages per day by direction and what they did (``sms_messages.action``), and
the numbers that opted out, by the keyword they sent."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reports.catalog import register
from reports.definition import (
    Chart,
    MapContext,
    Partial,
    PresentContext,
    Report,
    ReportResult,
    Scan,
    Table,
    bump,
)


def count_messages(acc: Partial, rows: list[tuple[Any, ...]], _: MapContext) -> None:
    """Count messages by (UTC day, direction, action)."""
    for day, direction, action in rows:
        bump(acc, ("message", str(day), direction or "", action or ""), (1,))


def count_opt_outs(acc: Partial, rows: list[tuple[Any, ...]], _: MapContext) -> None:
    """Count opted-out numbers by keyword and by the day they opted out."""
    for keyword, at in rows:
        bump(acc, ("opt_out", keyword or ""), (1,))
        bump(acc, ("opt_out_day", at.date().isoformat() if at else ""), (1,))


def present_sms(total: Partial, _: PresentContext) -> ReportResult:
    """The tables and charts of the ``sms`` report."""
    messages = sorted((key[1:], counts[0]) for key, counts in total.items() if key[0] == "message")
    by_action: dict[tuple[str, str], int] = defaultdict(int)
    per_day: dict[str, int] = defaultdict(int)
    for (day, direction, action), count in messages:
        by_action[(direction, action)] += count
        per_day[day] += count
    keywords = sorted((key[1], counts[0]) for key, counts in total.items() if key[0] == "opt_out")
    opt_days = sorted(
        (key[1], counts[0]) for key, counts in total.items() if key[0] == "opt_out_day"
    )
    direction_total: dict[str, int] = defaultdict(int)
    for (direction, _action), count in by_action.items():
        direction_total[direction] += count
    return ReportResult(
        summary=(
            ("Messages in", direction_total["in"]),
            ("Messages out", direction_total["out"]),
            ("Numbers opted out", sum(count for _, count in keywords)),
        ),
        tables=(
            Table(
                "Messages per day",
                ("Day (UTC)", "Direction", "What it did", "Messages"),
                tuple((*key, count) for key, count in messages),
            ),
            Table(
                "Messages by what they did",
                ("Direction", "What it did", "Messages"),
                tuple((*key, count) for key, count in sorted(by_action.items())),
            ),
            Table("Opt-outs by keyword", ("Keyword", "Numbers"), tuple(keywords)),
            Table("Opt-outs by day", ("Day (UTC)", "Numbers"), tuple(opt_days)),
        ),
        charts=(Chart("Messages per day", tuple(sorted(per_day.items()))),),
    )


REPORT = register(
    Report(
        name="sms",
        title="SMS",
        description="Text messages per day by what they did, and the numbers that opted out.",
        scans=(
            Scan(
                "sms_messages",
                "day",
                ("day", "direction", "action"),
                "reports.builtin.sms:count_messages",
            ),
            Scan("sms_optouts", "phone", ("keyword", "at"), "reports.builtin.sms:count_opt_outs"),
        ),
        present="reports.builtin.sms:present_sms",
    )
)
