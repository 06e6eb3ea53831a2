"""What holds while no worker polls the task queue: reads work, expiry is judged on arrival."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tasklane import search_attributes as sa
from tests.api.test_taskhook_lifecycle import wait_status
from tests.conftest import Servers, eventually
from workflows.task import TaskWorkflow


async def test_get_and_list_answer_while_no_worker_runs(servers: Servers, receiver, path) -> None:
    api = await servers.api(servers.settings(f"idle-{uuid.uuid4().hex[:8]}"))
    async with api.client() as client:
        body = {"target": receiver.script(path, 200), "tags": f"idle{path[-10:]}"}
        task = (await client.post("/v1/tasks", json=body)).json()
        got = await client.get(f"/v1/tasks/{task['id']}")
        assert got.status_code == 200 and got.json()["status"] == "queued"

        async def listed() -> bool:
            page = (await client.get(f"/v1/tasks?tags=idle{path[-10:]}")).json()
            return page["total"] == 1 and page["tasks"][0]["id"] == task["id"]

        assert await eventually(listed)
    assert receiver.at(path) == []


async def test_expiry_passed_before_start_expires_the_task(
    servers: Servers, receiver, path
) -> None:
    settings = servers.settings(f"late-{uuid.uuid4().hex[:8]}")
    api = await servers.api(settings)
    hooks = path + "/hooks"
    receiver.script(hooks, 200)
    async with api.client() as client:
        body = {
            "target": receiver.script(path, 200),
            "expires_after": "PT1S",
            "notifications": receiver.url(hooks),
        }
        task = (await client.post("/v1/tasks", json=body)).json()
        await asyncio.sleep(1.5)
        await servers.worker(settings)  # the first worker arrives after the expiry
        done = await wait_status(client, task["id"], "expired")
    assert done["attempts"] == 0
    assert done["error"]["code"] == "expired"
    assert receiver.at(path) == []
    events = await eventually(
        lambda: asyncio.sleep(0, [r.json()["event"] for r in receiver.at(hooks)])
    )
    assert events == ["task.expired"]


async def test_scheduled_task_reads_queued_once_due_even_with_no_worker(
    servers: Servers, receiver, path
) -> None:
    api = await servers.api(servers.settings(f"idle-{uuid.uuid4().hex[:8]}"))
    async with api.client() as client:
        body = {"target": receiver.script(path, 200), "execute_after": "PT1S"}
        task = (await client.post("/v1/tasks", json=body)).json()
        assert task["status"] == "scheduled"
        await asyncio.sleep(1.2)
        assert (await client.get(f"/v1/tasks/{task['id']}")).json()["status"] == "queued"


async def test_expiry_while_no_activity_worker_takes_the_attempt_expires_the_task(
    servers: Servers, temporal: WorkflowEnvironment, receiver, path
) -> None:
    settings = servers.settings(f"wf-only-{uuid.uuid4().hex[:8]}")
    api = await servers.api(settings)
    # A worker that runs workflows but no activities: the first attempt is scheduled and
    # never starts, so the task's expiry passes while it waits for one.
    async with Worker(temporal.client, task_queue=settings.task_queue, workflows=[TaskWorkflow]):
        async with api.client() as client:
            body = {"target": receiver.script(path, 200), "expires_after": "PT2S"}
            task = (await client.post("/v1/tasks", json=body)).json()
            done = await wait_status(client, task["id"], "expired")
    assert done["attempts"] == 0 and done["last_attempt_at"] is None
    assert done["error"]["code"] == "expired"
    assert receiver.at(path) == []
    described = await temporal.client.get_workflow_handle(task["id"]).describe()
    assert described.typed_search_attributes.get(sa.TASK_STARTED_AT) is None
