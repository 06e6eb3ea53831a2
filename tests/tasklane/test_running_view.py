"""The running view and the event bus against a real Redis."""

from __future__ import annotations

import asyncio
import random

import redis.asyncio as aioredis

from tasklane.running_view import EventBus, RunningEntry, RunningView


def entry(account: int, n: int) -> RunningEntry:
    return RunningEntry(
        f"task_{n:032x}", account, "FETCH_TAX_CARDS", f"2024-06-01T10:0{n}:00+00:00", {"n": n}
    )


async def test_entries_are_listed_until_removed_or_expired(redis_url: str) -> None:
    redis = aioredis.from_url(redis_url)
    view, account = RunningView(redis), random.randrange(10**9)
    await view.put(entry(account, 1), ttl_s=30)
    await view.put(entry(account, 2), ttl_s=0.3)
    assert [e.meta for e in await view.list(account)] == [{"n": 1}, {"n": 2}]
    await asyncio.sleep(0.5)
    assert [e.meta for e in await view.list(account)] == [{"n": 1}]
    assert await redis.scard(f"tasklane:running:{{{account}}}") == 1  # trimmed as read
    await view.remove(account, entry(account, 1).task_id)
    assert await view.list(account) == []
    await redis.aclose()


async def test_refresh_extends_the_ttl_and_says_when_the_entry_is_gone(redis_url: str) -> None:
    redis = aioredis.from_url(redis_url)
    view, account = RunningView(redis), random.randrange(10**9)
    await view.put(entry(account, 1), ttl_s=0.3)
    assert await view.refresh(account, entry(account, 1).task_id, ttl_s=30)
    await asyncio.sleep(0.5)
    assert len(await view.list(account)) == 1
    assert not await view.refresh(account, "task_gone", ttl_s=30)
    await redis.aclose()


async def test_events_reach_subscribers_of_their_account_only(redis_url: str) -> None:
    redis = aioredis.from_url(redis_url)
    bus, account = EventBus(redis), random.randrange(10**9)
    received: list[tuple[str, dict]] = []

    async def listen() -> None:
        async for item in bus.subscribe(account):
            received.append(item)
            return

    listener = asyncio.create_task(listen())
    for _ in range(250):  # until the subscription is in place
        if await bus.publish(account, "create_system_task", {"n": 1}):
            break
        await asyncio.sleep(0.02)
    await bus.publish(account + 1, "create_system_task", {"other": True})
    await asyncio.wait_for(listener, 5)
    assert received == [("create_system_task", {"n": 1})]
    await redis.aclose()
