"""Hour- and day-long waits on the time-skipping test server: the whole default retry
schedule, expiry while retrying, a start an hour ahead, and a group task an hour ahead whose
group changes meanwhile (the group is read when the task becomes due)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.schemas.taskhook import SubmitTask, build_task
from tasklane import binaries
from tasklane.config import ApiKey, Limits, SigningConfig, TasklaneConfig
from tasklane.group_store import GroupStore
from tasklane.model import Status, TaskOutcome, TaskState
from tasklane.plugin import TasklanePlugin
from tasklane.task_store import TaskStore
from tasklane.temporal_client import ensure_search_attributes
from tasklane.url_groups import GroupChange, NewGroup
from tests.receiver import Receiver

KEY = ApiKey(token_sha256="0" * 64, organisation="acme")


@pytest.fixture(scope="module")
async def skipping() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binaries.temporal_test_server()
    )
    await ensure_search_attributes(env.client)
    yield env
    await env.shutdown()


@pytest.fixture
async def queue(skipping: WorkflowEnvironment) -> AsyncIterator[str]:
    name = f"skip-{uuid.uuid4().hex[:8]}"
    config = TasklaneConfig(allow_private_targets=True, signing=SigningConfig(secrets=["s"]))
    async with Worker(skipping.client, task_queue=name, plugins=[TasklanePlugin(config)]):
        yield name


async def submit(env: WorkflowEnvironment, queue: str, body: dict) -> WorkflowHandle:
    spec, state = build_task(
        SubmitTask.model_validate(body),
        KEY,
        Limits(),
        allow_private=True,
        now=await env.get_current_time(),
    )
    await TaskStore(env.client, queue).submit(spec, state)
    return env.client.get_workflow_handle(spec.task_id, result_type=TaskOutcome)


async def run_to_end(
    env: WorkflowEnvironment, handle: WorkflowHandle, step: timedelta
) -> TaskOutcome:
    """Skip time in `step`s until the workflow closes (handles we did not start do not
    skip time on their own), then return its outcome."""
    for _ in range(2000):
        description = await handle.describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            return await handle.result()  # type: ignore[no-any-return]
        await env.sleep(step)
    raise AssertionError("the workflow did not close")


def schedule_bounds(retries: int) -> tuple[float, float]:
    """Least and most total delay of the Taskhook schedule: n**4 + 15 + rand(0..9) * (n + 1)."""
    low = sum(n**4 + 15 for n in range(1, retries + 1))
    return low, low + sum(9 * (n + 1) for n in range(1, retries + 1))


async def test_default_schedule_makes_25_attempts_over_about_19_days(
    skipping: WorkflowEnvironment, queue: str, receiver: Receiver, path: str
) -> None:
    target = receiver.script(path, 500)
    started = await skipping.get_current_time()
    handle = await submit(skipping, queue, {"target": target})
    outcome = await run_to_end(skipping, handle, timedelta(hours=1))
    elapsed = (await skipping.get_current_time() - started).total_seconds()

    assert outcome.status == Status.FAILED and outcome.attempts == 25
    attempts = [int(r.headers["X-Tasklane-Attempt"]) for r in receiver.at(path)]
    assert attempts == list(range(1, 26))
    low, high = schedule_bounds(24)
    assert low <= elapsed <= high + 3600, (low, elapsed, high)


async def test_expiry_reached_while_retrying_abandons_the_task(
    skipping: WorkflowEnvironment, queue: str, receiver: Receiver, path: str
) -> None:
    hooks = path + "/hooks"
    receiver.script(hooks, 200)
    body = {
        "target": receiver.script(path, 500),
        "expires_after": "P1D",
        "notifications": {"url": receiver.url(hooks), "events": ["task.failed"]},
    }
    started = await skipping.get_current_time()
    handle = await submit(skipping, queue, body)
    outcome = await run_to_end(skipping, handle, timedelta(minutes=10))
    elapsed = await skipping.get_current_time() - started

    assert outcome.status == Status.ABANDONED
    assert outcome.error is not None and outcome.error.code == "abandoned"
    # Retries up to the one whose delay would pass the expiry: cumulative delay < 1 day.
    assert 10 <= outcome.attempts <= 17
    assert timedelta(days=1) <= elapsed <= timedelta(days=1, minutes=10)
    (event,) = [r.json() for r in receiver.at(hooks)]
    assert event["event"] == "task.failed" and event["status"] == "abandoned"
    assert event["previous_status"] == "retrying"


async def test_execute_after_an_hour_runs_after_an_hour(
    skipping: WorkflowEnvironment, queue: str, receiver: Receiver, path: str
) -> None:
    started = await skipping.get_current_time()
    handle = await submit(
        skipping, queue, {"target": receiver.script(path, 200), "execute_after": "PT1H"}
    )
    outcome = await run_to_end(skipping, handle, timedelta(minutes=1))
    elapsed = await skipping.get_current_time() - started
    assert outcome.status == Status.COMPLETED
    assert timedelta(hours=1) <= elapsed <= timedelta(hours=1, minutes=1)
    assert len(receiver.at(path)) == 1


async def test_patch_before_due_decides_the_fan_out(
    skipping: WorkflowEnvironment,
    queue: str,
    receiver: Receiver,
    path: str,
) -> None:
    groups = GroupStore(skipping.client, queue)
    name = f"later-{uuid.uuid4().hex[:8]}"
    first = [receiver.script(f"{path}/old{i}", 200) for i in range(5)]
    group = await groups.create("acme", NewGroup(name, first))
    handle = await submit(
        skipping, queue, {"target": f"group:{name}", "execute_after": "PT1H", "payload": {"n": 1}}
    )
    await skipping.sleep(timedelta(minutes=30))
    assert receiver.at(f"{path}/old0") == []

    now = [receiver.script(f"{path}/new{i}", 200) for i in range(3)]
    await groups.change("acme", GroupChange(group.id, urls=now))
    outcome = await run_to_end(skipping, handle, timedelta(minutes=10))

    assert outcome.status == Status.COMPLETED
    for i in range(3):
        assert [r.json() for r in receiver.at(f"{path}/new{i}")] == [{"n": 1}]
    assert all(receiver.at(f"{path}/old{i}") == [] for i in range(5))
    state = await handle.query("state", result_type=TaskState)
    assert state.group_info.as_dict() == {
        "total_tasks": 3,
        "completed": 3,
        "failed": 0,
        "remaining": 0,
    }
