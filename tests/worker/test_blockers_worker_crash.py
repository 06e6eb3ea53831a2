"""A worker process SIGKILLed while a task is suspended loses nothing: the blockers' ends
reach the dependent, which runs once on the next worker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType

from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import Api, Servers, eventually
from tests.receiver import Receiver


async def submit(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer = await client.post("/v1/tasks", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def signals(servers: Servers, task_id: str) -> list[str]:
    history = await servers.temporal.client.get_workflow_handle(task_id).fetch_history()
    return [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


async def subscribed(servers: Servers, *blocker_ids: str) -> bool:
    """Every blocker has taken the dependent's `add_dependent` signal."""
    found = [await signals(servers, b) for b in blocker_ids]
    return all("add_dependent" in s for s in found)


async def test_blockers_come_due_while_no_worker_runs_then_the_dependent_runs_once(
    servers: Servers, receiver: Receiver, path: str
) -> None:
    settings = servers.settings(f"q-{uuid.uuid4().hex[:8]}")
    api = await servers.api(settings)
    first = servers.worker_process(settings)
    async with api.client() as client:
        a = await submit(client, target=receiver.script(path + "/a", 200), execute_after="PT3S")
        b = await submit(client, target=receiver.script(path + "/b", 200), execute_after="PT3S")
        c = await submit(
            client, target=receiver.script(path + "/c", 200), blocked_by=[a["id"], b["id"]]
        )
        await eventually(lambda: subscribed(servers, a["id"], b["id"]))
        first.kill()
        first.wait()

        due = datetime.fromisoformat(b["execute_after"].replace("Z", "+00:00"))
        await asyncio.sleep(max(0.0, (due - datetime.now(due.tzinfo)).total_seconds()) + 0.5)
        assert (await client.get(f"/v1/tasks/{c['id']}")).json()["status"] == "suspended"
        assert receiver.at(path + "/a") == receiver.at(path + "/b") == []

        servers.worker_process(settings)
        done = await wait_status(client, c["id"], "completed", "failed", timeout_s=30)
    assert done["status"] == "completed" and done["attempts"] == 1
    [a_call], [b_call], [c_call] = (receiver.at(path + p) for p in ("/a", "/b", "/c"))
    assert c_call.at >= max(a_call.at, b_call.at)


async def test_blockers_that_end_while_the_dependents_worker_is_dead_are_not_lost(
    servers: Servers, stack: Api, receiver: Receiver, path: str
) -> None:
    # The blockers run on the shared stack's queue, whose worker stays up; the dependent on
    # a queue of its own, whose only worker is killed before the blockers end.
    settings = servers.settings(f"q-{uuid.uuid4().hex[:8]}")
    api = await servers.api(settings)
    first = servers.worker_process(settings)
    async with stack.client() as shared, api.client() as client:
        a = await submit(shared, target=receiver.script(path + "/a", 200), execute_after="PT2S")
        b = await submit(shared, target=receiver.script(path + "/b", 200), execute_after="PT2S")
        c = await submit(
            client, target=receiver.script(path + "/c", 200), blocked_by=[a["id"], b["id"]]
        )
        await eventually(lambda: subscribed(servers, a["id"], b["id"]))
        first.kill()
        first.wait()

        await wait_status(shared, a["id"], "completed")
        await wait_status(shared, b["id"], "completed")

        async def told() -> bool:
            return (await signals(servers, c["id"])).count("blocker_finished") == 2

        await eventually(told)  # held by Temporal for the dependent while no worker runs
        assert (await client.get(f"/v1/tasks/{c['id']}")).json()["status"] == "suspended"
        assert receiver.at(path + "/c") == []

        servers.worker_process(settings)
        done = await wait_status(client, c["id"], "completed", "failed", timeout_s=30)
    assert done["status"] == "completed" and done["attempts"] == 1
    assert len(receiver.at(path + "/a")) == len(receiver.at(path + "/b")) == 1
    assert len(receiver.at(path + "/c")) == 1
