"""A team's own worker in its own process (tests/team_worker.py) runs a Python handler
registered through TasklanePlugin; the task is started and read back with TasklaneClient."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from tasklane.client import TasklaneClient
from tasklane.model import Status
from tasklane.task_store import TaskView
from tasklane.task_types import TaskType
from tests.conftest import REPO, Api, eventually
from tests.team_worker import TEAM_REPORT, team_report


@dataclass
class TeamWorker:
    process: asyncio.subprocess.Process
    task_queue: str

    @property
    def pid(self) -> int:
        return self.process.pid


@pytest.fixture
async def team(temporal: WorkflowEnvironment) -> AsyncIterator[TeamWorker]:
    """tests/team_worker.py on a task queue of this test's own, polling once it yields."""
    queue = f"team-{uuid.uuid4().hex[:8]}"
    address = temporal.client.service_client.config.target_host
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO / "tests" / "team_worker.py"),
        address,
        queue,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
    assert line.decode().strip() == f"polling {queue}"
    yield TeamWorker(process, queue)
    if process.returncode is None:
        process.kill()
        await process.wait()


def tasks_for(
    temporal: WorkflowEnvironment, team: TeamWorker, workflow_queue: str
) -> TasklaneClient:
    # The handler given here is never called in this process: the type only tells the
    # workflow that its attempts run on the team's queue.
    report = TaskType(TEAM_REPORT, handler=team_report, task_queue=team.task_queue)
    return TasklaneClient(temporal.client, task_types=[report], task_queue=workflow_queue)


async def finished(tasks: TasklaneClient, task_id: str) -> TaskView:
    async def check() -> TaskView | None:
        view = await tasks.get(task_id)
        return view if view.state.status.finished else None

    return await eventually(check)  # type: ignore[no-any-return]


async def identities(temporal: WorkflowEnvironment, task_id: str) -> dict[str, set[str]]:
    """The identity of the workers that ran the workflow's tasks and its attempts."""
    history = await temporal.client.get_workflow_handle(task_id).fetch_history()
    found: dict[str, set[str]] = {"workflow": set(), "activity": set()}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            found["workflow"].add(event.workflow_task_completed_event_attributes.identity)
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            found["activity"].add(event.activity_task_started_event_attributes.identity)
    return found


async def test_team_handler_result_meta_and_result_bytes_are_read_back(
    stack: Api, temporal: WorkflowEnvironment, team: TeamWorker
) -> None:
    tasks = tasks_for(temporal, team, stack.settings.task_queue)
    task_id = await tasks.start(
        TEAM_REPORT, organisation="acme", user="Bob Marley", payload={"hold_s": 0.1}
    )
    view = await finished(tasks, task_id)
    assert view.state.status == Status.COMPLETED and view.state.attempts == 1
    assert view.state.result_meta == {"count": 3, "pid": team.pid}
    [result] = await tasks.results(task_id)
    assert result.info.content_type == "text/plain"
    assert result.info.identifier == "report.txt"
    assert await tasks.result_data(task_id) == b"report for Bob Marley"


async def test_handler_runs_in_the_team_process_and_the_workflow_on_the_stack(
    stack: Api, temporal: WorkflowEnvironment, team: TeamWorker
) -> None:
    tasks = tasks_for(temporal, team, stack.settings.task_queue)
    task_id = await tasks.start(TEAM_REPORT, organisation="acme", payload={"hold_s": 0.1})
    view = await finished(tasks, task_id)
    assert view.state.result_meta is not None
    handler_pid = view.state.result_meta["pid"]
    assert handler_pid == team.pid != os.getpid()
    ran = await identities(temporal, task_id)
    assert {i.split("@")[0] for i in ran["activity"]} == {str(team.pid)}
    assert str(team.pid) not in {i.split("@")[0] for i in ran["workflow"]}


async def test_handler_heartbeat_shows_on_the_pending_attempt(
    stack: Api, temporal: WorkflowEnvironment, team: TeamWorker
) -> None:
    tasks = tasks_for(temporal, team, stack.settings.task_queue)
    task_id = await tasks.start(TEAM_REPORT, organisation="acme", payload={"hold_s": 4})
    handle = temporal.client.get_workflow_handle(task_id)

    async def heartbeat_details() -> list[Any] | None:
        pending = (await handle.describe()).raw_description.pending_activities
        if not pending or not pending[0].heartbeat_details.payloads:
            return None
        assert pending[0].activity_type.name == "run_handler"
        return await temporal.client.data_converter.decode(pending[0].heartbeat_details.payloads)

    assert await eventually(heartbeat_details, timeout_s=4) == [{"progress": 50}]
    assert (await finished(tasks, task_id)).state.status == Status.COMPLETED


async def test_team_queue_can_run_the_workflow_too(
    temporal: WorkflowEnvironment, team: TeamWorker
) -> None:
    tasks = tasks_for(temporal, team, team.task_queue)
    task_id = await tasks.start(
        TEAM_REPORT, organisation="acme", user="Alice", payload={"hold_s": 0.1}
    )
    view = await finished(tasks, task_id)
    assert view.state.status == Status.COMPLETED
    assert view.state.result_meta == {"count": 3, "pid": team.pid}
    assert await tasks.result_data(task_id) == b"report for Alice"
    ran = await identities(temporal, task_id)
    assert {i.split("@")[0] for i in ran["workflow"] | ran["activity"]} == {str(team.pid)}


async def test_sigterm_stops_the_team_worker_cleanly(team: TeamWorker) -> None:
    team.process.terminate()
    assert await asyncio.wait_for(team.process.wait(), timeout=15) == 0
