"""A worker process SIGKILLed while a group task's children run loses nothing: every child
runs to its end on the next worker, and no URL is called more often than its child's attempts
say (an attempt the kill cut short is retried; it may or may not have reached the URL)."""

from __future__ import annotations

import uuid

from tests.api.test_group_tasks import children_of, finished, make_group
from tests.conftest import Servers, eventually
from tests.receiver import Receiver, Reply


async def test_sigkill_mid_fan_out_then_restart(
    servers: Servers, receiver: Receiver, path: str
) -> None:
    settings = servers.settings(f"q-{uuid.uuid4().hex[:8]}")
    api = await servers.api(settings)
    first = servers.worker_process(settings)
    urls = [receiver.script(f"{path}/{i}", Reply(200, delay_s=1.5)) for i in range(10)]
    async with api.client() as client:
        group = await make_group(client, urls)
        answer = await client.post(
            "/v1/tasks",
            json={
                "target": f"group:{group['name']}",
                "payload": {"n": 1},
                "retry": {"max_attempts": 3, "backoff": "fixed", "initial_delay": 0.5},
            },
        )
        parent = answer.json()["id"]

        async def calls_under_way() -> bool:
            return sum(len(receiver.at(f"{path}/{i}")) for i in range(10)) >= 3

        await eventually(calls_under_way)
        first.kill()
        first.wait()
        servers.worker_process(settings)

        task = await finished(client, parent)
        assert task["status"] == "completed"
        assert task["group_info"] == {
            "total_tasks": 10,
            "completed": 10,
            "failed": 0,
            "remaining": 0,
        }
        children = await children_of(client, parent, 10)
    assert sorted(c["target"]["url"] for c in children) == sorted(urls)
    # The calls in flight at the kill never got their answer to a worker: they were retried.
    assert any(child["attempts"] > 1 for child in children)
    for child in children:
        assert child["status"] == "completed"
        calls = receiver.at(child["target"]["url"].removeprefix(receiver.url("")))
        attempts = [int(c.headers["X-Tasklane-Attempt"]) for c in calls]
        assert len(set(attempts)) == len(attempts) >= 1, attempts  # no attempt delivered twice
        assert attempts[-1] == child["attempts"], (attempts, child)  # the last one succeeded
        assert all(c.json() == {"n": 1} for c in calls)
