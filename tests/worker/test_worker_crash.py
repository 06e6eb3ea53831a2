"""A worker process killed with SIGKILL loses no task: the next worker carries on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import Servers, eventually
from tests.receiver import Receiver, Reply


async def kill_worker_when(
    servers: Servers,
    body: dict[str, Any],
    moment: Callable[[Any, str], Awaitable[object]],
    timeout_s: float,
) -> dict[str, Any]:
    """Submit `body` to a worker process, SIGKILL it at `moment`, start another, and
    return the task once it completed."""
    settings = servers.settings(f"crash-{uuid.uuid4().hex[:8]}")
    api = await servers.api(settings)
    first = servers.worker_process(settings)
    async with api.client() as client:
        task = (await client.post("/v1/tasks", json=body)).json()
        await moment(client, task["id"])
        first.kill()
        first.wait()
        servers.worker_process(settings)
        return await wait_status(client, task["id"], "completed", timeout_s=timeout_s)


async def test_sigkill_during_retry_wait_then_new_worker_completes(
    servers: Servers, receiver: Receiver, path: str
) -> None:
    target = receiver.script(path, 500, 200)
    body = {"target": target, "retry": {"max_attempts": 3, "backoff": "fixed", "initial_delay": 3}}

    async def retrying(client: Any, task_id: str) -> None:
        assert (await wait_status(client, task_id, "retrying"))["attempts"] == 1

    done = await kill_worker_when(servers, body, retrying, timeout_s=20)
    assert done["attempts"] == 2
    assert len(receiver.at(path)) == 2


async def test_sigkill_mid_attempt_is_retried_by_the_next_worker(
    servers: Servers, receiver: Receiver, path: str
) -> None:
    target = receiver.script(path, Reply(200, delay_s=30), 200)
    body = {"target": target, "retry": {"max_attempts": 3, "backoff": "fixed", "initial_delay": 0}}

    async def attempt_reached_target(client: Any, task_id: str) -> None:
        await eventually(lambda: asyncio.sleep(0, receiver.at(path)))

    # The lost attempt is noticed through its missed heartbeats (10 s), then retried.
    done = await kill_worker_when(servers, body, attempt_reached_target, timeout_s=45)
    assert done["attempts"] == 2
    assert done["error"] is None
