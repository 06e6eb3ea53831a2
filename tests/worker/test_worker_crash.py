"""A worker process killed with SIGKILL loses no task: the next worker carries on."""

from __future__ import annotations

import asyncio
import uuid

from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import Servers, eventually


async def test_sigkill_during_retry_wait_then_new_worker_completes(
    servers: Servers, receiver, path
) -> None:
    settings = servers.settings(f"crash-{uuid.uuid4().hex[:8]}")
    api = await servers.api(settings)
    first = servers.worker_process(settings)
    target = receiver.script(path, 500, 200)
    body = {"target": target, "retry": {"max_attempts": 3, "backoff": "fixed", "initial_delay": 3}}
    async with api.client() as client:
        task = (await client.post("/v1/tasks", json=body)).json()
        retrying = await wait_status(client, task["id"], "retrying")
        assert retrying["attempts"] == 1
        first.kill()
        first.wait()
        servers.worker_process(settings)
        done = await wait_status(client, task["id"], "completed")
    assert done["attempts"] == 2
    assert len(receiver.at(path)) == 2


async def test_sigkill_mid_attempt_is_retried_by_the_next_worker(
    servers: Servers, receiver, path
) -> None:
    settings = servers.settings(f"crash-{uuid.uuid4().hex[:8]}")
    api = await servers.api(settings)
    first = servers.worker_process(settings)
    from tests.receiver import Reply

    target = receiver.script(path, Reply(200, delay_s=30), 200)
    body = {"target": target, "retry": {"max_attempts": 3, "backoff": "fixed", "initial_delay": 0}}
    async with api.client() as client:
        task = (await client.post("/v1/tasks", json=body)).json()
        await eventually(lambda: asyncio.sleep(0, receiver.at(path)))
        first.kill()
        first.wait()
        servers.worker_process(settings)
        # The lost attempt is noticed through its missed heartbeats (10 s), then retried.
        done = await wait_status_long(client, task["id"])
    assert done["attempts"] == 2
    assert done["error"] is None


async def wait_status_long(client, task_id):  # type: ignore[no-untyped-def]
    async def check():  # type: ignore[no-untyped-def]
        task = (await client.get(f"/v1/tasks/{task_id}")).json()
        return task if task["status"] == "completed" else None

    return await eventually(check, timeout_s=45)
