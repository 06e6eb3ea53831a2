"""What an operator does to a task's workflow in the Web UI or CLI shows up in the API."""

from __future__ import annotations

import asyncio

from temporalio.testing import WorkflowEnvironment

from tests.api.test_taskhook_lifecycle import wait_status
from tests.receiver import Receiver


async def test_terminated_workflow_reads_cancelled_with_the_reason(
    acme, temporal: WorkflowEnvironment, receiver: Receiver, path: str
) -> None:
    body = {"target": receiver.script(path, 200), "execute_after": "PT1H"}
    task = (await acme.post("/v1/tasks", json=body)).json()
    await temporal.client.get_workflow_handle(task["id"]).terminate("operator says no")
    done = await wait_status(acme, task["id"], "cancelled")
    assert done["error"]["code"] == "terminated"
    assert done["completed_at"] is not None


async def test_workflow_cancel_from_the_ui_cancels_a_scheduled_task(
    acme, temporal: WorkflowEnvironment, receiver: Receiver, path: str
) -> None:
    body = {"target": receiver.script(path, 200), "execute_after": "PT1H"}
    task = (await acme.post("/v1/tasks", json=body)).json()
    await temporal.client.get_workflow_handle(task["id"]).cancel()
    done = await wait_status(acme, task["id"], "cancelled")
    assert done["attempts"] == 0
    assert receiver.at(path) == []


async def test_workflow_cancel_after_completion_keeps_the_task_completed(
    acme, temporal: WorkflowEnvironment, receiver: Receiver, path: str
) -> None:
    hooks = path + "/hooks"
    receiver.script(hooks, 500)  # the workflow stays open, retrying this notification
    body = {
        "target": receiver.script(path, 200),
        "notifications": {"url": receiver.url(hooks), "events": ["task.completed"]},
    }
    task = (await acme.post("/v1/tasks", json=body)).json()
    await wait_status(acme, task["id"], "completed")
    await temporal.client.get_workflow_handle(task["id"]).cancel()
    await asyncio.sleep(1.0)
    after = (await acme.get(f"/v1/tasks/{task['id']}")).json()
    assert after["status"] == "completed" and after["error"] is None
