"""The running view is a cache: after Redis loses it, the worker's reconciliation rebuilds
it from Temporal within one period."""

from __future__ import annotations

import random
import time
import uuid

import redis.asyncio as aioredis

from tasklane.client import TasklaneClient
from tasklane.running_view import RunningView
from tests.conftest import Servers, eventually

PERIOD_S = 2.0


async def test_a_flushed_view_lists_exactly_the_running_tasks_again(
    servers: Servers, temporal, redis_url: str
) -> None:
    settings = servers.settings(f"reconcile-{uuid.uuid4().hex[:8]}")
    settings = settings.model_copy(update={"reconcile_every_s": PERIOD_S})
    await servers.worker(settings)
    tasks = TasklaneClient(
        temporal.client, config=settings.tasklane, task_queue=settings.task_queue
    )
    redis = aioredis.from_url(redis_url)
    view, account = RunningView(redis), random.randrange(10**9)
    running = {
        await tasks.start(
            "SCRIPTED", organisation="acme", client_account=account, payload={"sleep": 12}
        )
        for _ in range(3)
    }
    done = await tasks.start("SCRIPTED", organisation="acme", client_account=account)

    async def listed() -> set[str]:
        ids = {e.task_id for e in await view.list(account)}
        return ids if ids == running else set()

    await eventually(listed)
    assert (await tasks.get(done)).state.status.finished
    await redis.flushdb()
    flushed_at = time.monotonic()
    assert await view.list(account) == []

    await eventually(listed, timeout_s=PERIOD_S + 3)
    assert time.monotonic() - flushed_at <= PERIOD_S + 2
    [entry] = [e for e in await view.list(account) if e.task_id == min(running)]
    assert entry.task_type == "SCRIPTED" and entry.meta == {"sleep": 12}
    await redis.aclose()
