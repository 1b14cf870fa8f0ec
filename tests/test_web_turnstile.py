"""The login throttle's parts that need no server: the delay per recent failures, and the
turnstile that lets one password check per user run at a time on a web node."""

from __future__ import annotations

import asyncio

import pytest

from web.auth import FREE_FAILURES, MAX_DELAY_S, check_delay_s
from web.turnstile import Turnstile


def test_the_delay_is_none_for_a_few_failures_then_seconds_never_minutes() -> None:
    delays = [check_delay_s(n) for n in range(30)]
    assert delays[:FREE_FAILURES] == [0.0] * FREE_FAILURES
    assert delays[FREE_FAILURES : FREE_FAILURES + 4] == [0.5, 1.0, 2.0, 4.0]
    assert delays == sorted(delays) and max(delays) == MAX_DELAY_S <= 10


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def test_one_holder_per_key_at_a_time_in_arrival_order() -> None:
    async def scenario() -> list[str]:
        turnstile, order, inside = Turnstile(), [], set()

        async def check(name: str, key: str) -> None:
            async with turnstile.turn(key):
                assert key not in inside
                inside.add(key)
                order.append(name)
                await asyncio.sleep(0.01)
                inside.discard(key)

        await asyncio.gather(check("a1", "ada"), check("a2", "ada"), check("b1", "bo"))
        await asyncio.gather(check("a3", "ada"))
        assert turnstile.waiting("ada") == 0
        return order

    order = run(scenario())
    assert order == ["a1", "b1", "a2", "a3"]  # bo does not wait for ada


def test_a_lower_rank_goes_ahead_of_the_queue() -> None:
    async def scenario() -> list[str]:
        turnstile, order = Turnstile(), []
        started = asyncio.Event()

        async def check(name: str, rank: int) -> None:
            async with turnstile.turn("ada", rank=rank):
                order.append(name)
                started.set()
                await asyncio.sleep(0.01)

        holder = asyncio.create_task(check("attacker-1", 2))
        await started.wait()
        queued = [asyncio.create_task(check(f"attacker-{n}", 2)) for n in (2, 3)]
        fresh = asyncio.create_task(check("fresh-network", 1))
        await asyncio.sleep(0)
        admin = asyncio.create_task(check("admin", 0))
        await asyncio.gather(holder, *queued, fresh, admin)
        return order

    assert run(scenario()) == ["attacker-1", "admin", "fresh-network", "attacker-2", "attacker-3"]


def test_a_waiter_that_gives_up_does_not_hold_the_line() -> None:
    async def scenario() -> list[str]:
        turnstile, order = Turnstile(), []

        async def hold(name: str, seconds: float) -> None:
            async with turnstile.turn("ada"):
                order.append(name)
                await asyncio.sleep(seconds)

        holder = asyncio.create_task(hold("holder", 0.05))
        await asyncio.sleep(0)
        leaver = asyncio.create_task(hold("leaver", 0))
        await asyncio.sleep(0)
        leaver.cancel()
        await asyncio.gather(holder, hold("next", 0), return_exceptions=True)
        with pytest.raises(asyncio.CancelledError):
            await leaver
        return order

    assert run(scenario()) == ["holder", "next"]
